package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
)

// benchPlan is the plan of bench/gateway.sh: 50 features, a brownout schedule, consumers by
// API key.
func benchPlan(tb testing.TB) *policy.Policy {
	tb.Helper()
	var b strings.Builder
	b.WriteString(`service: {name: bench-api, timezone: UTC, docs: "https://example.com/sunset"}
alternatives: [{name: v2, url: "https://example.com/v2", guide: "https://example.com/migrate"}]
consumers: {identify: {header: X-API-Key}}
milestones: {announce: 2027-01-05T10:00, deprecate: 2027-01-05T10:00, read_only: 2027-03-01T02:00, shutdown: 2027-03-15T02:00}
brownouts:
  - {from: shutdown-28d, every: "Tue,Thu 14:00", for: 15m, status: 503}
features:
`)
	for i := range 50 {
		fmt.Fprintf(&b, "  - {name: f%d, routes: [\"GET /v1/r%d/{id}\", \"/v1/r%d/{id}/sub/\"]}\n", i, i, i)
	}
	p, problems := plan.Parse("bench.yaml", []byte(b.String()))
	if err := problems.Err(); err != nil {
		tb.Fatal(err)
	}
	pol, err := policy.Compile(p, policy.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return pol
}

// discardWriter is a ResponseWriter that keeps the headers and drops the body, so that the
// benchmark measures the gateway and not a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// BenchmarkGatewayProxy measures one request through the whole gateway (identify, decide, RFC
// headers, usage counters, metrics, reverse proxy) to a real upstream on 127.0.0.1, in the
// deprecated phase, next to a bare httputil.ReverseProxy doing the same call. The upstream's and
// the connection's costs are in both; the difference is the gateway's.
func BenchmarkGatewayProxy(b *testing.B) {
	body := []byte(`{"id":42,"status":"shipped","items":3}` + "\n")
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	clock := sunset.NewFixedClock(time.Date(2027, 2, 1, 10, 0, 0, 0, time.UTC))
	gw := New(benchPlan(b), Options{Clock: clock, Usage: NewUsage(), Metrics: NewMetrics()})
	bare := httputil.NewSingleHostReverseProxy(u)
	bare.Transport = &http.Transport{MaxIdleConnsPerHost: 256}
	for _, c := range []struct {
		name    string
		handler http.Handler
		warn    bool
	}{
		{"gateway", gw.Wrap(NewProxy(u, ProxyOptions{})), true},
		{"bare", bare, false},
		// The gateway alone, in front of a handler that does nothing: its own cost.
		{"middleware", gw.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), true},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest("GET", "http://api.example.com/v1/r37/12345", nil)
				req.Header.Set("X-API-Key", "bench")
				req.RemoteAddr = "127.0.0.1:40000"
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					w.status = 0
					c.handler.ServeHTTP(w, req)
					if w.status != 0 && w.status != http.StatusOK {
						b.Fatalf("status %d", w.status)
					}
					if c.warn && w.h.Get("Deprecation") == "" {
						b.Fatal("no Deprecation header")
					}
				}
			})
		})
	}
}

func TestGatewayAllocatesNothingOnThePassPath(t *testing.T) {
	clock := sunset.NewFixedClock(time.Date(2027, 2, 1, 10, 0, 0, 0, time.UTC))
	gw := New(benchPlan(t), Options{Clock: clock, Usage: NewUsage(), Metrics: NewMetrics()})
	h := gw.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "http://api.example.com/v1/r37/12345", nil)
	req.Header.Set("X-API-Key", "bench")
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req) // the first request of a consumer records it once
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); n != 0 {
		t.Errorf("the gateway allocates %v times per passed request", n)
	}
	if w.h.Get("Deprecation") == "" {
		t.Error("no Deprecation header")
	}
}
