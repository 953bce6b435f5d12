package public

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/web/httpx"
	"github.com/sunsetops/sunset/web/intake"
)

// The public pages of a service: its status and announcement page (/p/{name}), the Atom feed,
// the announcements as JSON and the embeddable banner script. They need no login, speak English
// and Simplified Chinese, and load nothing from elsewhere.

//go:embed templates/public.html templates/unsubscribe.html assets/banner.js
var publicFS embed.FS

var (
	publicTemplate      = template.Must(template.ParseFS(publicFS, "templates/public.html"))
	unsubscribeTemplate = template.Must(template.ParseFS(publicFS, "templates/unsubscribe.html"))
	bannerScript        = mustRead(publicFS, "assets/banner.js")
)

func mustRead(fsys embed.FS, name string) []byte {
	b, err := fsys.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

// publicText holds the public pages' words in one language.
type publicText struct {
	Language, Status, Happening, Milestones, Milestone, When, Passed, Next, Alternatives, Guide string
	Features, Announcements, NoAnnouncements, Feedback, FeedbackHint, Survey, SurveyHint, Feed  string
	Docs, Title, Paused, Cancelled                                                              string
	States                                                                                      map[engine.State]string
	MilestoneNames                                                                              map[string]string
	WillStop, Stopped                                                                           string
}

var publicTexts = map[string]publicText{
	"en": {
		Language: "Language", Status: "Status", Happening: "What is happening", Milestones: "Dates",
		Milestone: "Step", When: "When", Passed: "done", Next: "next",
		Alternatives: "Where to go instead", Guide: "Migration guide", Features: "Parts retired earlier",
		Announcements: "Announcements", NoAnnouncements: "Nothing has been announced yet.",
		Feedback: "Tell us how this affects you", FeedbackHint: "We read every message and may slow down if users are hurt.",
		Survey: "Survey after the shutdown", SurveyHint: "Four short questions once the service has closed.",
		Feed: "Atom feed", Docs: "Documentation", Title: "Retirement of",
		Paused: "The retirement is paused for now; the dates below may move.", Cancelled: "The retirement has been cancelled: the service stays.",
		WillStop: "will be shut down on", Stopped: "was shut down on",
		States: map[engine.State]string{
			engine.StateDraft: "being planned", engine.StateScheduled: "scheduled", engine.StateAnnounced: "announced",
			engine.StateDeprecating: "deprecated", engine.StateReadOnly: "read-only", engine.StateShutDown: "shut down",
			engine.StateEvaluated: "shut down", engine.StatePaused: "paused", engine.StateCancelled: "cancelled",
		},
		MilestoneNames: map[string]string{
			plan.Announce: "Announcement", plan.Deprecate: "Deprecated", plan.ReadOnly: "Read-only",
			plan.Shutdown: "Shutdown", plan.DeleteData: "Data deleted",
		},
	},
	"zh-Hans": {
		Language: "语言", Status: "状态", Happening: "发生了什么", Milestones: "日程",
		Milestone: "阶段", When: "时间", Passed: "已完成", Next: "下一步",
		Alternatives: "替代方案", Guide: "迁移指南", Features: "提前下线的功能",
		Announcements: "公告", NoAnnouncements: "暂无公告。",
		Feedback: "告诉我们这对您的影响", FeedbackHint: "我们会阅读每一条留言；如果用户受到影响，我们可能放慢节奏。",
		Survey: "下线后的问卷", SurveyHint: "服务停止后的四个简短问题。",
		Feed: "Atom 订阅", Docs: "文档", Title: "下线公告：",
		Paused: "下线已暂停，以下日期可能调整。", Cancelled: "下线已取消，服务将继续提供。",
		WillStop: "将于以下时间停止服务：", Stopped: "已停止服务，时间：",
		States: map[engine.State]string{
			engine.StateDraft: "规划中", engine.StateScheduled: "已排期", engine.StateAnnounced: "已公告",
			engine.StateDeprecating: "已弃用", engine.StateReadOnly: "只读", engine.StateShutDown: "已停止",
			engine.StateEvaluated: "已停止", engine.StatePaused: "已暂停", engine.StateCancelled: "已取消",
		},
		MilestoneNames: map[string]string{
			plan.Announce: "公告", plan.Deprecate: "弃用", plan.ReadOnly: "只读",
			plan.Shutdown: "停止服务", plan.DeleteData: "删除数据",
		},
	},
}

// notifyLocale maps a page language ("en", "zh-Hans") to notify's locale ("en", "zh").
func notifyLocale(lang string) string {
	if lang == "zh-Hans" {
		return "zh"
	}
	return "en"
}

// publicMilestone is one milestone on the status page.
type publicMilestone struct {
	Name, Label, When, ISO string
	Passed, Next           bool
}

// publicAnnouncement is one announcement, rendered in the page's language.
type publicAnnouncement struct {
	ID, Title, Text, When, ISO string
	At                         time.Time
	Notice                     notify.Announcement
}

// publicPage is what templates/public.html shows.
type publicPage struct {
	Lang, Nonce, Name, Title, Description, Docs, State, StateKey, Summary string
	T                                                                     publicText
	Paused, Cancelled                                                     bool
	Milestones                                                            []publicMilestone
	Alternatives                                                          []plan.AlternativeData
	Features                                                              []plan.FeatureData
	Announcements                                                         []publicAnnouncement
	FeedbackURL, SurveyURL, FeedURL, Self                                 string
	// Suspect says that the pause followed a suspect burst of feedback (intake.SuspectPause).
	Suspect string
}

// publicURL is where the public pages are served: the Server's PublicURL, or the scheme and host
// the request came in on.
func (s *Server) publicURL(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// publicService gathers what every public page of the sunset named in the path shows: its plan,
// its state and its announcements rendered in lang, newest first.
func (s *Server) publicService(r *http.Request, lang string) (*plan.Plan, *engine.Status, []publicAnnouncement, error) {
	name := r.PathValue("name")
	p, _, err := s.Engine.Plan(r.Context(), name)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := s.Engine.Status(r.Context(), name)
	if err != nil {
		return nil, nil, nil, err
	}
	var anns []notify.Announcement
	if s.Notices != nil {
		if anns, err = s.Notices.Announcements(r.Context(), name); err != nil {
			return nil, nil, nil, err
		}
	}
	out := make([]publicAnnouncement, 0, len(anns))
	base := s.publicURL(r)
	var rr notify.Renderer // per request: its cache is keyed by the plan value
	for _, a := range anns {
		pa, err := renderAnnouncement(&rr, p, a, notifyLocale(lang), base)
		if err != nil {
			return nil, nil, nil, err
		}
		out = append(out, pa)
	}
	return p, st, out, nil
}

// renderAnnouncement renders announcement a in locale as the public pages show it: the notice's
// subject, and its body without the greeting addressed to a recipient.
func renderAnnouncement(rr *notify.Renderer, p *plan.Plan, a notify.Announcement, locale, base string) (publicAnnouncement, error) {
	m, err := rr.Render(p, notify.RenderRequest{Template: a.Template, Notice: a.Notice, Mandatory: true,
		Locale: locale, PublicURL: base, Changes: a.Changes})
	if err != nil {
		return publicAnnouncement{}, err
	}
	return publicAnnouncement{ID: announcementID(a.Notice), Title: m.Subject, Text: withoutGreeting(m.Text),
		When: notify.FormatInstant(a.At, p.Location(), locale), ISO: a.At.UTC().Format(time.RFC3339), At: a.At, Notice: a}, nil
}

// announcementID is the fragment id of a notice on the status page: "notice-2", "replan-3".
func announcementID(notice string) string {
	return strings.NewReplacer("/", "-", " ", "-").Replace(notice)
}

// withoutGreeting drops a message's first paragraph when it is the greeting ("Hello there,",
// "用户，您好："): on a public page nobody is addressed by name.
func withoutGreeting(text string) string {
	first, rest, ok := strings.Cut(strings.TrimSpace(text), "\n\n")
	if ok && len([]rune(first)) <= 60 && !strings.Contains(first, "\n") &&
		(strings.HasSuffix(first, ",") || strings.HasSuffix(first, "：") || strings.HasSuffix(first, ":")) {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(text)
}

// milestones lists p's milestones in time order, in the service's zone, as readers of locale
// write instants; the first one ahead of now is marked next.
func milestones(p *plan.Plan, t publicText, locale string, now time.Time) []publicMilestone {
	ms, err := p.MilestoneTimes()
	if err != nil {
		return nil
	}
	out := make([]publicMilestone, 0, len(ms))
	for name, at := range ms {
		label := t.MilestoneNames[name]
		if label == "" {
			label = name
		}
		out = append(out, publicMilestone{Name: name, Label: label, When: notify.FormatInstant(at, p.Location(), locale),
			ISO: at.UTC().Format(time.RFC3339), Passed: !at.After(now)})
	}
	slices.SortFunc(out, func(a, b publicMilestone) int {
		return cmp.Or(strings.Compare(a.ISO, b.ISO), strings.Compare(a.Name, b.Name))
	})
	for i := range out {
		if !out[i].Passed {
			out[i].Next = true
			break
		}
	}
	return out
}

// handlePublicPage serves GET /p/{name}: the service's public status and announcement page.
func (s *Server) handlePublicPage(w http.ResponseWriter, r *http.Request) {
	lang := httpx.PageLanguage(r)
	p, st, anns, err := s.publicService(r, lang)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	locale := notifyLocale(lang)
	t := publicTexts[lang]
	base := s.publicURL(r)
	esc := url.PathEscape(p.Service.Name)
	nd := notify.NoticeData(p, notify.RenderRequest{Mandatory: true, PublicURL: base}, locale)
	pg := publicPage{
		Lang: lang, Nonce: httpx.Nonce(), Name: p.Service.Name, Title: nd.Service.Title, Description: nd.Service.Description,
		Docs: p.Service.Docs, State: t.States[st.State], StateKey: string(st.State), T: t,
		Paused: st.State == engine.StatePaused, Cancelled: st.State == engine.StateCancelled,
		Milestones: milestones(p, t, locale, s.now()), Alternatives: nd.Alternatives, Features: nd.Features,
		Announcements: anns, FeedbackURL: "/feedback/" + esc, SurveyURL: "/survey/" + esc,
		FeedURL: "/p/" + esc + "/feed.atom", Self: "/p/" + esc,
	}
	if pg.Paused {
		if sp, err := intake.SuspectPause(r.Context(), s.Engine, p.Service.Name); err != nil {
			s.logger().LogAttrs(r.Context(), slog.LevelWarn, "public page: suspect mark left out", slog.String("sunset", p.Service.Name), slog.Any("err", err))
		} else if sp != nil {
			pg.Suspect = suspectTexts[lang]
		}
	}
	if shutdown := nd.Milestones[plan.Shutdown]; shutdown != "" {
		verb := t.WillStop
		if st.State == engine.StateShutDown || st.State == engine.StateEvaluated {
			verb = t.Stopped
		}
		sep := " "
		if locale == "zh" {
			sep = ""
		}
		pg.Summary = pg.Title + sep + verb + sep + shutdown
		if locale == "en" {
			pg.Summary += "."
		} else {
			pg.Summary += "。"
		}
	}
	var buf bytes.Buffer
	if err := publicTemplate.Execute(&buf, pg); err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteHTML(w, http.StatusOK, lang, "public, max-age=60", buf.Bytes(), func(h http.Header) { httpx.SetPageSecurity(h, pg.Nonce) })
}

// setPublicCORS lets any website read an answer meant to be embedded (the banner script and the
// announcements it fetches), without credentials.
func setPublicCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
}

// handleBannerScript serves GET /p/{name}/banner.js: a dependency-free script that a website
// embeds with <script src=".../p/NAME/banner.js" async></script>. It fetches the announcements
// next to it and shows the newest banner notice in the reader's language until dismissed.
func (s *Server) handleBannerScript(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Engine.Status(r.Context(), r.PathValue("name")); err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	setPublicCORS(h)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(bannerScript)
}

// handlePublicAnnouncements serves GET /p/{name}/announcements.json, readable from any origin.
func (s *Server) handlePublicAnnouncements(w http.ResponseWriter, r *http.Request) {
	p, st, en, err := s.publicService(r, "en")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	_, _, zh, err := s.publicService(r, "zh-Hans")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.publicURL(r)
	esc := url.PathEscape(p.Service.Name)
	out := client.PublicAnnouncements{Sunset: p.Service.Name, Title: p.Service.Title, State: string(st.State),
		StatusURL: base + "/p/" + esc, FeedbackURL: base + "/feedback/" + esc, FeedURL: base + "/p/" + esc + "/feed.atom",
		Announcements: make([]client.PublicAnnouncement, 0, len(en))}
	if out.Title.EN == "" && out.Title.ZH == "" {
		out.Title.EN = p.Service.Name
	}
	if ms, err := p.MilestoneTimes(); err == nil {
		out.Shutdown = ms[plan.Shutdown].UTC()
	}
	for i, a := range en {
		n := a.Notice
		out.Announcements = append(out.Announcements, client.PublicAnnouncement{ID: a.ID, Notice: n.Notice, Template: n.Template,
			Channels: n.Channels, Banner: slices.Contains(n.Channels, "banner"), Mandatory: n.Mandatory, At: n.At.UTC(),
			Title: plan.Text{EN: a.Title, ZH: zh[i].Title}, Text: plan.Text{EN: a.Text, ZH: zh[i].Text},
			URL: out.StatusURL + "#" + a.ID})
	}
	body, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Vary", "Accept-Encoding")
	setPublicCORS(h)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// suspectTexts say, on the public page, that the pause followed a suspect burst.
var suspectTexts = map[string]string{
	"en":      "The pause followed a burst of messages from addresses we had not seen before; the team is checking whether they are genuine.",
	"zh-Hans": "此次暂停源于一批来自此前从未出现过的地址的留言；团队正在核实这些留言是否真实。",
}
