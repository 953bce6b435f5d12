package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/intake"
	"github.com/sunsetops/sunset/web/public"
)

// publicAnnounced is how each public route of an announced sunset is called and what it answers:
// the request body (a form, or JSON for the API) and the status.
var publicAnnounced = map[string]struct {
	body, contentType string
	status            int
}{
	"GET /p/{name}":                        {"", "", http.StatusOK},
	"GET /p/{name}/feed.atom":              {"", "", http.StatusOK},
	"GET /p/{name}/announcements.json":     {"", "", http.StatusOK},
	"GET /p/{name}/banner.js":              {"", "", http.StatusOK},
	"GET /feedback/{name}":                 {"", "", http.StatusOK},
	"POST /feedback/{name}":                {"mood=negative&text=too+soon", "application/x-www-form-urlencoded", http.StatusOK},
	"GET /survey/{name}":                   {"", "", http.StatusOK},
	"POST /survey/{name}":                  {"q_satisfaction=4&q_moved=yes", "application/x-www-form-urlencoded", http.StatusOK},
	"POST /api/v1/sunsets/{name}/feedback": {`{"mood":"negative","text":"too soon"}`, "application/json", http.StatusCreated},
	"GET /exports/{name}/{token}":          {"", "", http.StatusOK},
	"GET /exports/{name}/{token}/download": {"", "", http.StatusOK},
}

// publicWithoutSunset are the public routes whose path parameters name no sunset: the static
// files and the unsubscribe links (their token names an address, not a sunset).
var publicWithoutSunset = map[string]bool{
	"GET /static/{file}":        true,
	"GET /unsubscribe/{token}":  true,
	"POST /unsubscribe/{token}": true,
}

// darkPlan renames testPlanNoSignoff's service to name and moves its announcement to announce
// (Asia/Shanghai), so that it is scheduled at once.
func darkPlan(name, announce string) string {
	p := strings.Replace(testPlanNoSignoff, "name: reports-v2", "name: "+name, 1)
	return strings.Replace(p, "announce: 2027-01-04T10:00", "announce: "+announce, 1)
}

// TestPublicRoutesAreDarkUntilAnnounced walks the route table: every public route that names a
// sunset answers a draft, a scheduled-not-yet-announced, a paused-before-announce and a
// cancelled sunset with the same 404 as an unknown one, in the reader's language, and serves an
// announced sunset (also one paused after its announcement). A public route added later is walked
// too: it fails here unless it is dark.
func TestPublicRoutesAreDarkUntilAnnounced(t *testing.T) {
	for dbName, open := range stores {
		t.Run(dbName, func(t *testing.T) {
			ctx := t.Context()
			clock := sunset.NewFixedClock(t0)
			st := open(t).(*store.DB)
			eng, err := engine.New(engine.Config{Store: st, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(eng.Stop)
			plans := map[string]string{
				"billing-v1":   testPlan, // a stakeholder has not signed off: draft, even past its announce date
				"later-v1":     darkPlan("later-v1", "2027-01-20T10:00"),
				"frozen-v1":    darkPlan("frozen-v1", "2027-01-04T10:00"),
				"live-v1":      darkPlan("live-v1", "2027-01-04T10:00"),
				"held-v1":      darkPlan("held-v1", "2027-01-04T10:00"),
				"withdrawn-v1": darkPlan("withdrawn-v1", "2027-01-04T10:00"),
			}
			for name, p := range plans {
				if _, err := eng.Apply(ctx, name+".yaml", []byte(p), "setup"); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			if _, err := eng.Pause(ctx, "frozen-v1", "setup", "paused before its announcement"); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"live-v1", "held-v1", "withdrawn-v1"} {
				announceSunset(t, eng, clock, name)
			}
			if _, err := eng.Pause(ctx, "held-v1", "setup", "paused after its announcement"); err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Cancel(ctx, "withdrawn-v1", "setup", "cancelled after its announcement"); err != nil {
				t.Fatal(err)
			}
			states := map[string]engine.State{}
			for name := range plans {
				s, err := eng.Get(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				states[name] = s.State
			}
			want := map[string]engine.State{"billing-v1": engine.StateDraft, "later-v1": engine.StateScheduled,
				"frozen-v1": engine.StatePaused, "live-v1": engine.StateDeprecating, "held-v1": engine.StatePaused,
				"withdrawn-v1": engine.StateCancelled}
			if states["live-v1"] == engine.StateAnnounced {
				want["live-v1"] = engine.StateAnnounced // its deprecation at the same instant may not have run yet
			}
			for name, w := range want {
				if states[name] != w {
					t.Fatalf("%s is %s, want %s (the test's setup is wrong)", name, states[name], w)
				}
			}

			srv := &Server{Engine: eng, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil)), Now: clock.Now,
				Feedback: st.Feedback(), Notices: &memNotices{}, UnsubscribeKey: []byte(testUnsubscribeKey),
				PublicPerMinute: 100000}
			live := newLiveHandler(srv)
			ts := httptest.NewServer(live)
			t.Cleanup(ts.Close)
			call := func(t *testing.T, method, path, body, contentType, lang string) *response {
				t.Helper()
				b := &testBundle{ts: ts}
				h := []string{"Accept-Language", lang}
				if contentType != "" {
					h = append(h, "Content-Type", contentType)
				}
				return b.do(t, method, path, body, h...)
			}

			walked := 0
			for _, rt := range routeTable() {
				if rt.Role != auth.RolePublic {
					continue
				}
				method, path := splitPattern(rt.Pattern)
				if !public.NamesSunset(path) {
					if strings.Contains(path, "{") && !publicWithoutSunset[rt.Pattern] {
						t.Errorf("%s is public and has a path parameter but no {name}: is it about a sunset? Name it {name} so it is dark until announced, or list it in publicWithoutSunset", rt.Pattern)
					}
					continue
				}
				walked++
				c, known := publicAnnounced[rt.Pattern]
				if !known {
					t.Errorf("%s: a public route of a sunset this test does not know how to call; add it to publicAnnounced", rt.Pattern)
					continue
				}
				fill := func(name string) string {
					p := strings.ReplaceAll(path, "{name}", name)
					return strings.ReplaceAll(p, "{token}", "good")
				}
				srv.Exports = &fakeExports{}
				live.reload(srv)
				for _, lang := range []string{"en", "zh-CN"} {
					unknown := call(t, method, fill("nobody-v1"), c.body, c.contentType, lang)
					if unknown.status != http.StatusNotFound {
						t.Fatalf("%s for an unknown sunset (%s): %d, want 404: %s", rt.Pattern, lang, unknown.status, unknown.body)
					}
					wantDetail := map[string]string{"en": "Nothing is published about", "zh-CN": "没有关于"}[lang]
					if p := unknown.problem(t); !strings.Contains(p.Detail, wantDetail) {
						t.Errorf("%s for an unknown sunset (%s): detail %q, want it in the reader's language", rt.Pattern, lang, p.Detail)
					}
					for _, name := range []string{"billing-v1", "later-v1", "frozen-v1", "withdrawn-v1"} {
						r := call(t, method, fill(name), c.body, c.contentType, lang)
						same := strings.ReplaceAll(string(unknown.body), "nobody-v1", name)
						if r.status != http.StatusNotFound || string(r.body) != same || r.mediaType() != unknown.mediaType() ||
							r.header.Get("Content-Language") != unknown.header.Get("Content-Language") {
							t.Errorf("%s for %s sunset %s (%s): %d %s %s\nwant the unknown sunset's 404: %s",
								rt.Pattern, states[name], name, lang, r.status, r.mediaType(), r.body, same)
						}
					}
				}
				// A browser gets a page saying the same, in its language, for the dark and the unknown alike.
				if method == http.MethodGet {
					page := func(name, lang string) *response {
						t.Helper()
						b := &testBundle{ts: ts}
						return b.do(t, method, fill(name), "", "Accept", "text/html,application/xhtml+xml", "Accept-Language", lang)
					}
					for lang, want := range map[string]string{"en": "Nothing is published about", "zh-CN": "没有关于"} {
						unknown := page("nobody-v1", lang)
						if unknown.status != http.StatusNotFound || unknown.mediaType() != "text/html" || !strings.Contains(string(unknown.body), want) {
							t.Errorf("%s for an unknown sunset from a browser (%s): %d %s %.300s", rt.Pattern, lang, unknown.status, unknown.mediaType(), unknown.body)
						}
						for _, name := range []string{"billing-v1", "later-v1", "withdrawn-v1"} {
							r := page(name, lang)
							same := withoutNonce(strings.ReplaceAll(string(unknown.body), "nobody-v1", name))
							if r.status != http.StatusNotFound || withoutNonce(string(r.body)) != same {
								t.Errorf("%s for %s sunset %s from a browser (%s): %d, want the unknown sunset's page:\n%s", rt.Pattern, states[name], name, lang, r.status, r.body)
							}
						}
					}
				}
				for _, name := range []string{"live-v1", "held-v1"} {
					srv.Exports = &fakeExports{sunset: name}
					live.reload(srv)
					body := c.body
					if method == http.MethodPost && c.contentType == "application/x-www-form-urlencoded" {
						// A form is posted as a browser posts it: with the token of the page it came from.
						body += "&" + intake.TokenField + "=" + url.QueryEscape(formToken(t, &testBundle{ts: ts}, fill(name)))
					}
					r := call(t, method, fill(name), body, c.contentType, "en")
					if r.status != c.status {
						t.Errorf("%s for %s sunset %s: %d, want %d: %.300s", rt.Pattern, states[name], name, r.status, c.status, r.body)
					}
				}
			}
			if walked < len(publicAnnounced) {
				t.Errorf("walked %d public routes of a sunset, want %d: the route table lost some?", walked, len(publicAnnounced))
			}
			// The operator's view still shows every sunset, announced or not.
			for name := range plans {
				r := call(t, http.MethodGet, "/s/"+name, "", "", "en")
				if r.status != http.StatusOK {
					t.Errorf("GET /s/%s (operator UI): %d, want 200", name, r.status)
				}
				r = call(t, http.MethodGet, "/api/v1/sunsets/"+name, "", "", "en")
				if r.status != http.StatusOK {
					t.Errorf("GET /api/v1/sunsets/%s: %d, want 200", name, r.status)
				}
			}
		})
	}
}

// TestAnnouncedIsTheOneRule pins engine.Sunset.Announced, which every public route obeys.
func TestAnnouncedIsTheOneRule(t *testing.T) {
	for _, c := range []struct {
		state, from engine.State
		want        bool
	}{
		{engine.StateDraft, "", false},
		{engine.StateScheduled, "", false},
		{engine.StateAnnounced, "", true},
		{engine.StateDeprecating, "", true},
		{engine.StateReadOnly, "", true},
		{engine.StateShutDown, "", true},
		{engine.StateEvaluated, "", true},
		{engine.StatePaused, engine.StateDraft, false},
		{engine.StatePaused, engine.StateScheduled, false},
		{engine.StatePaused, engine.StateAnnounced, true},
		{engine.StatePaused, engine.StateReadOnly, true},
		{engine.StateCancelled, "", false},
	} {
		s := &engine.Sunset{State: c.state, PausedFrom: c.from}
		if got := s.Announced(); got != c.want {
			t.Errorf("%s (paused from %q): Announced() = %v, want %v", c.state, c.from, got, c.want)
		}
	}
}

// nonceRE matches a page's CSP nonce, different in every answer.
var nonceRE = regexp.MustCompile(`nonce="[^"]*"`)

// withoutNonce blanks the CSP nonce of a page.
func withoutNonce(page string) string { return nonceRE.ReplaceAllString(page, `nonce=""`) }

// A server whose notices would link to a loopback address says so in apply's answer, for a plan
// that sends notices to people or endpoints only.
func TestApplyWarnsOfLoopbackLinksWhenThePlanSendsNotices(t *testing.T) {
	b := setup(t)
	b.srv.NoticeLinksWarning = "WARN: notices link to http://127.0.0.1:8080"
	b.rehandle()
	res := b.apply(t, testPlan) // an announce over email
	if !slices.Contains(res.Warnings, b.srv.NoticeLinksWarning) {
		t.Errorf("warnings %q lack the loopback warning", res.Warnings)
	}
	res = b.apply(t, testPlanNoSignoff) // no notice, no owner with an address
	if slices.Contains(res.Warnings, b.srv.NoticeLinksWarning) {
		t.Errorf("a plan that sends nothing is warned: %q", res.Warnings)
	}
	feedOnly := strings.Replace(testPlanNoSignoff, "name: reports-v2", "name: feed-v1", 1) +
		"notices:\n  - {at: announce, to: all, channels: [feed, banner], template: announce}\n"
	if res = b.apply(t, feedOnly); slices.Contains(res.Warnings, b.srv.NoticeLinksWarning) {
		t.Errorf("a plan publishing only on the public pages is warned: %q", res.Warnings)
	}
}
