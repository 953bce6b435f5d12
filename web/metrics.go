package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/web/api"
)

// scrapeTimeout bounds how long the sunsets gauge waits for the engine during a scrape.
const scrapeTimeout = 5 * time.Second

// allStates lists every state, so that the sunsets gauge shows zeros instead of missing series.
var allStates = []engine.State{
	engine.StateDraft, engine.StateScheduled, engine.StateAnnounced, engine.StateDeprecating,
	engine.StateReadOnly, engine.StateShutDown, engine.StateEvaluated, engine.StatePaused,
	engine.StateCancelled,
}

// metrics is one Handler's Prometheus registry and the instruments the middleware feeds. It has
// its own registry, never the global default one, so that two servers in one process (tests)
// do not collide.
type metrics struct {
	// more are metrics served beside the server's own (Server.MoreMetrics).
	more     prometheus.Gatherer
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	log      *slog.Logger
}

// newMetrics registers the Go and process collectors, the HTTP instruments, the build info and
// the sunsets gauge computed from s.Engine at scrape time.
func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sunset_http_requests_total",
			Help: "HTTP requests served, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sunset_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		log:  s.logger(),
		more: s.MoreMetrics,
	}
	buildLabels := prometheus.Labels{"version": s.Version}
	if s.Replica != "" {
		buildLabels["replica"] = s.Replica
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "sunset_build_info",
		Help:        "Always 1; the version label names the running build, the replica label this replica.",
		ConstLabels: buildLabels,
	})
	build.Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests,
		m.duration,
		build,
		&sunsetsCollector{engine: s.Engine, desc: prometheus.NewDesc(
			"sunset_sunsets",
			"Sunsets by state, read from the engine at scrape time.",
			[]string{"state"}, nil),
			failing: prometheus.NewDesc("sunset_engine_actions_failing",
				"Actions whose last run failed and that have not run since, per sunset (0 when none).",
				[]string{"sunset"}, nil),
			blocked: prometheus.NewDesc("sunset_engine_actions_blocked",
				"Actions already due that wait behind a failing action, per sunset.",
				[]string{"sunset"}, nil),
			diverged: prometheus.NewDesc("sunset_engine_phase_diverged",
				"1 when the phase the gateway enforces differs from the one the engine's state stands for (labels name both), per sunset under way.",
				[]string{"sunset", "engine_phase", "gateway_phase"}, nil),
			phase: s.api().WithGatewayPhase},
	)
	return m
}

// handler serves the registry in the Prometheus text format. A failing collector leaves its
// metrics out and the rest are still served.
func (m *metrics) handler() http.Handler {
	var g prometheus.Gatherer = m.reg
	if m.more != nil {
		g = prometheus.Gatherers{m.reg, m.more}
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	})
}

// instrument counts and times requests to next under the route label.
func (m *metrics) instrument(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w}
		defer func() {
			m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
			m.requests.WithLabelValues(methodLabel(r.Method), route, strconv.Itoa(rw.Status())).Inc()
		}()
		next.ServeHTTP(rw, r)
	})
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// sunsetsCollector is the sunset_sunsets{state} gauge, counted from Engine.Statuses on each
// scrape, with the engine's failing and blocked actions per sunset and whether its phase and the
// gateway's diverge.
type sunsetsCollector struct {
	engine                     api.Engine
	desc                       *prometheus.Desc
	failing, blocked, diverged *prometheus.Desc
	// phase fills a status's gateway phase (api.Server.WithGatewayPhase).
	phase func(ctx context.Context, st *engine.Status)
}

// Describe sends the gauges' descriptions.
func (c *sunsetsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.failing
	ch <- c.blocked
	ch <- c.diverged
}

// Collect counts sunsets by state, sending every known state (zero when none) and any other
// state the engine reports.
func (c *sunsetsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	list, err := c.engine.Statuses(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	counts := make(map[engine.State]int, len(allStates))
	for _, st := range allStates {
		counts[st] = 0
	}
	for _, st := range list {
		if st == nil || st.Sunset == nil {
			continue
		}
		counts[st.State]++
		if st.State == engine.StateCancelled || st.State == engine.StateEvaluated {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.failing, prometheus.GaugeValue, float64(len(st.Failing)), st.Name)
		ch <- prometheus.MustNewConstMetric(c.blocked, prometheus.GaugeValue, float64(len(st.Blocked)), st.Name)
		if c.phase != nil {
			c.phase(ctx, st)
			if st.GatewayPhase != "" {
				v := 0.0
				if st.PhasesDiverge {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(c.diverged, prometheus.GaugeValue, v, st.Name, st.EnginePhase, st.GatewayPhase)
			}
		}
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(state))
	}
}
