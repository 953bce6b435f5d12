package policy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/examples"
	"github.com/sunsetops/sunset/plan"
)

// shanghai is the example plan's zone.
var shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// examplePolicy compiles examples/api-v2.yaml.
func examplePolicy(t testing.TB, opts Options) *Policy {
	t.Helper()
	data, err := examples.Files.ReadFile("api-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return compileYAML(t, data, opts)
}

func compileYAML(t testing.TB, data []byte, opts Options) *Policy {
	t.Helper()
	p, problems := plan.Parse("plan.yaml", data)
	if err := problems.Err(); err != nil {
		t.Fatalf("plan: %v", err)
	}
	pol, err := Compile(p, opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return pol
}

func TestDecideWalksTheExamplePlanThroughEveryPhase(t *testing.T) {
	pol := examplePolicy(t, Options{Laggards: []string{"slow-co"}})
	tests := []struct {
		name     string
		now      string
		method   string
		path     string
		consumer string
		want     Phase
		pass     bool
		status   int
		feature  string
		warn     bool
	}{
		{"passes untouched before deprecation", "2027-01-01T00:00", "GET", "/v1/orders/1", "a", Active, true, 0, "orders", false},
		{"warns once deprecated", "2027-01-05T10:00", "GET", "/v1/orders/1", "a", Deprecated, true, 0, "orders", true},
		{"unmatched paths belong to the service", "2027-01-06T00:00", "GET", "/v1/customers", "a", Deprecated, true, 0, "orders-api-v1", true},
		{"a feature goes before the service", "2027-02-01T02:00", "GET", "/v1/reports/9", "a", Gone, false, 410, "reports", true},
		{"a gone feature refuses every method", "2027-02-02T00:00", "POST", "/v1/reports", "a", Gone, false, 410, "reports", true},
		{"brownout window fails the call", "2027-02-16T14:05", "GET", "/v1/orders/1", "a", Brownout, false, 503, "orders", true},
		{"brownout window ends", "2027-02-16T14:15", "GET", "/v1/orders/1", "a", Deprecated, true, 0, "orders", true},
		{"exempt consumers pass brownouts", "2027-02-16T14:05", "GET", "/v1/orders/1", "acme-prod", Deprecated, true, 0, "orders", true},
		{"read_only lets reads through", "2027-03-01T02:00", "GET", "/v1/orders/1", "a", ReadOnly, true, 0, "orders", true},
		{"read_only refuses writes", "2027-03-01T02:00", "POST", "/v1/orders/", "a", ReadOnly, false, 503, "orders", true},
		{"read_only lets OPTIONS through", "2027-03-01T02:00", "OPTIONS", "/v1/orders/", "a", ReadOnly, true, 0, "orders", true},
		{"redirects a feature with a replacement", "2027-03-01T02:00", "GET", "/v1/exports/4", "a", Redirect, false, 308, "exports", true},
		{"escalated brownout answers 410 for an hour", "2027-03-02T14:59", "GET", "/v1/orders/1", "a", Brownout, false, 410, "orders", true},
		{"laggards-only brownout spares others", "2027-03-09T03:00", "GET", "/v1/customers", "not-a-laggard", ReadOnly, true, 0, "orders-api-v1", true},
		{"everything is gone at shutdown", "2027-03-15T02:00", "GET", "/v1/orders/1", "acme-prod", Gone, false, 410, "orders", true},
		{"the service is gone at shutdown", "2027-03-15T02:00", "GET", "/anything", "a", Gone, false, 410, "orders-api-v1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(pol, at(tt.now), Request{Method: tt.method, Host: "api.example.com", Path: tt.path, Consumer: tt.consumer})
			if d.Phase != tt.want || d.Pass != tt.pass || d.Status != tt.status || d.Feature.Name != tt.feature || d.Warn != tt.warn {
				t.Errorf("got phase %s pass %v status %d feature %q warn %v; want %s %v %d %q %v",
					d.Phase, d.Pass, d.Status, d.Feature.Name, d.Warn, tt.want, tt.pass, tt.status, tt.feature, tt.warn)
			}
		})
	}
}

func TestBrownoutRetryAfterIsTheWindowEnd(t *testing.T) {
	pol := examplePolicy(t, Options{})
	d := Decide(pol, at("2027-03-04T14:20"), Request{Method: "GET", Path: "/v1/orders/1", Consumer: "a"})
	if d.Phase != Brownout || !d.RetryAfter.Equal(at("2027-03-04T15:00")) {
		t.Fatalf("got %s until %v, want a brownout until 15:00", d.Phase, d.RetryAfter)
	}
}

// TestBrownoutOpenFollowsTheWindows: the example's Tue,Thu 14:00 windows are open for their
// hour, closed between them and before the first.
func TestBrownoutOpenFollowsTheWindows(t *testing.T) {
	pol := examplePolicy(t, Options{})
	for when, want := range map[string]bool{
		"2027-03-04T14:20": true,  // Thursday, in the 1h window
		"2027-03-04T15:20": false, // after it
		"2027-03-03T14:20": false, // Wednesday
		"2027-02-02T14:20": false, // before the brownouts start
		"2027-03-09T09:00": true,  // the 10% laggards brownout from shutdown-7d
	} {
		if got := pol.BrownoutOpen(at(when)); got != want {
			t.Errorf("BrownoutOpen(%s) = %v, want %v", when, got, want)
		}
	}
}

func TestPercentBrownoutIsConsistentPerConsumerAndWindow(t *testing.T) {
	ids := make([]string, 2000)
	for i := range ids {
		ids[i] = fmt.Sprintf("consumer-%d", i)
	}
	pol := examplePolicy(t, Options{Laggards: ids})
	failed := 0
	for _, id := range ids {
		first := Decide(pol, at("2027-03-09T03:01"), Request{Method: "GET", Path: "/v1/orders/1", Consumer: id})
		for _, minute := range []string{"03:10", "03:30", "03:59"} {
			again := Decide(pol, at("2027-03-09T"+minute), Request{Method: "GET", Path: "/v1/orders/1", Consumer: id})
			if again.Pass != first.Pass {
				t.Fatalf("%s flaps inside one window: %v at 03:01, %v at %s", id, first.Pass, again.Pass, minute)
			}
		}
		if !first.Pass {
			failed++
			if !first.RetryAfter.Equal(at("2027-03-09T04:00")) {
				t.Errorf("Retry-After %v, want the end of the hour window", first.RetryAfter)
			}
		}
	}
	// 10% of 2000, give or take.
	if failed < 140 || failed > 260 {
		t.Errorf("%d of %d consumers failed, want about 10%%", failed, len(ids))
	}
	// The next window draws again: not the same consumers.
	same := 0
	for _, id := range ids {
		a := Decide(pol, at("2027-03-09T03:01"), Request{Method: "GET", Path: "/x", Consumer: id})
		b := Decide(pol, at("2027-03-09T04:01"), Request{Method: "GET", Path: "/x", Consumer: id})
		if !a.Pass && !b.Pass {
			same++
		}
	}
	if same > failed/2 {
		t.Errorf("%d of %d consumers failed in two windows running; the draw should change per window", same, failed)
	}
}

func TestSimulateRehearsesAPhase(t *testing.T) {
	pol := examplePolicy(t, Options{})
	now := at("2026-12-01T00:00")
	req := func(method, path string, ph Phase) Decision {
		return Decide(pol, now, Request{Method: method, Path: path, Simulate: ph})
	}
	if d := req("GET", "/v1/orders/1", Gone); d.Status != 410 || !d.Simulated || !d.Warn {
		t.Errorf("simulate gone: %+v", d)
	}
	if d := req("GET", "/v1/exports/1", Gone); d.Status != 308 || d.Location != "https://api.example.com/v2/exports" {
		t.Errorf("simulate gone on a redirected feature: %+v", d)
	}
	if d := req("GET", "/v1/orders/1", Brownout); d.Status != 503 || !d.RetryAfter.Equal(now.Add(time.Hour)) {
		t.Errorf("simulate brownout: status %d retry %v", d.Status, d.RetryAfter)
	}
	if d := req("PUT", "/v1/orders/1", ReadOnly); d.Status != 503 || d.Pass {
		t.Errorf("simulate read_only write: %+v", d)
	}
	if d := req("GET", "/v1/orders/1", ReadOnly); !d.Pass {
		t.Errorf("simulate read_only read: %+v", d)
	}
}

func TestFeatureHeadersFollowTheRFCs(t *testing.T) {
	pol := examplePolicy(t, Options{})
	f := pol.Features()[0] // reports: deprecated 2027-01-05 10:00 +08, gone 2027-02-01 02:00 +08
	if f.Deprecation != "@1799114400" {
		t.Errorf("Deprecation %q", f.Deprecation)
	}
	if f.Sunset != "Sun, 31 Jan 2027 18:00:00 GMT" {
		t.Errorf("Sunset %q", f.Sunset)
	}
	want := `<https://developer.example.com/orders/v2/migrate>; rel="deprecation"; type="text/html", ` +
		`<https://developer.example.com/orders/v1/sunset>; rel="sunset"; type="text/html", ` +
		`<https://api.example.com/v2/orders>; rel="successor-version"`
	if f.Link != want {
		t.Errorf("Link\n got %s\nwant %s", f.Link, want)
	}
}

// fiftyFeatures is a plan with 50 features of two routes each, deprecated on 2027-01-05.
func fiftyFeatures() []byte {
	var b strings.Builder
	b.WriteString(`service: {name: big-api, timezone: UTC, docs: "https://example.com/sunset"}
alternatives: [{name: v2, url: "https://example.com/v2", guide: "https://example.com/migrate"}]
consumers: {identify: {header: X-API-Key}, exempt: [vip]}
milestones: {announce: 2027-01-05T10:00, deprecate: 2027-01-05T10:00, read_only: 2027-03-01T02:00, shutdown: 2027-03-15T02:00}
brownouts:
  - {from: shutdown-28d, every: "Tue,Thu 14:00", for: 15m, status: 503}
features:
`)
	for i := range 50 {
		fmt.Fprintf(&b, "  - {name: f%d, routes: [\"GET /v1/r%d/{id}\", \"/v1/r%d/{id}/sub/\"]}\n", i, i, i)
	}
	return []byte(b.String())
}

// BenchmarkDecide decides requests of the 50-feature plan: "canonical" paths as well-behaved
// clients send them (the original benchmark), and "hostile" spellings of the same routes (case,
// trailing slash, dot segments, ;parameters, escapes, ambiguous escapes refused with 400).
func BenchmarkDecide(b *testing.B) {
	pol := compileYAML(b, fiftyFeatures(), Options{})
	now := time.Date(2027, 2, 1, 10, 0, 0, 0, time.UTC) // deprecated, no brownout window
	canonical := []Request{
		{Method: "GET", Host: "api.example.com", Path: "/v1/r37/12345", Consumer: "c1"},
		{Method: "POST", Host: "api.example.com", Path: "/v1/r3/9/sub/deeper/still", Consumer: "c2"},
		{Method: "GET", Host: "api.example.com:443", Path: "/v1/unmatched/path", Consumer: "c3"},
		{Method: "HEAD", Host: "api.example.com", Path: "/v1/r49/1", Consumer: "c4"},
	}
	hostile := []Request{
		{Method: "GET", Host: "api.example.com", Path: "/V1/R37/12345", Consumer: "c1"},
		{Method: "POST", Host: "api.example.com", Path: "/v1/r3/9/SUB/deeper/still/", Consumer: "c2"},
		{Method: "GET", Host: "api.example.com", Path: "/v1/r37/12345/", Consumer: "c3"},
		{Method: "GET", Host: "api.example.com", Path: "/v1/r37%2f12345", Consumer: "c4"},
		{Method: "GET", Host: "api.example.com", Path: "/v1/x/%2e%2e/r37/1", Consumer: "c5"},
		{Method: "GET", Host: "api.example.com", Path: "/v1//r37/./1;jsessionid=9", Consumer: "c6"},
		{Method: "GET", Host: "api.example.com", Path: "/v1/%72%33%37/1", Consumer: "c7"},
		{Method: "GET", Host: "api.example.com", Path: "/v1/x/../r37/1", Consumer: "c8"},
	}
	run := func(b *testing.B, reqs []Request) {
		for _, r := range reqs {
			if d := Decide(pol, now, r); !d.BadPath && (!d.Pass || !d.Warn || d.Feature.Index < 0 && r.Consumer != "c3") {
				b.Fatalf("%+v does not pass with warnings: %+v", r, d)
			}
		}
		b.ReportAllocs()
		n := len(reqs)
		for i := 0; b.Loop(); i++ {
			Decide(pol, now, reqs[i%n])
		}
	}
	b.Run("canonical", func(b *testing.B) { run(b, canonical) })
	b.Run("hostile", func(b *testing.B) { run(b, hostile) })
}

func TestDecideAllocatesNothingOnThePassPath(t *testing.T) {
	pol := compileYAML(t, fiftyFeatures(), Options{})
	now := time.Date(2027, 2, 23, 13, 0, 0, 0, time.UTC) // inside the brownout period, outside a window
	req := Request{Method: "GET", Host: "h", Path: "/v1/r7/1", Consumer: "c"}
	if n := testing.AllocsPerRun(100, func() { Decide(pol, now, req) }); n != 0 {
		t.Errorf("Decide allocates %v times per pass", n)
	}
}
