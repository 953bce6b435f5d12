package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/web/httpx"
)

func TestSunsetPageShowsEveryPanel(t *testing.T) {
	b := setup(t)
	b.srv.Reports, b.srv.Runbooks = &memReports{}, &fakeRunbooks{}
	b.rehandle()
	b.apply(t, testPlan)
	for _, lang := range []string{"en", "zh"} {
		r := b.do(t, http.MethodGet, "/s/billing-v1?lang="+lang, "")
		if r.status != http.StatusOK || r.mediaType() != "text/html" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		page := string(r.body)
		want := []string{
			`<svg class="gantt"`, `id="now-line"`, `role="img"`, // the timeline with a now-line
			`id="usage"`, `id="consumers"`, `id="notices"`, `id="feedback"`, `id="guardrails"`,
			`id="runbook" aria-labelledby="runbook-h" data-live="1"`, `id="data"`, `id="events"`, `id="lessons"`,
			`action="/s/billing-v1/approvals?lang=` + lang + `"`, `name="step" value="sign-off"`, `name="csrf_token"`,
			`action="/s/billing-v1/lessons?lang=` + lang + `"`,
			`href="/api/v1/sunsets/billing-v1/report?format=html&amp;lang=` + lang + `"`, `href="/p/billing-v1?lang=` + lang + `"`,
			"sunset.created", // an audit event
		}
		want = append(want, map[string][]string{
			"en": {"Billing API v1", "Timeline", "Approve", "waiting for approval", "Lessons learned"},
			"zh": {"账单 API v1", "时间线", "批准", "等待审批", "经验教训"},
		}[lang]...)
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: page lacks %q", lang, w)
			}
		}
		checkSelfContained(t, page)
	}
	if r := b.do(t, http.MethodGet, "/s/nope", ""); r.status != http.StatusNotFound {
		t.Errorf("unknown sunset: %d", r.status)
	}
}

func TestSunsetPageWithoutOptionalServices(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlanNoSignoff)
	r := b.do(t, http.MethodGet, "/s/reports-v2", "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "The runbook has not run yet") ||
		!strings.Contains(string(r.body), "This server keeps no reports.") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// postUI posts a form to the UI like a browser: no redirects followed.
func postUI(t *testing.T, b *testBundle, path string, v url.Values) *response {
	t.Helper()
	return b.do(t, http.MethodPost, path, v.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

func TestApproveButtonRecordsTheApprovalOrShowsTheProblem(t *testing.T) {
	b := setup(t)
	rb := &fakeRunbooks{}
	b.srv.Runbooks = rb
	b.rehandle()
	b.apply(t, testPlan)
	// Browsers do not follow the 303 in b.do: the client follows redirects, so stop it.
	b.ts.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r := postUI(t, b, "/s/billing-v1/approvals?lang=zh", url.Values{"step": {"sign-off"}, "role": {"approver"}, "actor": {"Zhang Min"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/s/billing-v1?done=approved&lang=zh#runbook" {
		t.Fatalf("approve: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	if len(rb.approvals) != 1 || rb.approvals[0] != "Zhang Min/approver" {
		t.Fatalf("approvals = %v", rb.approvals)
	}
	page := string(b.do(t, http.MethodGet, "/s/billing-v1?done=approved&lang=zh", "").body)
	if !strings.Contains(page, "已记录你的批准。") {
		t.Error("the page does not confirm the approval")
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"unknown step", url.Values{"step": {"nope"}}, http.StatusBadRequest, "The run has no approval step"},
		{"no step", url.Values{}, http.StatusBadRequest, "Name the approval step."},
		{"unprintable name", url.Values{"step": {"sign-off"}, "actor": {"a\x01b"}}, http.StatusBadRequest, "printable characters only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postUI(t, b, "/s/billing-v1/approvals", tt.form)
			if r.status != tt.status || r.mediaType() != "text/html" || !strings.Contains(string(r.body), `role="alert"`) ||
				!strings.Contains(string(r.body), tt.want) {
				t.Fatalf("%d %s\n%s", r.status, r.mediaType(), r.body)
			}
		})
	}
	if r := postUI(t, b, "/s/nope/approvals", url.Values{"step": {"sign-off"}}); r.status != http.StatusNotFound {
		t.Errorf("unknown sunset: %d", r.status)
	}
}

func TestLessonsFormSavesTheLessons(t *testing.T) {
	b := setup(t)
	reports := &memReports{}
	b.srv.Reports = reports
	b.rehandle()
	b.apply(t, testPlan)
	b.ts.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	text := "Tell partners earlier.\r\n提前通知合作伙伴。"
	r := postUI(t, b, "/s/billing-v1/lessons", url.Values{"text": {text}, "actor": {"li.wei"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("%d %s", r.status, r.body)
	}
	l := reports.lessons["billing-v1"]
	if l.Text != "Tell partners earlier.\n提前通知合作伙伴。\n" || l.UpdatedBy != "li.wei" || !l.UpdatedAt.Equal(t0) {
		t.Fatalf("lessons = %+v", l)
	}
	page := string(b.do(t, http.MethodGet, "/s/billing-v1", "").body)
	if !strings.Contains(page, "提前通知合作伙伴。\n</textarea>") || !strings.Contains(page, "Last edited by li.wei") {
		t.Errorf("the form does not show the saved lessons:\n%s", page)
	}
	r = postUI(t, b, "/s/billing-v1/lessons", url.Values{"text": {strings.Repeat("x", httpx.MaxLessons+1)}})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "longer than") {
		t.Errorf("too long: %d", r.status)
	}
}

func TestStaticAssetsAreEmbedded(t *testing.T) {
	b := setup(t)
	for path, ct := range map[string]string{"/static/ui.css": "text/css", "/static/ui.js": "text/javascript"} {
		r := b.do(t, http.MethodGet, path, "")
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), ct) || len(r.body) == 0 {
			t.Errorf("%s: %d %s", path, r.status, r.header.Get("Content-Type"))
		}
	}
	for _, path := range []string{"/static/nope.css", "/static/..%2fui.go"} {
		if r := b.do(t, http.MethodGet, path, ""); r.status != http.StatusNotFound {
			t.Errorf("%s: %d", path, r.status)
		}
	}
}

// A person who follows a stale link to a sunset gets a page in their language, not a problem
// document.
func TestUnknownSunsetPageIsAnHTMLNotFound(t *testing.T) {
	b := setup(t)
	for _, tt := range []struct{ lang, want string }{{"en", "No such sunset"}, {"zh", "没有这个下线计划"}} {
		r := b.do(t, http.MethodGet, "/s/no-such-api?lang="+tt.lang, "")
		if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", tt.lang, r.status, r.header.Get("Content-Type"))
		}
		body := string(r.body)
		if !strings.Contains(body, tt.want) || !strings.Contains(body, "no-such-api") || r.header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: body lacks %q or the name, or no CSP:\n%.600s", tt.lang, tt.want, body)
		}
	}
	if r := b.do(t, http.MethodGet, "/s/%3Cscript%3E", ""); strings.Contains(string(r.body), "<script>") {
		t.Errorf("the name is not escaped: %.600s", r.body)
	}
}

// An operator pauses a sunset from its page and resumes it; each form asks for a reason, which
// the audit log keeps with the name typed.
func TestPauseAndResumeFromTheSunsetPage(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	b.ts.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	page := b.do(t, http.MethodGet, "/s/billing-v1", "")
	if !strings.Contains(string(page.body), `action="/s/billing-v1/pause?lang=en"`) || strings.Contains(string(page.body), `/resume?`) {
		t.Fatalf("a draft's page offers no pause form:\n%.3000s", page.body)
	}
	if r := postUI(t, b, "/s/billing-v1/pause", url.Values{"actor": {"Zhang Min"}}); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Give a reason") {
		t.Errorf("pause without a reason: %d %.300s", r.status, r.body)
	}
	if r := postUI(t, b, "/s/billing-v1/pause?lang=zh", url.Values{"reason": {"  "}}); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "请填写原因") {
		t.Errorf("pause without a reason, in Chinese: %d %.300s", r.status, r.body)
	}
	r := postUI(t, b, "/s/billing-v1/pause?lang=zh", url.Values{"reason": {"Acme needs two more weeks"}, "actor": {"Zhang Min"}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "done=paused") {
		t.Fatalf("pause: %d %s", r.status, r.header.Get("Location"))
	}
	st, err := b.eng.Status(t.Context(), "billing-v1")
	if err != nil || st.State != engine.StatePaused {
		t.Fatalf("state after the pause form: %v %v", st, err)
	}
	page = b.do(t, http.MethodGet, "/s/billing-v1?lang=zh&done=paused", "")
	if !strings.Contains(string(page.body), "已暂停") || !strings.Contains(string(page.body), `action="/s/billing-v1/resume?lang=zh"`) {
		t.Errorf("the paused page confirms nothing or offers no resume:\n%.3000s", page.body)
	}
	// A draft paused still takes its stakeholders' sign-offs; they count when it resumes.
	if !strings.Contains(string(page.body), `id="signoff-legal"`) || !strings.Contains(string(page.body), "暂停期间的签字在恢复后生效") {
		t.Errorf("the paused draft's page offers no sign-off:\n%.3000s", page.body)
	}
	if r := postUI(t, b, "/s/billing-v1/pause", url.Values{"reason": {"again"}}); r.status != http.StatusConflict {
		t.Errorf("pausing a paused sunset: %d", r.status)
	}
	if r := postUI(t, b, "/s/billing-v1/resume", url.Values{"reason": {"Acme migrated"}, "actor": {"Li Wei"}}); r.status != http.StatusSeeOther {
		t.Fatalf("resume: %d %.300s", r.status, r.body)
	}
	events, err := b.eng.Events(t.Context(), "billing-v1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		if e.Type == "sunset.paused" || e.Type == "sunset.resumed" {
			got = append(got, e.Type+" by "+e.Actor+" "+string(e.Data))
		}
	}
	if len(got) != 2 || !strings.Contains(got[0], "by Zhang Min") || !strings.Contains(got[0], "Acme needs two more weeks") || !strings.Contains(got[1], "by Li Wei") {
		t.Errorf("events: %q", got)
	}
}

// A draft's page has one sign-off button per stakeholder still awaited; the last sign-off
// schedules the sunset and the buttons go away.
func TestSignOffFromTheSunsetPage(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan) // awaits legal
	b.ts.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	page := b.do(t, http.MethodGet, "/s/billing-v1?lang=zh", "")
	if !strings.Contains(string(page.body), `name="stakeholder" value="legal"`) || !strings.Contains(string(page.body), "签字确认") {
		t.Fatalf("a draft's page has no sign-off button for legal:\n%.3000s", page.body)
	}
	if r := postUI(t, b, "/s/billing-v1/signoffs", url.Values{"stakeholder": {"sales"}}); r.status != http.StatusBadRequest {
		t.Errorf("an unknown stakeholder: %d", r.status)
	}
	if r := postUI(t, b, "/s/billing-v1/signoffs?lang=zh", url.Values{"stakeholder": {"legal"}, "actor": {"Zhang Min"}}); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "done=signed") {
		t.Fatalf("sign-off: %d %s", r.status, r.header.Get("Location"))
	}
	st, err := b.eng.Status(t.Context(), "billing-v1")
	if err != nil || st.State != engine.StateScheduled || len(st.Signoffs) != 1 {
		t.Fatalf("after the sign-off: %+v %v", st, err)
	}
	page = b.do(t, http.MethodGet, "/s/billing-v1?lang=zh&done=signed", "")
	if !strings.Contains(string(page.body), "已记录签字") || strings.Contains(string(page.body), `name="stakeholder"`) {
		t.Errorf("after the last sign-off the page confirms nothing or still offers buttons:\n%.3000s", page.body)
	}
}
