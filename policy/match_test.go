package policy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// patternPool is the set of patterns the comparison with ServeMux draws from: every kind of
// segment, hosts and methods, and overlaps that ServeMux resolves by specificity.
var patternPool = []string{
	"/",
	"/v1/",
	"/v1/orders/",
	"GET /v1/orders/{id}",
	"GET /v1/orders/{id}/items",
	"POST /v1/orders",
	"/v1/orders/{id}/notes/{rest...}",
	"GET /v1/reports/{id}",
	"/v1/reports/{$}",
	"DELETE /v1/reports/{id}",
	"api.example.com/v1/",
	"GET api.example.com/v1/orders/{id}",
	"/v2/{name}/x",
	"/v2/a/{other}",
	"/static/a%20b/",
	"GET /{$}",
	"/exports/{id}",
	"HEAD /v1/heads/{id}",
}

// oracle answers which pattern ServeMux routes a request to, following its redirects once;
// "" when none does (404 or 405).
func oracle(patterns []string, method, host, target string) (string, bool) {
	mux := http.NewServeMux()
	for _, p := range patterns {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Pattern) })
	}
	for range 2 {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return "", false
		}
		req := &http.Request{Method: method, Host: host, URL: u, Header: http.Header{}, RequestURI: target}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			return rec.Body.String(), true
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc, err := url.Parse(rec.Header().Get("Location"))
			if err != nil {
				return "", false
			}
			target = loc.EscapedPath()
			continue
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return "", true
		default:
			return "", false // a request ServeMux refuses (400), not a routing answer
		}
	}
	return "", false
}

func matchPattern(patterns []string, method, host, target string) (string, bool) {
	var m matcher
	for i, p := range patterns {
		if err := m.add(p, i); err != nil {
			return "", false
		}
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return "", false
	}
	r := m.match(method, host, u.EscapedPath())
	if r == nil {
		return "", true
	}
	return r.pattern, true
}

// compatible returns the patterns of mask that ServeMux accepts together.
func compatible(mask uint32) []string {
	mux := http.NewServeMux()
	var kept []string
	for i, p := range patternPool {
		if mask&(1<<i) != 0 && checkPattern(mux, p) == nil {
			kept = append(kept, p)
		}
	}
	return kept
}

func TestMatchPicksTheSamePatternAsServeMux(t *testing.T) {
	all := compatible(^uint32(0))
	targets := []string{
		"/", "/v1", "/v1/", "/v1/orders", "/v1/orders/", "/v1/orders/42", "/v1/orders/42/items",
		"/v1/orders/42/items/", "/v1/orders/42/notes/a/b", "/v1/orders/42/notes", "/v1/reports/",
		"/v1/reports/7", "/v1/reports/7/", "/v2/a/x", "/v2/b/x", "/v2/a/y", "/static/a%20b/c",
		"/static/a b/c", "/v1/./orders/../reports/7", "//v1//orders", "/exports/9", "/exports/9/",
		"/v1/heads/1", "/v1/orders/%2F/items", "/v1/orders/a%zz", "/nothing/here",
	}
	for _, method := range []string{"GET", "HEAD", "POST", "DELETE", "PATCH"} {
		for _, host := range []string{"example.com", "api.example.com", "api.example.com:8443"} {
			for _, target := range targets {
				want, ok := oracle(all, method, host, target)
				if !ok {
					continue
				}
				got, _ := matchPattern(all, method, host, target)
				if got != want {
					t.Errorf("%s %s%s: matched %q, ServeMux routes to %q", method, host, target, got, want)
				}
			}
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add(uint32(0xffff), "GET", "example.com", "/v1/orders/42")
	f.Add(uint32(0x3), "HEAD", "api.example.com", "/v1/orders")
	f.Add(uint32(0x80), "POST", "", "/v1/reports/")
	f.Add(uint32(0xffffffff), "DELETE", "x:1", "/static/a%20b/%41")
	f.Fuzz(func(t *testing.T, mask uint32, method, host, target string) {
		if len(target) > 200 || len(host) > 50 || !validMethod(method) {
			return
		}
		patterns := compatible(mask)
		want, ok := oracle(patterns, method, host, target)
		if !ok {
			return
		}
		got, ok := matchPattern(patterns, method, host, target)
		if !ok {
			t.Fatalf("matcher refused patterns %q", patterns)
		}
		if got != want {
			t.Errorf("%s %s%s with %q: matched %q, ServeMux routes to %q", method, host, target, patterns, got, want)
		}
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 10 || m == "CONNECT" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
