package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/metrics"
)

// gather returns every series as "name{label=value,...}" → metric.
func gather(t *testing.T, m *metrics.Metrics) map[string]*dto.Metric {
	t.Helper()
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.Metric{}
	for _, mf := range mfs {
		for _, x := range mf.GetMetric() {
			key := mf.GetName() + "{"
			for i, l := range x.GetLabel() {
				if i > 0 {
					key += ","
				}
				key += l.GetName() + "=" + l.GetValue()
			}
			out[key+"}"] = x
		}
	}
	return out
}

func TestNotifyMetricsCountOutcomesLagBreakersAndDepth(t *testing.T) {
	breakers := func() []notify.BreakerState {
		return []notify.BreakerState{
			{Channel: "email"},
			{Channel: "webhook:crm", Open: true, Failures: 5, LastError: "500"},
		}
	}
	depth := func(context.Context) (map[notify.Status]int, error) {
		return map[notify.Status]int{notify.StatusQueued: 7, notify.StatusRetrying: 3, notify.StatusDelivered: 40}, nil
	}
	m := metrics.New(breakers, depth, sunset.Runtime{})
	m.Observe(notify.Outcome{Channel: "email", Result: notify.OutcomeDelivered, Lag: 2 * time.Second})
	m.Observe(notify.Outcome{Channel: "email", Result: notify.OutcomeDelivered, Lag: 45 * time.Second})
	m.Observe(notify.Outcome{Channel: "webhook:crm", Result: notify.OutcomeRetrying})
	got := gather(t, m)
	for key, want := range map[string]float64{
		"sunset_notify_breaker_open{channel=email}":                            0,
		"sunset_notify_breaker_open{channel=webhook:crm}":                      1,
		"sunset_notify_breaker_failures{channel=webhook:crm}":                  5,
		"sunset_notify_deliveries_total{channel=email,outcome=delivered}":      2,
		"sunset_notify_deliveries_total{channel=webhook:crm,outcome=retrying}": 1,
		"sunset_notify_queue_depth{status=queued}":                             7,
		"sunset_notify_queue_depth{status=retrying}":                           3,
		"sunset_notify_queue_depth{status=failed}":                             0,
	} {
		x := got[key]
		if x == nil {
			t.Errorf("%s missing", key)
			continue
		}
		v := x.GetGauge().GetValue() + x.GetCounter().GetValue()
		if v != want {
			t.Errorf("%s = %v, want %v", key, v, want)
		}
	}
	h := got["sunset_notify_delivery_lag_seconds{channel=email}"].GetHistogram()
	if h.GetSampleCount() != 2 {
		t.Fatalf("lag samples = %d, want 2", h.GetSampleCount())
	}
	for _, b := range h.GetBucket() {
		// One delivery within the 30 s objective, one past it.
		if b.GetUpperBound() == 30 && b.GetCumulativeCount() != 1 {
			t.Errorf("deliveries within 30 s = %d, want 1", b.GetCumulativeCount())
		}
	}
}

func TestADepthErrorLeavesTheRestOfTheScrape(t *testing.T) {
	m := metrics.New(nil, func(context.Context) (map[notify.Status]int, error) { return nil, errors.New("database down") }, sunset.Runtime{})
	m.Observe(notify.Outcome{Channel: "email", Result: notify.OutcomeFailed})
	got := gather(t, m)
	if got["sunset_notify_deliveries_total{channel=email,outcome=failed}"] == nil {
		t.Fatal("a failing depth query lost the other series")
	}
	for key := range got {
		if len(key) > 25 && key[:25] == "sunset_notify_queue_depth" {
			t.Errorf("%s reported although the depth could not be read", key)
		}
	}
}
