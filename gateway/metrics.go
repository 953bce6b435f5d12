package gateway

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sunsetops/sunset/policy"
)

// Metrics are the gateway's Prometheus metrics, in a registry of their own.
type Metrics struct {
	reg      *prometheus.Registry
	requests [policy.Redirect + 1]prometheus.Counter
	// Stale is 1 while the gateway enforces a policy it could not refresh (control plane
	// unreachable, invalid new plan), 0 once a refresh succeeds.
	Stale prometheus.Gauge
	// LastSuccess is the Unix time of the last successful policy load or check.
	LastSuccess prometheus.Gauge
	// Loads counts policy loads by result: ok, unchanged, error.
	Loads *prometheus.CounterVec
	// Flushes counts usage flushes by result: ok, error.
	Flushes *prometheus.CounterVec
	// ControlPlaneUp is 1 while the control plane answers the policy polls (200 or 304), 0
	// when the last poll could not reach it or got an error answer. Only a gateway fed by a
	// control plane (--server) sets it.
	ControlPlaneUp prometheus.Gauge
	// Upstream counts failed upstream calls by kind: timeout, unreachable.
	Upstream *prometheus.CounterVec
}

// NewMetrics returns the metrics, registered in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sunset_gateway_requests_total", Help: "Requests decided, by phase.",
	}, []string{"phase"})
	for ph := policy.Active; ph <= policy.Redirect; ph++ {
		m.requests[ph] = reqs.WithLabelValues(ph.String())
	}
	m.Stale = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sunset_gateway_policy_stale", Help: "1 while the gateway enforces its last good policy because it could not refresh it.",
	})
	m.LastSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sunset_gateway_policy_last_success_timestamp_seconds", Help: "When the policy was last loaded or confirmed current.",
	})
	m.Loads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sunset_gateway_policy_loads_total", Help: "Policy loads, by result: ok, unchanged, error.",
	}, []string{"result"})
	m.ControlPlaneUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sunset_gateway_control_plane_up", Help: "1 while the control plane answers the policy polls, 0 when it is unreachable or answers errors.",
	})
	m.Flushes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sunset_gateway_usage_flushes_total", Help: "Usage flushes, by result: ok, error.",
	}, []string{"result"})
	m.Upstream = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sunset_gateway_upstream_errors_total", Help: "Upstream calls that failed, by kind: timeout, unreachable.",
	}, []string{"kind"})
	// The collectors package is the undeprecated home of these two, but it links database/sql
	// (its DBStatsCollector), which the gateway must not (layout_test.go).
	//lint:ignore SA1019 see above
	goCollector := prometheus.NewGoCollector()
	//lint:ignore SA1019 see above
	processCollector := prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{})
	m.reg.MustRegister(reqs, m.Stale, m.LastSuccess, m.Loads, m.Flushes, m.Upstream, m.ControlPlaneUp,
		goCollector, processCollector)
	return m
}

func (m *Metrics) request(d policy.Decision) {
	if int(d.Phase) < len(m.requests) {
		m.requests[d.Phase].Inc()
	}
}

// Gatherer returns the registry of the metrics, to serve them beside others.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// loaded counts a policy load; m may be nil.
func (m *Metrics) loaded(result string) {
	if m == nil {
		return
	}
	m.Loads.WithLabelValues(result).Inc()
	if result != "error" {
		m.LastSuccess.SetToCurrentTime()
	}
}

// controlPlane sets the control-plane gauge; m may be nil.
func (m *Metrics) controlPlane(up bool) {
	if m == nil {
		return
	}
	if up {
		m.ControlPlaneUp.Set(1)
	} else {
		m.ControlPlaneUp.Set(0)
	}
}

// stale sets the stale gauge; m may be nil.
func (m *Metrics) stale(on bool) {
	if m == nil {
		return
	}
	if on {
		m.Stale.Set(1)
	} else {
		m.Stale.Set(0)
	}
}
