package web

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/text/language"

	"github.com/sunsetops/sunset/engine"
)

//go:embed templates/index.html
var templateFS embed.FS

// indexTemplate is the status page; parsed once, it is read-only afterwards.
var indexTemplate = template.Must(template.ParseFS(templateFS, "templates/index.html"))

// pageText holds the status page's words in one language.
type pageText struct {
	Title, Intro, Language, Empty, Caption, Name, Service, State, Next, Awaiting, Links string
	API, OpenAPI, Metrics, Health, Failed                                               string
	States                                                                              map[engine.State]string
	Kinds                                                                               map[string]string
}

// pageTexts are the status page's words by language tag: English and Simplified Chinese.
var pageTexts = map[string]pageText{
	"en": {
		Title:    "Sunset: services being retired",
		Intro:    "Every sunset this server carries out, with its state and its next step.",
		Language: "Language",
		Empty:    "No sunset yet. Apply a plan with: sunset apply sunset.yaml",
		Caption:  "Sunsets",
		Name:     "Name",
		Service:  "Service",
		State:    "State",
		Next:     "Next action",
		Awaiting: "Awaiting sign-off",
		Links:    "For machines",
		API:      "REST API (JSON)",
		OpenAPI:  "OpenAPI description",
		Metrics:  "Prometheus metrics",
		Health:   "Health check",
		Failed:   "The list of sunsets cannot be shown right now; the error has been logged.",
		States: map[engine.State]string{
			engine.StateDraft: "draft", engine.StateScheduled: "scheduled", engine.StateAnnounced: "announced",
			engine.StateDeprecating: "deprecating", engine.StateReadOnly: "read-only", engine.StateShutDown: "shut down",
			engine.StateEvaluated: "evaluated", engine.StatePaused: "paused", engine.StateCancelled: "cancelled",
		},
		Kinds: map[string]string{
			"milestone": "milestone", "feature": "feature", "brownout": "brownout", "notice": "notice",
			"guardrail": "guardrail check", "runbook": "runbook", "data": "data",
		},
	},
	"zh-Hans": {
		Title:    "Sunset：正在下线的服务",
		Intro:    "本服务器正在执行的所有下线计划，及其状态和下一步。",
		Language: "语言",
		Empty:    "还没有下线计划。应用一个计划：sunset apply sunset.yaml",
		Caption:  "下线计划",
		Name:     "名称",
		Service:  "服务",
		State:    "状态",
		Next:     "下一步",
		Awaiting: "待签核",
		Links:    "供程序使用",
		API:      "REST API（JSON）",
		OpenAPI:  "OpenAPI 描述",
		Metrics:  "Prometheus 指标",
		Health:   "健康检查",
		Failed:   "暂时无法显示下线计划列表；错误已记录。",
		States: map[engine.State]string{
			engine.StateDraft: "草稿", engine.StateScheduled: "已排期", engine.StateAnnounced: "已公告",
			engine.StateDeprecating: "弃用中", engine.StateReadOnly: "只读", engine.StateShutDown: "已关停",
			engine.StateEvaluated: "已评估", engine.StatePaused: "已暂停", engine.StateCancelled: "已取消",
		},
		Kinds: map[string]string{
			"milestone": "里程碑", "feature": "功能", "brownout": "限流演练", "notice": "通知",
			"guardrail": "护栏检查", "runbook": "运行手册", "data": "数据",
		},
	},
}

// pageLanguages are the page's languages, the first being the fallback.
var pageLanguages = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// pageLanguage picks the page's language tag ("en" or "zh-Hans"): ?lang= first, then
// Accept-Language, then English.
func pageLanguage(r *http.Request) string {
	prefs := []string{r.URL.Query().Get("lang"), r.Header.Get("Accept-Language")}
	for _, p := range prefs {
		if p == "" {
			continue
		}
		tags, _, err := language.ParseAcceptLanguage(p)
		if err != nil || len(tags) == 0 {
			continue
		}
		_, i, conf := pageLanguages.Match(tags...)
		if conf == language.No {
			continue
		}
		if i == 1 {
			return "zh-Hans"
		}
		return "en"
	}
	return "en"
}

// indexRow is one sunset on the status page.
type indexRow struct {
	Name, Title, StateText              string
	NextName, NextKind, NextAt, NextISO string
	Awaiting                            []string
}

// handleIndex serves GET /: the status page, listing every sunset with its state and next action.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	lang := pageLanguage(r)
	t := pageTexts[lang]
	data := struct {
		Lang, Version, Error string
		T                    pageText
		Rows                 []indexRow
	}{Lang: lang, Version: s.Version, T: t}
	status := http.StatusOK
	list, err := s.Engine.Statuses(r.Context())
	if err != nil {
		s.logger().LogAttrs(r.Context(), slog.LevelError, "status page", slog.Any("err", err))
		data.Error, status = t.Failed, http.StatusInternalServerError
	}
	for _, st := range list {
		if st == nil || st.Sunset == nil {
			continue
		}
		row := indexRow{Name: st.Name, Title: st.Title.In(lang), StateText: string(st.State), Awaiting: st.Awaiting}
		if row.Title == "" {
			row.Title = st.Service
		}
		if txt, ok := t.States[st.State]; ok {
			row.StateText = txt
		}
		if st.Next != nil {
			loc, err := time.LoadLocation(st.TimeZone)
			if err != nil {
				loc = time.UTC
			}
			at := st.Next.At.In(loc)
			row.NextName, row.NextKind = st.Next.Name, st.Next.Kind
			if txt, ok := t.Kinds[st.Next.Kind]; ok {
				row.NextKind = txt
			}
			// The zone's name, not its abbreviation: CST is China and also the American Central.
			row.NextAt = at.Format("2006-01-02 15:04") + " " + loc.String()
			row.NextISO = at.Format(time.RFC3339)
		}
		data.Rows = append(data.Rows, row)
	}
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, data); err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Vary", "Accept-Language")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
