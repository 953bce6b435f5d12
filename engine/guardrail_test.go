package engine_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

const guardedPlan = testPlan + `
guardrails:
  - {name: unhappy, when: "feedback.negative_ratio > 0.4 over 24h", then: pause}
  - {name: critical, when: "consumers.active{tier=critical} > 0", before: read_only, then: notify}
`

// ratio is a feedback signal the test sets, safe to read from River's workers.
type ratio struct{ v atomic.Value }

func (r *ratio) set(v float64) { r.v.Store(v) }

func (r *ratio) signals() engine.Signals {
	return engine.SignalsFunc(func(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time) (float64, bool, error) {
		v, ok := r.v.Load().(float64)
		if c.Signal != "feedback.negative_ratio" || c.Over != 24*time.Hour {
			return 0, false, nil
		}
		return v, ok, nil
	})
}

func TestTrippedGuardrailPausesBeforeTheStep(t *testing.T) {
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		var r ratio
		r.set(0.6)
		b.eng.RegisterSignals("feedback", r.signals())
		apply(t, b.eng, guardedPlan)
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC)) // announce is due
		if _, err := b.eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, b.eng, "billing-v1")
		s, _ := b.eng.Get(ctx, "billing-v1")
		if s.State != engine.StatePaused || s.PausedFrom != engine.StateScheduled {
			t.Fatalf("state = %s (from %s), want paused from scheduled", s.State, s.PausedFrom)
		}
		if runs := actionEvents(t, b.eng, "billing-v1"); runs["milestone/announce"] != 0 {
			t.Errorf("announce ran although the guardrail tripped")
		}
		var tripped *engine.Event
		for _, ev := range mustEvents(t, b.eng, "billing-v1") {
			if ev.Type == "guardrail.tripped" {
				tripped = &ev
			}
		}
		if tripped == nil || !strings.Contains(string(tripped.Data), `"value":0.6`) || !strings.Contains(string(tripped.Data), `"name":"unhappy"`) {
			t.Fatalf("guardrail.tripped event = %+v, want the values that tripped it", tripped)
		}
		// Users calm down; an operator resumes; the step runs.
		r.set(0.1)
		if _, err := b.eng.Resume(ctx, "billing-v1", "ops", "negative ratio back to 10%"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, b.eng, "billing-v1")
		s, _ = b.eng.Get(ctx, "billing-v1")
		if s.State != engine.StateAnnounced {
			t.Errorf("after resume state = %s, want announced", s.State)
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}

func TestGuardrailThatNotifiesDoesNotPause(t *testing.T) {
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		b.eng.RegisterSignals("consumers", engine.SignalsFunc(func(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time) (float64, bool, error) {
			if c.Labels["tier"] != "critical" {
				return 0, false, nil
			}
			return 3, true, nil
		}))
		apply(t, b.eng, guardedPlan)
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC))
		b.eng.Dispatch(ctx)
		settle(t, b.eng, "billing-v1")
		s, _ := b.eng.Get(ctx, "billing-v1")
		if s.State != engine.StateAnnounced {
			t.Fatalf("state = %s, want announced (a notify guardrail never pauses)", s.State)
		}
		if types := eventTypes(t, b.eng, "billing-v1"); !strings.Contains(types, "guardrail.warned") {
			t.Errorf("events %s lack guardrail.warned", types)
		}
		// After its `before` instant the guardrail no longer applies.
		res, err := b.eng.Guardrails(ctx, "billing-v1")
		if err != nil || len(res) != 2 || !res[1].Tripped {
			t.Fatalf("guardrails before read_only = %+v, %v", res, err)
		}
		b.clock.Set(time.Date(2027, 2, 16, 0, 0, 0, 0, time.UTC))
		res, _ = b.eng.Guardrails(ctx, "billing-v1")
		if len(res) != 1 || res[0].Name != "unhappy" || res[0].Measured {
			t.Errorf("guardrails after read_only = %+v, want only the unmeasured 'unhappy'", res)
		}
	})
}

func TestWatchGuardrailsPausesASunsetUnderWay(t *testing.T) {
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		var r ratio
		r.set(0.0)
		b.eng.RegisterSignals("feedback", r.signals())
		apply(t, b.eng, guardedPlan)
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC))
		b.eng.Dispatch(ctx)
		settle(t, b.eng, "billing-v1")
		if paused, err := b.eng.WatchGuardrails(ctx); err != nil || len(paused) != 0 {
			t.Fatalf("calm users: paused %v (err %v)", paused, err)
		}
		r.set(0.45)
		paused, err := b.eng.WatchGuardrails(ctx)
		if err != nil || len(paused) != 1 || paused[0] != "billing-v1" {
			t.Fatalf("unhappy users: paused %v (err %v)", paused, err)
		}
		s, _ := b.eng.Get(ctx, "billing-v1")
		if s.State != engine.StatePaused || s.PausedFrom != engine.StateDeprecating {
			t.Errorf("state = %s from %s, want paused from deprecating", s.State, s.PausedFrom)
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}

// TestWatcherWithANotifyGuardrailKeepsTheChain: the watcher between steps evaluates a tripped
// notify-only guardrail without writing an event, so the next step's event still chains.
func TestWatcherWithANotifyGuardrailKeepsTheChain(t *testing.T) {
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		b.eng.RegisterSignals("consumers", engine.SignalsFunc(func(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time) (float64, bool, error) {
			return 3, true, nil
		}))
		apply(t, b.eng, guardedPlan)
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC))
		b.eng.Dispatch(ctx)
		settle(t, b.eng, "billing-v1")
		before := len(mustEvents(t, b.eng, "billing-v1"))
		for range 3 {
			if _, err := b.eng.WatchGuardrails(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(mustEvents(t, b.eng, "billing-v1")); got != before {
			t.Errorf("the watcher wrote %d events for a notify-only guardrail", got-before)
		}
		b.clock.Set(time.Date(2027, 1, 5, 12, 0, 0, 0, time.UTC))
		b.eng.Dispatch(ctx)
		settle(t, b.eng, "billing-v1")
		if s, _ := b.eng.Get(ctx, "billing-v1"); s.State != engine.StateDeprecating {
			t.Errorf("state = %s, want deprecating", s.State)
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}
