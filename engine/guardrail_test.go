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
consumers: {contacts: contacts.csv}
guardrails:
  - {name: unhappy, when: "feedback.negative_ratio > 0.4 over 24h", then: pause}
  - {name: critical, when: "consumers.active{tier=critical} > 0", before: read_only, then: notify}
`

// ratio is a feedback signal the test sets, safe to read from River's workers: the negative
// ratio, measured over n messages (feedback.count; 50 unless set).
type ratio struct{ v, n atomic.Value }

func (r *ratio) set(v float64) { r.v.Store(v) }

func (r *ratio) setSample(n float64) { r.n.Store(n) }

func (r *ratio) signals() engine.Signals {
	return engine.SignalsFunc(func(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time) (float64, bool, error) {
		if c.Over != 24*time.Hour {
			return 0, false, nil
		}
		switch c.Signal {
		case "feedback.count":
			n, ok := r.n.Load().(float64)
			if !ok {
				n = 50
			}
			return n, true, nil
		case "feedback.negative_ratio":
			v, ok := r.v.Load().(float64)
			return v, ok, nil
		}
		return 0, false, nil
	})
}

func TestTrippedGuardrailPausesBeforeTheStep(t *testing.T) {
	t.Parallel()
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
		// Before the announcement the guardrail is not armed: it would trip, and pauses nothing.
		res, err := b.eng.Guardrails(ctx, "billing-v1")
		if err != nil || len(res) == 0 || res[0].Tripped || res[0].Armed || res[0].Status != engine.GuardWouldTrip {
			t.Fatalf("guardrails before the announcement = %+v, %v; want would_trip, not tripped", res, err)
		}
		b.clock.Set(time.Date(2027, 1, 5, 12, 0, 0, 0, time.UTC)) // announce and deprecate are due
		if _, err := b.eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, b.eng, "billing-v1")
		s, _ := b.eng.Get(ctx, "billing-v1")
		if s.State != engine.StatePaused || s.PausedFrom != engine.StateAnnounced {
			t.Fatalf("state = %s (from %s), want paused from announced", s.State, s.PausedFrom)
		}
		runs := actionEvents(t, b.eng, "billing-v1")
		if runs["milestone/announce"] != 1 {
			t.Errorf("announce did not run: the guardrail is not armed before it")
		}
		if runs["milestone/deprecate"] != 0 {
			t.Errorf("deprecate ran although the guardrail tripped")
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
		if s.State != engine.StateDeprecating {
			t.Errorf("after resume state = %s, want deprecating", s.State)
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}

func TestGuardrailThatNotifiesDoesNotPause(t *testing.T) {
	t.Parallel()
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
		b.clock.Set(time.Date(2027, 1, 5, 12, 0, 0, 0, time.UTC))
		b.eng.Dispatch(ctx)
		settle(t, b.eng, "billing-v1")
		s, _ := b.eng.Get(ctx, "billing-v1")
		if s.State != engine.StateDeprecating {
			t.Fatalf("state = %s, want deprecating (a notify guardrail never pauses)", s.State)
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
	t.Parallel()
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
	t.Parallel()
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

// TestRatioBelowItsMinimumSampleDoesNotTrip: one unhappy message out of a few is no mood; the
// guardrail reads not_enough_data until min_sample messages (default 20) have come.
func TestRatioBelowItsMinimumSampleDoesNotTrip(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		var r ratio
		r.set(1)
		r.setSample(1)
		b.eng.RegisterSignals("feedback", r.signals())
		apply(t, b.eng, guardedPlan)
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2027, 1, 5, 12, 0, 0, 0, time.UTC))
		b.eng.Dispatch(ctx)
		settle(t, b.eng, "billing-v1")
		if s, _ := b.eng.Get(ctx, "billing-v1"); s.State != engine.StateDeprecating {
			t.Fatalf("state = %s, want deprecating: a ratio of 1 over one message must not pause", s.State)
		}
		res, err := b.eng.Guardrails(ctx, "billing-v1")
		if err != nil || res[0].Status != engine.GuardNotEnoughData || res[0].Sample != 1 || res[0].MinSample != plan.DefaultMinSample || res[0].Tripped {
			t.Fatalf("guardrail = %+v, %v; want not_enough_data (1 of 20)", res[0], err)
		}
		r.setSample(20)
		paused, err := b.eng.WatchGuardrails(ctx)
		if err != nil || len(paused) != 1 {
			t.Fatalf("20 messages, all negative: paused %v (err %v)", paused, err)
		}
	})
}

// suspectRatio is ratio whose trips a Suspicion judges: mark says what it answers.
type suspectRatio struct {
	engine.Signals
	mark *engine.SuspectTrip
}

func (s suspectRatio) Suspect(context.Context, engine.Tx, *engine.Sunset, plan.Condition, time.Time) (*engine.SuspectTrip, error) {
	return s.mark, nil
}

func TestSuspectTripIsMarkedInItsEvent(t *testing.T) {
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		var r ratio
		r.set(0.6)
		mark := &engine.SuspectTrip{Since: time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC), Driving: 30, New: 29}
		b.eng.RegisterSignals("feedback", suspectRatio{Signals: r.signals(), mark: mark})
		apply(t, b.eng, guardedPlan)
		// Before the announcement a guardrail that would trip carries the mark too.
		res, err := b.eng.Guardrails(ctx, "billing-v1")
		if err != nil || res[0].Status != engine.GuardWouldTrip || res[0].Suspect == nil || *res[0].Suspect != *mark {
			t.Fatalf("guardrails = %+v, %v; want would_trip with the mark", res, err)
		}
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2027, 1, 5, 12, 0, 0, 0, time.UTC))
		if _, err := b.eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, b.eng, "billing-v1")
		evs, _ := b.eng.Events(ctx, "billing-v1")
		var tripped string
		for _, e := range evs {
			if e.Type == "guardrail.tripped" {
				tripped = string(e.Data)
			}
		}
		for _, want := range []string{`"suspect":true`, `"suspect":{"since":"2027-01-04T12:00:00Z","driving":30,"new":29}`} {
			if !strings.Contains(tripped, want) {
				t.Errorf("guardrail.tripped = %s, lacks %s", tripped, want)
			}
		}
	})
}
