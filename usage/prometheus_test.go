package usage

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/internal/testenv"
)

// TestPrometheusQueryRangeAgainstARealServer starts the real Prometheus (Debian package
// prometheus) scraping a test exporter on 127.0.0.1, and analyses its query_range answer.
func TestPrometheusQueryRangeAgainstARealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server (a few seconds)")
	}
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		testenv.Skip(t, "real Prometheus", "prometheus is not installed (apt-get install prometheus)")
	}
	// The exporter: requests per second by route and client, as a gauge so that every sample is
	// an exact count.
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE test_requests gauge\n",
			`test_requests{route="/v1/reports/7",method="GET",client="acme-prod"} 5`+"\n",
			`test_requests{route="/v1/orders/1",method="GET",client="globex-7f3a"} 2`+"\n")
	}))
	defer exporter.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: test\n    static_configs: [{targets: [%q]}]\n", strings.TrimPrefix(exporter.URL, "http://"))), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()

	base := "http://" + addr
	start := time.Now()
	var series []PromSeries
	p := Prometheus{URL: base, Query: "test_requests", RouteLabel: "route", ConsumerLabel: "client", MethodLabel: "method", Step: time.Second}
	for {
		p.Start, p.End = start.Add(-time.Minute), time.Now()
		series, err = p.QueryRange(ctx)
		if err == nil && len(series) == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("prometheus never answered with two scraped series: %v, %d series\n%s", err, len(series), logs.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	var want int64
	for _, s := range series {
		for _, pt := range s.Points {
			want += int64(pt.Value)
		}
	}
	res, err := AnalyzePrometheus(ctx, p, Options{Identity: HeaderIdentity("X-API-Key"), Features: []FeatureRoutes{{Name: "reports", Routes: []string{"GET /v1/reports/{id}"}}}})
	if err != nil {
		t.Fatal(err)
	}
	// The second query may see one more scrape than the first.
	if res.Requests < want || res.Consumers != 2 || res.Parsed+res.Malformed != res.Lines {
		t.Errorf("requests %d (want at least %d) consumers %d", res.Requests, want, res.Consumers)
	}
	if len(res.Features) != 1 || res.Features[0].Consumers != 1 || res.Features[0].TopConsumers[0].ID != "acme-prod" {
		t.Errorf("features = %+v", res.Features)
	}

	t.Run("a bad query is reported with Prometheus's reason", func(t *testing.T) {
		bad := p
		bad.Query = "sum by ("
		if _, err := bad.QueryRange(ctx); err == nil || !strings.Contains(err.Error(), "bad_data") {
			t.Errorf("err = %v", err)
		}
	})
}
