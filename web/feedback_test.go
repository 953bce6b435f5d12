package web

import (
	"maps"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/web/httpx"
	"github.com/sunsetops/sunset/web/intake"
	"github.com/sunsetops/sunset/web/public"
)

// postForm posts v to the public form at path as a browser would after opening it: with the
// page's intake token, unless v sets intake_token itself.
func postForm(t *testing.T, b *testBundle, path string, v url.Values, header ...string) *response {
	t.Helper()
	if _, ok := v[intake.TokenField]; !ok {
		v = maps.Clone(v)
		v.Set(intake.TokenField, formToken(t, b, path))
	}
	return b.do(t, "POST", path, v.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
}

// tokenField finds the intake token in a served form.
var tokenField = regexp.MustCompile(`name="intake_token" value="([^"]+)"`)

// formToken opens the public form at path and returns its intake token.
func formToken(t *testing.T, b *testBundle, path string) string {
	t.Helper()
	r := b.do(t, "GET", path, "")
	m := tokenField.FindSubmatch(r.body)
	if r.status != 200 || m == nil {
		t.Fatalf("GET %s: %d, no intake token:\n%s", path, r.status, r.body)
	}
	return string(m[1])
}

func TestFeedbackFormInBothLanguages(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	b.announce(t, "billing-v1")
	for _, tc := range []struct{ lang, accept, want, title string }{
		{"", "", "Tell us how the shutdown affects you", "Billing API v1"},
		{"", "zh-CN,zh;q=0.9", "告诉我们这次下线对您的影响", "账单 API v1"},
		{"?lang=zh", "en", "我需要更多时间", "账单 API v1"},
	} {
		r := b.do(t, "GET", "/feedback/billing-v1"+tc.lang, "", "Accept-Language", tc.accept)
		if r.status != 200 || !strings.Contains(string(r.body), tc.want) || !strings.Contains(string(r.body), tc.title) {
			t.Errorf("%s %q: %d\n%s", tc.lang, tc.accept, r.status, r.body)
		}
		if !strings.Contains(r.header.Get("Content-Security-Policy"), "form-action 'self'") {
			t.Errorf("CSP = %q", r.header.Get("Content-Security-Policy"))
		}
	}
}

func TestFeedbackFormStoresAndEscapes(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	b.announce(t, "billing-v1")
	script := `<script>alert("x")</script>`
	r := postForm(t, b, "/feedback/billing-v1", url.Values{"mood": {"negative"}, "category": {"export_problem"}, "text": {script}, "consumer": {"acme-prod"}})
	if r.status != 200 || !strings.Contains(string(r.body), "Thank you") {
		t.Fatalf("post: %d %s", r.status, r.body)
	}
	// A rejected post shows the form again with the text escaped, never executed.
	r = postForm(t, b, "/feedback/billing-v1?lang=zh", url.Values{"mood": {"angry"}, "text": {script}})
	if r.status != 400 || strings.Contains(string(r.body), script) || !strings.Contains(string(r.body), "&lt;script&gt;") {
		t.Fatalf("invalid post: %d, body holds the raw script or lacks the escaped one:\n%s", r.status, r.body)
	}
	items, err := b.srv.Feedback.List(t.Context(), "billing-v1", b.clock.Now().AddDate(-1, 0, 0))
	if err != nil || len(items) != 1 || items[0].Text != script || items[0].Source != "form" || items[0].Consumer != "acme-prod" {
		t.Fatalf("stored = %+v, %v", items, err)
	}
	// The API answers the text as JSON data, not markup.
	res := b.do(t, "GET", "/api/v1/sunsets/billing-v1/feedback/summary", "")
	if res.status != 200 || !strings.Contains(string(res.body), `"total":1`) {
		t.Errorf("summary: %d %s", res.status, res.body)
	}
}

func TestFeedbackHoneypotIsDropped(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	b.announce(t, "billing-v1")
	r := postForm(t, b, "/feedback/billing-v1", url.Values{"mood": {"negative"}, "text": {"buy pills"}, public.HoneypotField: {"http://spam.example"}})
	if r.status != 200 || !strings.Contains(string(r.body), "Thank you") {
		t.Fatalf("honeypot post: %d", r.status)
	}
	if items, _ := b.srv.Feedback.List(t.Context(), "billing-v1", b.clock.Now().AddDate(-1, 0, 0)); len(items) != 0 {
		t.Errorf("the honeypot post was stored: %+v", items)
	}
}

func TestFeedbackFloodIsLimited(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	b.announce(t, "billing-v1")
	v := url.Values{"mood": {"negative"}, "text": {"again"}}
	for i := range httpx.DefaultPerMinute {
		if r := postForm(t, b, "/feedback/billing-v1", v); r.status != 200 {
			t.Fatalf("post %d: %d", i, r.status)
		}
	}
	// Over the limit, the person gets the form again in their language, with what they typed.
	r := postForm(t, b, "/feedback/billing-v1", v)
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.mediaType() != "text/html" ||
		!strings.Contains(string(r.body), "You have sent several messages") || !strings.Contains(string(r.body), ">again</textarea>") {
		t.Fatalf("post over the limit: %d %s %q\n%s", r.status, r.mediaType(), r.header.Get("Retry-After"), r.body)
	}
	api := b.do(t, "POST", "/api/v1/sunsets/billing-v1/feedback", `{"mood":"negative"}`, "Content-Type", "application/json")
	if api.status != 429 {
		t.Errorf("the API shares the limit: %d", api.status)
	}
	// A minute later the client may write again.
	b.clock.Advance(61e9)
	if r := postForm(t, b, "/feedback/billing-v1", v); r.status != 200 {
		t.Errorf("after a minute: %d", r.status)
	}
	items, _ := b.srv.Feedback.List(t.Context(), "billing-v1", b.clock.Now().AddDate(-1, 0, 0))
	if len(items) != httpx.DefaultPerMinute+1 {
		t.Errorf("stored %d, want %d", len(items), httpx.DefaultPerMinute+1)
	}
}

func TestFeedbackSummaryThroughTheClient(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	b.announce(t, "billing-v1")
	b.srv.Themer = feedback.NewThemer()
	b.rehandle()
	for _, in := range []feedback.Input{
		{Mood: "negative", Category: "need_more_time", Text: "迁移文档不清楚，希望延期两周"},
		{Mood: "negative", Category: "need_more_time", Text: "迁移文档缺少签名说明，需要延期"},
		{Rating: 5, Text: "migration guide was clear"},
	} {
		if _, err := b.client.SendFeedback(t.Context(), "billing-v1", in); err != nil {
			t.Fatal(err)
		}
	}
	res, err := b.client.ImportFeedback(t.Context(), "billing-v1", []byte("mood,category,text\nnegative,export_problem,export link broken\n,,\n"))
	if err != nil || res.Imported != 1 || len(res.Problems) != 1 || res.Problems[0].Line != 3 {
		t.Fatalf("import = %+v, %v", res, err)
	}
	sum, err := b.client.FeedbackSummary(t.Context(), "billing-v1")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != 4 || sum.ExtensionRequests != 2 || sum.NegativeRatio != 0.75 {
		t.Errorf("summary = %+v", sum)
	}
	found := false
	for _, th := range sum.Themes {
		found = found || th.Phrase == "迁移文档"
	}
	if !found {
		t.Errorf("themes %+v lack 迁移文档", sum.Themes)
	}
}

func TestSurveyAfterShutdown(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	b.announce(t, "billing-v1")
	r := b.do(t, "GET", "/survey/billing-v1?lang=zh", "")
	if r.status != 200 || !strings.Contains(string(r.body), "您迁移到替代方案了吗？") || !strings.Contains(string(r.body), "账单 API v1") {
		t.Fatalf("zh survey: %d\n%s", r.status, r.body)
	}
	// Before the shutdown the survey speaks of a service that is closing, on its date.
	if body := string(r.body); !strings.Contains(body, "账单 API v1将于 2027年3月1日 10:00 CET 停止服务") || strings.Contains(body, "服务已经停止") {
		t.Errorf("zh survey before the shutdown does not say when it closes:\n%s", body)
	}
	r = b.do(t, "GET", "/survey/billing-v1?lang=en", "")
	if body := string(r.body); !strings.Contains(body, "Billing API v1 is closing on 1 March 2027 10:00 CET") || strings.Contains(body, "has closed") {
		t.Errorf("en survey before the shutdown:\n%s", body)
	}
	r = postForm(t, b, "/survey/billing-v1", url.Values{"q_satisfaction": {"2"}, "q_moved": {"no"}, "q_hardest": {"<b>exports</b>"}, "q_contact_ok": {"no"}, "contact": {"me@example.com"}})
	if r.status != 200 || !strings.Contains(string(r.body), "Thank you for your answers") {
		t.Fatalf("post: %d %s", r.status, r.body)
	}
	r = postForm(t, b, "/survey/billing-v1", url.Values{"q_satisfaction": {"5"}, "q_moved": {"yes"}, "q_contact_ok": {"yes"}, "contact": {"ok@example.com"}})
	if r.status != 200 {
		t.Fatalf("second post: %d", r.status)
	}
	sum, err := b.client.FeedbackSummary(t.Context(), "billing-v1")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Survey.Responses != 2 || sum.Survey.Satisfaction != 3.5 || sum.Survey.Yes["moved"] != 1 || sum.Survey.No["moved"] != 1 {
		t.Errorf("survey summary = %+v", sum.Survey)
	}
	// Once the shutdown milestone has run, the service has closed.
	b.clock.Set(time.Date(2027, 3, 1, 9, 30, 0, 0, time.UTC))
	b.waitDone(t, "billing-v1", "milestone/shutdown")
	for lang, want := range map[string]string{"en": "The service has closed.", "zh": "服务已经停止。"} {
		r = b.do(t, "GET", "/survey/billing-v1?lang="+lang, "")
		if r.status != 200 || !strings.Contains(string(r.body), want) || strings.Contains(string(r.body), "closing on") {
			t.Errorf("%s survey after the shutdown: %d, want %q:\n%s", lang, r.status, want, r.body)
		}
	}
	items, _ := b.srv.Feedback.List(t.Context(), "billing-v1", b.clock.Now().AddDate(-1, 0, 0))
	if len(items) != 2 || items[0].Contact != "" || items[1].Contact != "ok@example.com" || items[0].Text != "<b>exports</b>" {
		t.Errorf("stored = %+v (the contact needs consent)", items)
	}
}
