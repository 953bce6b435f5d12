package policy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCanonicalPathSpellsEachPathOneWay(t *testing.T) {
	strict := pathOptions{fold: true}
	lenient := pathOptions{fold: true, allowAmbiguous: true}
	tests := []struct {
		name string
		in   string
		opts pathOptions
		want string
		v    pathVerdict
	}{
		{"canonical stays", "/v1/reports/1", strict, "/v1/reports/1", pathOK},
		{"root", "/", strict, "/", pathOK},
		{"empty is the root", "", strict, "/", pathOK},
		{"trailing slash kept", "/v1/reports/1/", strict, "/v1/reports/1/", pathOK},
		{"case kept", "/V1/REPORTS/1", strict, "/V1/REPORTS/1", pathOK},
		{"duplicate slashes", "//v1///reports//1", strict, "/v1/reports/1", pathOK},
		{"dot segment", "/v1/./reports/1", strict, "/v1/reports/1", pathOK},
		{"dot-dot segment", "/v1/orders/../reports/1", strict, "/v1/reports/1", pathOK},
		{"dot-dot above the root", "/../../v1/reports/1", strict, "/v1/reports/1", pathOK},
		{"ending in dot-dot keeps a slash", "/v1/reports/1/..", strict, "/v1/reports/", pathOK},
		{"ending in dot keeps a slash", "/v1/reports/.", strict, "/v1/reports/", pathOK},
		{"parameters cut", "/v1/reports;x=1/1;jsessionid=2", strict, "/v1/reports/1", pathOK},
		{"parameter-only segment", "/v1/;x/reports/1", strict, "", pathAmbiguous},
		{"dot-dot with a parameter", "/v1/orders/..;x/reports/1", strict, "", pathAmbiguous},
		{"dot with a parameter", "/v1/.;x/reports/1", strict, "", pathAmbiguous},
		{"escaped dot-dot with a parameter", "/v1/orders/%2e.;/reports/1", strict, "", pathAmbiguous},
		{"dots and more with a parameter", "/v1/...;x/1", strict, "/v1/.../1", pathOK},
		{"allowed: dot-dot with a parameter is a segment", "/v1/orders/..;x/reports/1", lenient, "/v1/orders/..;x/reports/1", pathOK},
		{"unreserved escapes decoded", "/v1/%72%45ports/%31%2D%5f%7E", strict, "/v1/rEports/1-_~", pathOK},
		{"escaped dot inside a segment", "/v1/reports/a%2eb", strict, "/v1/reports/a.b", pathOK},
		{"reserved escapes upper-cased", "/v1/a%3ab/%c3%a9", strict, "/v1/a%3Ab/%C3%A9", pathOK},
		{"space stays escaped", "/v1/a%20b", strict, "/v1/a%20b", pathOK},
		{"encoded slash", "/v1/reports%2f1", strict, "", pathAmbiguous},
		{"encoded slash upper", "/v1/reports%2F1", strict, "", pathAmbiguous},
		{"encoded dot-dot", "/v1/orders/%2e%2e/reports/1", strict, "", pathAmbiguous},
		{"half-encoded dot-dot", "/v1/orders/.%2E/reports/1", strict, "", pathAmbiguous},
		{"encoded dot", "/v1/%2e/reports/1", strict, "", pathAmbiguous},
		{"dot-dot and encoded slash", "/v1/orders/..%2freports/1", strict, "", pathAmbiguous},
		{"encoded backslash", "/v1/orders/..%5creports/1", strict, "", pathAmbiguous},
		{"raw backslash", "/v1/orders/..\\reports/1", strict, "", pathAmbiguous},
		{"encoded semicolon", "/v1/reports%3bx=1/1", strict, "", pathAmbiguous},
		{"double escape", "/v1/reports%252f1", strict, "", pathAmbiguous},
		{"escaped percent before escaped hex", "/%25%32E%2e/v1/reports/1", strict, "", pathAmbiguous},
		{"escaped percent alone", "/v1/100%25", strict, "", pathAmbiguous},
		{"ambiguous escape in a parameter", "/api/zz/..;x%252Fphotos", strict, "", pathAmbiguous},
		{"encoded slash in a parameter", "/v1/reports;a%2fb/1", strict, "", pathAmbiguous},
		{"broken escape in a parameter", "/v1/reports;a%g/1", strict, "", pathMalformed},
		{"long s folds onto s", "/v1/report%C5%BF/1", strict, "", pathAmbiguous},
		{"Kelvin sign folds onto k", "/v1/%E2%84%AAeys", strict, "", pathAmbiguous},
		{"long s when case-sensitive", "/v1/report%C5%BF/1", pathOptions{}, "/v1/report%C5%BF/1", pathOK},
		{"escaped NUL", "/v1/reports/1%00", strict, "", pathMalformed},
		{"raw control character", "/v1/reports/1\x01", strict, "", pathMalformed},
		{"broken escape", "/v1/reports/%zz", strict, "", pathMalformed},
		{"truncated escape", "/v1/reports/%4", strict, "", pathMalformed},
		{"dot-dot after an empty segment", "/v1/reports//../42", strict, "", pathAmbiguous},
		{"dot-dot after two empty segments", "/a//b/../../c", strict, "", pathAmbiguous},
		{"empty segment then a dot-dot that agrees", "//../v1/x", strict, "/v1/x", pathOK},
		{"empty segment after a dot-dot", "/v1/x/..//reports/1", strict, "/v1/reports/1", pathOK},
		{"allowed: dot-dot after an empty segment as RFC 3986", "/v1/reports//.%2E/42", lenient, "/v1/reports/42", pathOK},
		{"allowed: two empty segments as RFC 3986", "/a//b/../../c", lenient, "/a/c", pathOK},
		{"allowed: encoded slash is data", "/v1/reports%2f1", lenient, "/v1/reports%2F1", pathOK},
		{"allowed: encoded dots are dots", "/v1/orders/%2e%2e/reports/1", lenient, "/v1/reports/1", pathOK},
		{"allowed: dot-dot and encoded slash is one segment", "/v1/orders/..%2freports/1", lenient, "/v1/orders/..%2Freports/1", pathOK},
		{"allowed: backslash is data", "/v1/a\\b", lenient, "/v1/a%5Cb", pathOK},
		{"allowed: double escape is data", "/v1/a%252f", lenient, "/v1/a%252f", pathOK},
		{"allowed: NUL still refused", "/v1/reports/1%00", lenient, "", pathMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, plain, v := canonicalPath(tt.in, tt.opts)
			if got != tt.want || v != tt.v {
				t.Errorf("canonicalPath(%q) = %q, %d; want %q, %d", tt.in, got, v, tt.want, tt.v)
			}
			if plain && strings.ContainsAny(got, "%ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				t.Errorf("canonicalPath(%q) = %q says it is plain", tt.in, got)
			}
			if v == pathOK {
				again, _, v2 := canonicalPath(got, tt.opts)
				if again != got || v2 != pathOK {
					t.Errorf("not idempotent: %q then %q (%d)", got, again, v2)
				}
			}
		})
	}
}

// TestDecideRefusesEveryHostileSpellingOfAGoneRoute: the spellings an attacker tried on
// examples/api-v2.yaml once reports is gone.
func TestDecideRefusesEveryHostileSpellingOfAGoneRoute(t *testing.T) {
	pol := examplePolicy(t, Options{})
	now := at("2027-02-02T00:00") // reports gone, orders deprecated
	tests := []struct {
		method, path string
		status       int
		feature      string
	}{
		{"GET", "/v1/reports/1", 410, "reports"},
		{"GET", "/v1/reports/1/", 410, "reports"},
		{"GET", "/V1/reports/1", 410, "reports"},
		{"GET", "/v1/REPORTS/1", 410, "reports"},
		{"GET", "/v1/reports%2f1", 400, "orders-api-v1"},
		{"GET", "/v1/orders/%2e%2e/reports/1", 400, "orders-api-v1"},
		{"GET", "/v1/orders/..%2freports/1", 400, "orders-api-v1"},
		{"GET", "/v1/reports;x=1/1", 410, "reports"},
		{"POST", "/v1/reports/", 410, "reports"},
		{"POST", "/V1/Reports", 410, "reports"},
		{"DELETE", "/v1/reports/1", 410, "reports"},
		{"GET", "/v1//reports/1", 410, "reports"},
		{"GET", "/v1/orders/../reports/1", 410, "reports"},
		{"HEAD", "/v1/%72eports/1", 410, "reports"},
		{"GET", "/v1/orders/1", 0, "orders"},
		{"GET", "/V1/ORDERS/1/ITEMS", 0, "orders"},
	}
	for _, tt := range tests {
		d := Decide(pol, now, Request{Method: tt.method, Host: "api.example.com", Path: tt.path})
		if d.Status != tt.status || d.Feature.Name != tt.feature || d.BadPath != (tt.status == 400) {
			t.Errorf("%s %s: status %d feature %q badPath %v; want %d %q", tt.method, tt.path, d.Status, d.Feature.Name, d.BadPath, tt.status, tt.feature)
		}
	}
}

func TestCaseSensitivePathsMatchOnlyTheirCase(t *testing.T) {
	data := fiftyFeatures()
	sensitive := compileYAML(t, append([]byte("service: {name: big-api, gateway: {case_sensitive_paths: true}}\n"), data[len("service: {name: big-api, timezone: UTC, docs: \"https://example.com/sunset\"}\n"):]...), Options{})
	insensitive := compileYAML(t, data, Options{})
	now := time.Date(2027, 2, 1, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		pol  *Policy
		path string
		want string
	}{
		{insensitive, "/V1/R7/1", "f7"},
		{insensitive, "/v1/r7/1/SUB/x", "f7"},
		{sensitive, "/v1/r7/1", "f7"},
		{sensitive, "/V1/R7/1", "big-api"},
	} {
		if d := Decide(tt.pol, now, Request{Method: "GET", Path: tt.path}); d.Feature.Name != tt.want {
			t.Errorf("%s: feature %q, want %q", tt.path, d.Feature.Name, tt.want)
		}
	}
}

func TestDecideForwardsTheCanonicalPath(t *testing.T) {
	pol := examplePolicy(t, Options{})
	now := at("2027-02-02T00:00")
	for in, want := range map[string]string{
		"/v1/orders/1":          "/v1/orders/1",
		"/v1//orders/./1;v=2":   "/v1/orders/1",
		"/v1/%6Frders/%c3%a9":   "/v1/orders/%C3%A9",
		"/v1/x/../orders/1/":    "/v1/orders/1/",
		"/V1/Orders/1":          "/V1/Orders/1",
		"/v1/orders/1/items/..": "/v1/orders/1/",
	} {
		d := Decide(pol, now, Request{Method: "GET", Path: in})
		if !d.Pass || d.Path != want {
			t.Errorf("%s: pass %v path %q, want %q", in, d.Pass, d.Path, want)
		}
	}
}

func TestDecideAllocatesNothingForHostileSpellings(t *testing.T) {
	pol := compileYAML(t, fiftyFeatures(), Options{})
	now := time.Date(2027, 2, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		path   string
		allocs float64
	}{
		{"/V1/R7/1", 0},             // case folded on the stack
		{"/v1/r7%2f1", 0},           // refused before any copy
		{"/v1/r7/%2e%2e/r8/1", 0},   // refused
		{"/v1/r7/1/", 0},            // trailing slash: a second lookup, no copy
		{"/v1//r7/./1;x=2", 1},      // rewritten: one string, the path forwarded
		{"/v1/r7/%31%32%33", 1},     // rewritten
		{"/v1/%C3%A9/x/../r7/1", 1}, // rewritten
	} {
		req := Request{Method: "GET", Host: "h", Path: tc.path, Consumer: "c"}
		if n := testing.AllocsPerRun(100, func() { Decide(pol, now, req) }); n != tc.allocs {
			t.Errorf("%s: Decide allocates %v times, want %v", tc.path, n, tc.allocs)
		}
	}
}

func TestSnapshotCarriesTheServicesReadingOfPaths(t *testing.T) {
	data := []byte(strings.Replace(string(fiftyFeatures()), `docs: "https://example.com/sunset"}`,
		`docs: "https://example.com/sunset", gateway: {case_sensitive_paths: true, allow_ambiguous_paths: true, methods: [PROPFIND]}}`, 1))
	pol := compileYAML(t, data, Options{})
	raw, err := json.Marshal(pol.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var s Snapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	again, err := FromSnapshot(&s)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 2, 1, 10, 0, 0, 0, time.UTC)
	if !again.AllowsMethod("PROPFIND") || again.AllowsMethod("MKCOL") || !again.AllowsMethod("GET") {
		t.Errorf("methods after a JSON round trip: %v", again.Methods())
	}
	if d := Decide(again, now, Request{Method: "GET", Path: "/V1/R7/1"}); d.Feature.Name != "big-api" {
		t.Errorf("case-sensitive paths lost: /V1/R7/1 is %s", d.Feature.Name)
	}
	if d := Decide(again, now, Request{Method: "GET", Path: "/v1/r7/a%2Fb"}); d.BadPath || d.Path != "/v1/r7/a%2Fb" || d.Feature.Name != "f7" {
		t.Errorf("allowed ambiguous paths lost: %+v", d)
	}
	for _, bad := range []string{"TRACE", "GET", "propfind", ""} {
		s.Service.Methods = []string{bad}
		if _, err := FromSnapshot(&s); err == nil {
			t.Errorf("a snapshot with method %q is accepted", bad)
		}
	}
}
