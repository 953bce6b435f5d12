// Package metrics exposes the notice worker's health to Prometheus: deliveries by channel and
// outcome, how late delivered messages arrived, each channel's circuit breaker, and the outbox's
// depth by status. It is an adapter: notify itself imports no metrics library.
package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify"
)

// scrapeTimeout bounds how long a scrape waits for the outbox's depth.
const scrapeTimeout = 5 * time.Second

// LagBuckets are the delivery-lag histogram's upper bounds in seconds: the objective (30 s) sits
// among them, and so do the minutes and hours of an outage.
var LagBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 6 * 3600, 24 * 3600}

// Metrics is one registry of the notify metrics. Hand Observe to notify.Worker.Observe and serve
// Gatherer beside the server's own metrics.
type Metrics struct {
	reg        *prometheus.Registry
	deliveries *prometheus.CounterVec
	lag        *prometheus.HistogramVec
}

// Depth counts the outbox's deliveries by status (store.Outbox.Depth).
type Depth func(ctx context.Context) (map[notify.Status]int, error)

// New registers the instruments. breakers reads the worker's circuit breakers at scrape time
// (notify.Worker.Breakers); depth the outbox's depth; either may be nil. rt's logger receives
// scrape errors.
func New(breakers func() []notify.BreakerState, depth Depth, rt sunset.Runtime) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sunset_notify_deliveries_total",
			Help: "Sends of notices, by channel endpoint and outcome (delivered, retrying, failed).",
		}, []string{"channel", "outcome"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sunset_notify_delivery_lag_seconds",
			Help:    "How long after it was queued (the notice's fan-out) each delivered message was accepted by its channel.",
			Buckets: LagBuckets,
		}, []string{"channel"}),
	}
	m.reg.MustRegister(m.deliveries, m.lag, &collector{breakers: breakers, depth: depth, log: rt.Log()})
	return m
}

// Observe counts one send's outcome; it is safe for concurrent use.
func (m *Metrics) Observe(o notify.Outcome) {
	m.deliveries.WithLabelValues(o.Channel, o.Result).Inc()
	if o.Result == notify.OutcomeDelivered {
		m.lag.WithLabelValues(o.Channel).Observe(o.Lag.Seconds())
	}
}

// Gatherer returns the registry, for web.Server.MoreMetrics.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

var (
	breakerOpen = prometheus.NewDesc("sunset_notify_breaker_open",
		"1 while the channel endpoint's circuit breaker is open (its deliveries wait), else 0; per replica.", []string{"channel"}, nil)
	breakerFailures = prometheus.NewDesc("sunset_notify_breaker_failures",
		"Consecutive transient failures of the channel endpoint; per replica.", []string{"channel"}, nil)
	queueDepth = prometheus.NewDesc("sunset_notify_queue_depth",
		"Deliveries in the outbox by status (retrying: queued after a failed attempt).", []string{"status"}, nil)
)

// allStatuses are reported even when empty, so that a dashboard sees zeros, not gaps.
var allStatuses = []notify.Status{notify.StatusQueued, notify.StatusRetrying, notify.StatusSending,
	notify.StatusDelivered, notify.StatusFailed, notify.StatusSuppressed, notify.StatusHeld}

// collector reads the breakers and the outbox's depth at scrape time.
type collector struct {
	breakers func() []notify.BreakerState
	depth    Depth
	log      *slog.Logger
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerOpen
	ch <- breakerFailures
	ch <- queueDepth
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.breakers != nil {
		for _, b := range c.breakers() {
			open := 0.0
			if b.Open {
				open = 1
			}
			ch <- prometheus.MustNewConstMetric(breakerOpen, prometheus.GaugeValue, open, b.Channel)
			ch <- prometheus.MustNewConstMetric(breakerFailures, prometheus.GaugeValue, float64(b.Failures), b.Channel)
		}
	}
	if c.depth == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := c.depth(ctx)
	if err != nil {
		// A scrape without the depth beats a failed scrape; the log says why.
		c.log.Warn("notify metrics: outbox depth", "err", err)
		return
	}
	for _, st := range allStatuses {
		ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}
