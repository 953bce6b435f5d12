package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/web/auth"
)

// publicLimited are the public routes with rate and size limits: all but the probes.
func publicLimited() []route {
	var out []route
	for _, rt := range routeTable() {
		if rt.Role == auth.RolePublic && !auth.Unlimited(rt.Pattern) {
			out = append(out, rt)
		}
	}
	return out
}

func TestPublicRoutesAreRateAndSizeLimited(t *testing.T) {
	b := setupSecure(t, storetest.OpenSQLite)
	for _, rt := range publicLimited() {
		method, path := splitPattern(rt.Pattern)
		path = concretePath(path)
		t.Run(rt.Pattern, func(t *testing.T) {
			s := &Server{Engine: b.eng, Now: b.clock.Now, Feedback: b.st.Feedback(), PublicPerMinute: 2, Auth: &auth.Auth{Store: b.st.Credentials()}}
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			do := func(body string) *http.Response {
				req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp
			}
			if !safeMethod(method) {
				if resp := do(strings.Repeat("a", auth.MaxPublicBody+1)); resp.StatusCode != http.StatusRequestEntityTooLarge {
					t.Errorf("oversized body: %d, want 413", resp.StatusCode)
				}
			} else {
				do("")
			}
			do("")
			resp := do("")
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Errorf("third request in a minute: %d (Retry-After %q), want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			// A minute later the address may call again.
			b.clock.Advance(time.Minute)
			if resp := do(""); resp.StatusCode == http.StatusTooManyRequests {
				t.Errorf("still 429 a minute later")
			}
		})
	}
}

func TestMutatingRoutesRefuseOversizedAndMalformedBodies(t *testing.T) {
	for dbName, open := range stores {
		t.Run(dbName, func(t *testing.T) {
			b := setupSecure(t, open)
			before := b.state(t)
			admin := bearer(b.tokens[auth.RoleAdmin])
			for _, rt := range routeTable() {
				method, path := splitPattern(rt.Pattern)
				if safeMethod(method) || rt.Role == auth.RolePublic || rt.Pattern == "POST /logout" {
					continue
				}
				path = concretePath(path)
				huge := `{"reason":"` + strings.Repeat("x", 11<<20) + `"}`
				if r := b.call(t, method, path, huge, append(admin, "Content-Type", "application/json")...); r.status != http.StatusRequestEntityTooLarge {
					t.Errorf("%s with an 11 MiB body: %d, want 413: %.200s", rt.Pattern, r.status, r.body)
				}
				for _, body := range []string{`{"reason":`, "\x00\xff\xfe", `["not", "an object"]`} {
					r := b.call(t, method, path, body, append(admin, "Content-Type", "application/json")...)
					if r.status != http.StatusBadRequest && r.status != http.StatusUnsupportedMediaType {
						t.Errorf("%s with the malformed body %q: %d, want 400: %.200s", rt.Pattern, body, r.status, r.body)
					}
				}
			}
			if after := b.state(t); after != before {
				t.Errorf("refused bodies changed the state:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}
