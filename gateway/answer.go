package gateway

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/sunsetops/sunset/policy"
)

// ProblemTypeBase is the base of the type URI of every problem the gateway answers; the phase is
// its fragment. docs/gateway.md explains each type.
const ProblemTypeBase = "https://github.com/sunsetops/sunset/blob/main/docs/gateway.md#"

// Problem is the RFC 9457 problem details body of a refused call, with the extension members a
// client needs to move on: the sunset date, the alternatives, documentation, the migration guide
// and where to give feedback.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// Phase is the phase that refused the call: brownout, read_only, gone, redirect, or
	// upstream for a failing service.
	Phase   string `json:"phase"`
	Service string `json:"service,omitempty"`
	Feature string `json:"feature,omitempty"`
	// Sunset is when the feature is (or was) gone, RFC 3339.
	Sunset string `json:"sunset,omitempty"`
	// RetryAfter is the end of a brownout window, RFC 3339.
	RetryAfter   string        `json:"retry_after,omitempty"`
	Location     string        `json:"location,omitempty"`
	Alternatives []Alternative `json:"alternatives,omitempty"`
	Docs         string        `json:"docs,omitempty"`
	Guide        string        `json:"guide,omitempty"`
	Feedback     string        `json:"feedback,omitempty"`
	// Simulated is true for an answer rehearsed with the Sunset-Simulate header.
	Simulated bool `json:"simulated,omitempty"`
}

// Alternative is where to go instead.
type Alternative struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Guide string `json:"guide,omitempty"`
}

// texts are the sentences of answers in one language.
type texts struct {
	Titles                                    map[policy.Phase]string
	Details                                   map[policy.Phase]string // fmt: what, date, extra
	Of                                        string                  // fmt: feature, service
	Instead, Guide, Docs, Feedback, Simulated string
	DateLayout                                string
	// UpstreamTitle and UpstreamDetail word what the gateway answers by itself, by status: a
	// failed upstream call (502, 504), a refused method (405) and an ambiguous path (400).
	UpstreamTitle, UpstreamDetail map[int]string
}

var languages = map[string]*texts{
	"en": {
		Titles: map[policy.Phase]string{
			policy.Gone:     "This API has been retired",
			policy.Brownout: "Temporarily unavailable: scheduled brownout",
			policy.ReadOnly: "The service is read-only",
			policy.Redirect: "This API has moved",
		},
		Details: map[policy.Phase]string{
			policy.Gone:     "%[1]s was shut down on %[2]s.%[3]s",
			policy.Brownout: "%[1]s is unavailable on purpose until %[4]s, to warn its callers: it shuts down on %[2]s.%[3]s",
			policy.ReadOnly: "%[1]s accepts only reads (GET, HEAD, OPTIONS) now; it shuts down on %[2]s.%[3]s",
			policy.Redirect: "%[1]s was replaced on %[2]s; it is now served at the address in Location.%[3]s",
		},
		Of:         "%s of %s",
		Instead:    "Use instead:",
		Guide:      "migration guide",
		Docs:       "About this sunset",
		Feedback:   "Tell us how this affects you",
		Simulated:  "This is a rehearsal requested with the Sunset-Simulate header; the service is not in this phase yet.",
		DateLayout: "2006-01-02 15:04 MST",
		UpstreamTitle: map[int]string{
			http.StatusBadGateway:       "The service cannot be reached",
			http.StatusGatewayTimeout:   "The service did not answer in time",
			http.StatusMethodNotAllowed: "Method not allowed",
			http.StatusBadRequest:       "Ambiguous request path",
		},
		UpstreamDetail: map[int]string{
			http.StatusBadGateway:       "The service behind the gateway could not be reached. Try again in a few minutes.",
			http.StatusGatewayTimeout:   "The service behind the gateway did not answer in time. Try again in a few minutes.",
			http.StatusMethodNotAllowed: "This gateway carries only the methods listed in Allow; never CONNECT or TRACE.",
			http.StatusBadRequest:       "The path of this request means different things depending on who decodes it (an escaped slash, backslash, semicolon or dot segment, a double escape, or a control character), so it is not forwarded. Send the path without these escapes.",
		},
	},
	"zh": {
		Titles: map[policy.Phase]string{
			policy.Gone:     "此接口已下线",
			policy.Brownout: "暂时不可用：计划内的限时停用",
			policy.ReadOnly: "服务已进入只读状态",
			policy.Redirect: "此接口已迁移",
		},
		Details: map[policy.Phase]string{
			policy.Gone:     "%[1]s 已于 %[2]s 下线。%[3]s",
			policy.Brownout: "%[1]s 在 %[4]s 之前被有意停用，以提醒调用方：它将于 %[2]s 下线。%[3]s",
			policy.ReadOnly: "%[1]s 现在只接受读取（GET、HEAD、OPTIONS）；它将于 %[2]s 下线。%[3]s",
			policy.Redirect: "%[1]s 已于 %[2]s 被替代，新地址见 Location。%[3]s",
		},
		Of:         "%[2]s 的 %[1]s",
		Instead:    "请改用：",
		Guide:      "迁移指南",
		Docs:       "关于本次下线",
		Feedback:   "告诉我们这对您的影响",
		Simulated:  "这是通过 Sunset-Simulate 请求头发起的演练；服务尚未进入此阶段。",
		DateLayout: "2006-01-02 15:04 MST",
		UpstreamTitle: map[int]string{
			http.StatusBadGateway:       "无法连接到服务",
			http.StatusGatewayTimeout:   "服务未能及时响应",
			http.StatusMethodNotAllowed: "不允许的请求方法",
			http.StatusBadRequest:       "请求路径有歧义",
		},
		UpstreamDetail: map[int]string{
			http.StatusBadGateway:       "网关后面的服务无法连接。请几分钟后再试。",
			http.StatusGatewayTimeout:   "网关后面的服务未能及时响应。请几分钟后再试。",
			http.StatusMethodNotAllowed: "此网关只转发 Allow 中列出的请求方法，从不转发 CONNECT 和 TRACE。",
			http.StatusBadRequest:       "此请求的路径因解码方式不同而含义不同（编码的斜杠、反斜杠、分号或点段，双重编码，或控制字符），因此不予转发。请去掉这些编码后重新发送。",
		},
	},
}

//go:embed templates/page.html
var templateFS embed.FS

var pageTemplate = template.Must(template.ParseFS(templateFS, "templates/page.html"))

// pageData is what the HTML page shows.
type pageData struct {
	Lang, Title, Detail, Service string
	Status                       string
	Simulated                    bool
	Alternatives                 []Alternative
	Docs, Guide, Feedback        string
	Text                         *texts
}

// problemFor writes the problem of decision d in language lang.
func problemFor(pol *policy.Policy, d policy.Decision, lang string) Problem {
	t := languages[lang]
	snap := pol.Snapshot()
	loc := pol.Location()
	service := snap.Service.Title.In(lang)
	if service == "" {
		service = snap.Service.Name
	}
	what := service
	feature := ""
	if d.Feature.Index >= 0 {
		feature = d.Feature.Name
		name := d.Feature.Title.In(lang)
		if name == "" {
			name = d.Feature.Name
		}
		what = fmt.Sprintf(t.Of, name, service)
	}
	p := Problem{
		Type: ProblemTypeBase + phaseAnchor(d.Phase), Title: t.Titles[d.Phase], Status: d.Status,
		Phase: d.Phase.String(), Service: snap.Service.Name, Feature: feature,
		Location: d.Location, Docs: snap.Service.Docs, Feedback: snap.Service.Feedback,
		Simulated: d.Simulated,
	}
	date := ""
	if g := d.Feature.Times.Gone; !g.IsZero() {
		p.Sunset = g.UTC().Format(time.RFC3339)
		date = g.In(loc).Format(t.DateLayout)
	}
	until := ""
	if !d.RetryAfter.IsZero() {
		p.RetryAfter = d.RetryAfter.UTC().Format(time.RFC3339)
		until = d.RetryAfter.In(loc).Format(t.DateLayout)
	}
	extra := ""
	for _, a := range pol.Alternatives() {
		p.Alternatives = append(p.Alternatives, Alternative{Name: a.Name, URL: a.URL, Guide: a.Guide})
		if p.Guide == "" {
			p.Guide = a.Guide
		}
	}
	if len(p.Alternatives) > 0 {
		extra = " " + t.Instead + " " + p.Alternatives[0].Name + " (" + p.Alternatives[0].URL + ")."
		if lang == "zh" {
			extra = t.Instead + p.Alternatives[0].Name + "（" + p.Alternatives[0].URL + "）。"
		}
	}
	p.Detail = fmt.Sprintf(t.Details[d.Phase], what, date, extra, until)
	return p
}

// phaseAnchor is the fragment of a phase's problem type in docs/gateway.md.
func phaseAnchor(p policy.Phase) string {
	if p == policy.ReadOnly {
		return "read-only"
	}
	return p.String()
}

// answer writes the gateway's own answer to a refused request: problem+json, or an HTML page
// for browsers, in the caller's language.
func answer(w http.ResponseWriter, r *http.Request, pol *policy.Policy, d policy.Decision) {
	lang := language(r.Header.Get("Accept-Language"))
	p := problemFor(pol, d, lang)
	h := w.Header()
	if !d.RetryAfter.IsZero() {
		v, err := policy.FormatSunset(d.RetryAfter)
		if err == nil {
			h.Set("Retry-After", v)
		}
	}
	if d.Location != "" {
		h.Set("Location", d.Location)
	}
	if d.Simulated {
		h.Set(SimulatedHeader, d.Phase.String())
	}
	if d.Phase == policy.Brownout || d.Simulated {
		h.Set("Cache-Control", "no-store")
	}
	h.Set("Content-Language", lang)
	h.Add("Vary", "Accept, Accept-Language")
	var body []byte
	if wantsHTML(r.Header.Get("Accept")) {
		var buf bytes.Buffer
		err := pageTemplate.Execute(&buf, pageData{
			Lang: lang, Title: p.Title, Detail: p.Detail, Service: titleOr(pol, lang),
			Status: fmt.Sprintf("%d %s", p.Status, http.StatusText(p.Status)), Simulated: d.Simulated,
			Alternatives: p.Alternatives, Docs: p.Docs, Guide: p.Guide, Feedback: p.Feedback, Text: languages[lang],
		})
		if err == nil {
			h.Set("Content-Type", "text/html; charset=utf-8")
			body = buf.Bytes()
		}
	}
	if body == nil {
		h.Set("Content-Type", "application/problem+json")
		body, _ = json.Marshal(p)
		body = append(body, '\n')
	}
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(d.Status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func titleOr(pol *policy.Policy, lang string) string {
	s := pol.Snapshot().Service
	if t := s.Title.In(lang); t != "" {
		return t
	}
	return s.Name
}
