package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sunsetops/sunset/web/api"
)

func TestMetricsExposition(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	b.apply(t, testPlanNoSignoff)
	b.do(t, http.MethodGet, "/api/v1/sunsets/nope", "")

	r := b.do(t, http.MethodGet, "/metrics", "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
	}
	text := string(r.body)
	for _, want := range []string{
		`sunset_http_requests_total{code="201",method="POST",route="POST /api/v1/plans"} 2`,
		`sunset_http_requests_total{code="404",method="GET",route="GET /api/v1/sunsets/{name}"} 1`,
		`sunset_http_request_duration_seconds_bucket{route="POST /api/v1/plans",le="+Inf"} 2`,
		`sunset_sunsets{state="draft"} 1`,
		`sunset_sunsets{state="scheduled"} 1`,
		`sunset_sunsets{state="cancelled"} 0`,
		`sunset_build_info{version="test"} 1`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", text)
	}
}

func TestMetricsSurviveAFailingEngine(t *testing.T) {
	b := setupWith(t, func(e api.Engine) api.Engine { return &faultyEngine{Engine: e, err: errTest} })
	b.do(t, http.MethodGet, "/healthz", "")
	r := b.do(t, http.MethodGet, "/metrics", "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "sunset_http_requests_total") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "sunset_sunsets{") {
		t.Fatal("the sunsets gauge was served without the engine")
	}
}
