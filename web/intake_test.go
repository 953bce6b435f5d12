package web

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/web/intake"
)

// storedFeedback counts the feedback kept for billing-v1.
func storedFeedback(t *testing.T, b *testBundle) int {
	t.Helper()
	items, err := b.srv.Feedback.List(t.Context(), "billing-v1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

// intakeBundle is setup with billing-v1 announced, so that its public intake is open.
func intakeBundle(t *testing.T) *testBundle {
	t.Helper()
	b := setup(t)
	b.apply(t, testPlan)
	b.announce(t, "billing-v1")
	return b
}

// noCORS fails the test when r grants anything to another origin.
func noCORS(t *testing.T, what string, r *response) {
	t.Helper()
	for name := range r.header {
		if strings.HasPrefix(strings.ToLower(name), "access-control-") {
			t.Errorf("%s: answered %s: %q; public intake grants nothing to other origins", what, name, r.header.Get(name))
		}
	}
}

func TestFeedbackFormRefusesPostsFromAnotherSite(t *testing.T) {
	b := intakeBundle(t)
	typed := "Wir brauchen noch zwei Wochen <bitte>"
	for _, tc := range []struct {
		name   string
		header []string
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}},
		{"Sec-Fetch-Site same-site (a sibling subdomain)", []string{"Sec-Fetch-Site", "same-site"}},
		{"an Origin of another site", []string{"Origin", "https://evil.example"}},
		{"an Origin on another port", []string{"Origin", strings.Replace(b.ts.URL, "127.0.0.1:", "127.0.0.1:1", 1)}},
		{"the null Origin of a sandboxed frame", []string{"Origin", "null"}},
		{"a same-origin fetch mark with a foreign Origin", []string{"Sec-Fetch-Site", "same-origin", "Origin", "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Even with a valid token (a hostile server can fetch one): the browser's mark decides.
			r := postForm(t, b, "/feedback/billing-v1", url.Values{"mood": {"negative"}, "text": {typed}}, tc.header...)
			body := string(r.body)
			if r.status != http.StatusForbidden || r.mediaType() != "text/html" || !strings.Contains(body, "reached us from another website") {
				t.Fatalf("%d %s\n%s", r.status, r.mediaType(), body)
			}
			if !strings.Contains(body, "Wir brauchen noch zwei Wochen &lt;bitte&gt;</textarea>") || !strings.Contains(body, `value="negative" checked`) {
				t.Errorf("the refusal lost what was typed:\n%s", body)
			}
			if tokenField.FindStringSubmatch(body) == nil {
				t.Errorf("the refusal carries no fresh token to send again with:\n%s", body)
			}
			noCORS(t, tc.name, r)
		})
	}
	if n := storedFeedback(t, b); n != 0 {
		t.Fatalf("%d cross-site posts were stored", n)
	}
	// The same person, on our page, presses Send: same-origin (or no mark at all) is taken.
	for _, header := range [][]string{
		{"Origin", b.ts.URL, "Sec-Fetch-Site", "same-origin"},
		{"Sec-Fetch-Site", "none"},
		{},
	} {
		r := postForm(t, b, "/feedback/billing-v1", url.Values{"mood": {"negative"}, "text": {typed}}, header...)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "Thank you") {
			t.Fatalf("same-origin post %v: %d\n%s", header, r.status, r.body)
		}
	}
	if n := storedFeedback(t, b); n != 3 {
		t.Fatalf("stored %d same-origin posts, want 3", n)
	}
}

func TestFeedbackFormTokenMustBeValidAndLosesNothing(t *testing.T) {
	b := intakeBundle(t)
	typed := url.Values{"mood": {"negative"}, "category": {"need_more_time"}, "text": {"迁移需要更多时间"}, "contact": {"li@example.com"}}
	fresh := formToken(t, b, "/feedback/billing-v1")
	tok, err := intake.ParseToken(fresh)
	if err != nil {
		t.Fatalf("the form's token %q does not parse: %v", fresh, err)
	}
	forged := bytes.Clone(tok.MAC)
	forged[0] ^= 1
	survey := formToken(t, b, "/survey/billing-v1")
	other := &Server{IntakeKey: []byte("another server's key")}
	for _, tc := range []struct {
		name, token, want string
		before            func()
	}{
		{"missing", "", "could not be checked, so", nil},
		{"malformed", "v1.not-a-token", "may come from another page", nil},
		{"forged MAC", intake.FormatToken(tok.Issued, forged), "may come from another page", nil},
		{"another key", other.tokenAt("feedback", "billing-v1", "127.0.0.1", tok.Issued), "may come from another page", nil},
		{"the survey's token", survey, "may come from another page", nil},
		{"another address", b.srv.intakes().TokenAt(intake.PageFeedback, "billing-v1", "10.1.2.3", tok.Issued), "may come from another page", nil},
		{"a later instant than its MAC says", intake.FormatToken(tok.Issued+3600, tok.MAC), "may come from another page", nil},
		{"expired", fresh, "open for a long time", func() { b.clock.Advance(intake.TokenTTL + time.Minute) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			v := url.Values{intake.TokenField: {tc.token}}
			for k, x := range typed {
				v[k] = x
			}
			if tc.token == "" {
				delete(v, intake.TokenField)
				v.Set(intake.TokenField, "")
			}
			r := postForm(t, b, "/feedback/billing-v1", v)
			body := string(r.body)
			if r.status != http.StatusForbidden || !strings.Contains(body, tc.want) {
				t.Fatalf("%d, want 403 saying %q:\n%s", r.status, tc.want, body)
			}
			for _, kept := range []string{"迁移需要更多时间</textarea>", `value="li@example.com"`, `value="need_more_time" selected`, `value="negative" checked`} {
				if !strings.Contains(body, kept) {
					t.Errorf("the refusal lost %q:\n%s", kept, body)
				}
			}
			// Pressing Send again, with the refusal page's own token, delivers the message.
			m := tokenField.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no fresh token on the refusal page")
			}
			v.Set(intake.TokenField, m[1])
			if r := postForm(t, b, "/feedback/billing-v1", v); r.status != http.StatusOK {
				t.Fatalf("sent again from the refusal page: %d\n%s", r.status, r.body)
			}
		})
	}
	// Every refusal stored nothing; every retry stored one.
	if n := storedFeedback(t, b); n != 8 {
		t.Errorf("stored %d, want the 8 retries", n)
	}
	// The Chinese page says it in Chinese.
	r := postForm(t, b, "/feedback/billing-v1?lang=zh", url.Values{"mood": {"neutral"}, "text": {"好"}, intake.TokenField: {""}})
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "您的留言尚未发送") || r.header.Get("Content-Language") != "zh-Hans" {
		t.Errorf("zh refusal: %d %q\n%s", r.status, r.header.Get("Content-Language"), r.body)
	}
}

func TestSurveyRefusesCrossSiteAndTokenlessPosts(t *testing.T) {
	b := intakeBundle(t)
	answers := url.Values{"q_satisfaction": {"2"}, "q_moved": {"no"}, "q_hardest": {"导出格式不同"}}
	for _, tc := range []struct {
		name   string
		v      url.Values
		header []string
		want   string
	}{
		{"no token", answers, nil, "could not be checked, so"},
		{"cross-site", nil, []string{"Sec-Fetch-Site", "cross-site"}, "reached us from another website"},
		{"another Origin", nil, []string{"Origin", "https://evil.example"}, "reached us from another website"},
	} {
		var r *response
		if tc.v != nil {
			r = b.do(t, "POST", "/survey/billing-v1", tc.v.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, tc.header...)...)
		} else {
			r = postForm(t, b, "/survey/billing-v1", answers, tc.header...)
		}
		body := string(r.body)
		if r.status != http.StatusForbidden || !strings.Contains(body, tc.want) || !strings.Contains(body, "导出格式不同</textarea>") ||
			!strings.Contains(body, `value="2" checked`) {
			t.Errorf("%s: %d\n%s", tc.name, r.status, body)
		}
	}
	if n := storedFeedback(t, b); n != 0 {
		t.Fatalf("stored %d refused survey posts", n)
	}
	if r := postForm(t, b, "/survey/billing-v1", answers, "Origin", b.ts.URL); r.status != http.StatusOK {
		t.Fatalf("same-origin survey: %d\n%s", r.status, r.body)
	}
}

func TestFeedbackAPITakesJSONFromNoOtherSite(t *testing.T) {
	b := intakeBundle(t)
	const path = "/api/v1/sunsets/billing-v1/feedback"
	body := `{"mood":"negative","text":"cross-site"}`
	for _, tc := range []struct {
		name   string
		status int
		header []string
	}{
		{"text/plain, as a cross-site form or fetch without preflight sends", 415, []string{"Content-Type", "text/plain"}},
		{"a urlencoded form", 415, []string{"Content-Type", "application/x-www-form-urlencoded"}},
		{"a multipart form", 415, []string{"Content-Type", "multipart/form-data; boundary=x"}},
		{"no Content-Type", 415, nil},
		{"a malformed Content-Type", 415, []string{"Content-Type", "application/json; ==="}},
		{"JSON from another Origin", 403, []string{"Content-Type", "application/json", "Origin", "https://evil.example"}},
		{"JSON marked cross-site", 403, []string{"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"}},
	} {
		r := b.do(t, "POST", path, body, tc.header...)
		if r.status != tc.status || r.mediaType() != problem.ContentType {
			t.Errorf("%s: %d %s, want %d problem: %s", tc.name, r.status, r.mediaType(), tc.status, r.body)
		}
		noCORS(t, tc.name, r)
	}
	if n := storedFeedback(t, b); n != 0 {
		t.Fatalf("stored %d refused API posts", n)
	}
	for _, header := range [][]string{
		{"Content-Type", "application/json"},
		{"Content-Type", "application/json; charset=utf-8", "Origin", b.ts.URL, "Sec-Fetch-Site", "same-origin"},
	} {
		if r := b.do(t, "POST", path, body, header...); r.status != http.StatusCreated {
			t.Fatalf("%v: %d %s", header, r.status, r.body)
		}
	}
}

func TestPublicIntakeGrantsNoCORS(t *testing.T) {
	b := intakeBundle(t)
	preflight := []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type"}
	for _, path := range []string{"/api/v1/sunsets/billing-v1/feedback", "/feedback/billing-v1", "/survey/billing-v1"} {
		r := b.do(t, "OPTIONS", path, "", preflight...)
		if r.status < 400 {
			t.Errorf("OPTIONS %s: %d, want a refusal (no preflight is answered with allowances)", path, r.status)
		}
		noCORS(t, "OPTIONS "+path, r)
		noCORS(t, "GET "+path, b.do(t, "GET", path, "", "Origin", "https://evil.example"))
	}
	noCORS(t, "API post", b.do(t, "POST", "/api/v1/sunsets/billing-v1/feedback", `{"mood":"neutral"}`, "Content-Type", "application/json", "Origin", "https://evil.example"))
	noCORS(t, "API created", b.do(t, "POST", "/api/v1/sunsets/billing-v1/feedback", `{"mood":"neutral"}`, "Content-Type", "application/json"))
	noCORS(t, "form post", postForm(t, b, "/feedback/billing-v1", url.Values{"mood": {"neutral"}}))
	noCORS(t, "refused form post", postForm(t, b, "/feedback/billing-v1", url.Values{"mood": {"neutral"}}, "Origin", "https://evil.example"))
}

// clientFrom is an HTTP client whose connections come from the loopback address ip, so that
// tests can post as many different people.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// doFrom is testBundle.do from the loopback address ip.
func doFrom(t *testing.T, b *testBundle, ip, method, path, body string, header ...string) *response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := clientFrom(ip).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

// formFrom opens the form at path from ip and posts v with its token, as a person at ip would.
func formFrom(t *testing.T, b *testBundle, ip, path string, v url.Values) *response {
	t.Helper()
	page := doFrom(t, b, ip, "GET", path, "")
	m := tokenField.FindSubmatch(page.body)
	if m == nil {
		t.Fatalf("GET %s from %s: %d, no token", path, ip, page.status)
	}
	v.Set(intake.TokenField, string(m[1]))
	return doFrom(t, b, ip, "POST", path, v.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

func TestFeedbackPerSunsetLimitHoldsAgainstManyAddresses(t *testing.T) {
	b := intakeBundle(t)
	// A sunset that takes 4 posts a minute, from everybody together.
	b.srv.FeedbackPerSunset = 4
	b.rehandle()
	ts := httptest.NewServer(b.srv.Handler())
	t.Cleanup(ts.Close)
	b.ts = ts
	for i := range 4 {
		ip := "127.0.7." + strconv.Itoa(i+1)
		var r *response
		if i%2 == 0 {
			r = formFrom(t, b, ip, "/feedback/billing-v1", url.Values{"mood": {"negative"}, "text": {"post " + ip}})
		} else {
			r = doFrom(t, b, ip, "POST", "/api/v1/sunsets/billing-v1/feedback", `{"mood":"negative"}`, "Content-Type", "application/json")
		}
		if r.status >= 300 {
			t.Fatalf("post %d from %s: %d %s", i, ip, r.status, r.body)
		}
	}
	// A fifth address, well under its own limit, finds the sunset's budget spent.
	api := doFrom(t, b, "127.0.7.9", "POST", "/api/v1/sunsets/billing-v1/feedback", `{"mood":"negative"}`, "Content-Type", "application/json")
	if api.status != http.StatusTooManyRequests || api.header.Get("Retry-After") == "" || api.mediaType() != problem.ContentType ||
		!strings.Contains(api.problem(t).Detail, "for this service") {
		t.Fatalf("API over the sunset's limit: %d %s %q %s", api.status, api.mediaType(), api.header.Get("Retry-After"), api.body)
	}
	for lang, want := range map[string]string{"en": "Many messages are arriving for this service", "zh": "此服务当前收到的留言过多"} {
		form := formFrom(t, b, "127.0.7.10", "/feedback/billing-v1?lang="+lang, url.Values{"mood": {"negative"}, "text": {"请延期 " + lang}})
		if form.status != http.StatusTooManyRequests || form.header.Get("Retry-After") == "" || form.mediaType() != "text/html" ||
			!strings.Contains(string(form.body), want) || !strings.Contains(string(form.body), "请延期 "+lang+"</textarea>") {
			t.Errorf("form over the sunset's limit (%s): %d %s %q\n%s", lang, form.status, form.mediaType(), form.header.Get("Retry-After"), form.body)
		}
	}
	sv := formFrom(t, b, "127.0.7.11", "/survey/billing-v1", url.Values{"q_satisfaction": {"1"}})
	if sv.status != http.StatusTooManyRequests || !strings.Contains(string(sv.body), "Many messages are arriving") {
		t.Errorf("survey over the sunset's limit: %d\n%s", sv.status, sv.body)
	}
	if n := storedFeedback(t, b); n != 4 {
		t.Fatalf("stored %d, want the 4 within the limit", n)
	}
	// A minute later the sunset takes posts again.
	b.clock.Advance(61 * time.Second)
	if r := formFrom(t, b, "127.0.7.12", "/feedback/billing-v1", url.Values{"mood": {"neutral"}}); r.status != http.StatusOK {
		t.Fatalf("a minute later: %d %s", r.status, r.body)
	}
}

// tokenAt is the token s would issue for page of sunset name to a client at addr at issued.
func (s *Server) tokenAt(page, name, addr string, issued int64) string {
	return s.intakes().TokenAt(page, name, addr, issued)
}

func TestIntakeKeyIsSharedByServersOfOneDatabase(t *testing.T) {
	// Two replicas given the same key (store.DB.SigningKey "intake") accept each other's forms.
	key := []byte("the database's intake key")
	a, c := &Server{IntakeKey: key}, &Server{IntakeKey: key}
	if a.tokenAt("feedback", "x", "127.0.0.1", 100) != c.tokenAt("feedback", "x", "127.0.0.1", 100) {
		t.Fatal("the same key made different tokens")
	}
	// Without a key each server makes its own, and tokens do not cross.
	d, e := &Server{}, &Server{}
	d.Handler()
	e.Handler()
	if d.tokenAt("feedback", "x", "127.0.0.1", 100) == e.tokenAt("feedback", "x", "127.0.0.1", 100) {
		t.Fatal("two servers without a key share tokens")
	}
}
