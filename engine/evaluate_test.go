package engine_test

import (
	"context"
	"testing"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store/storetest"
)

func TestMarkEvaluatedEndsAShutDownSunsetOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, storetest.OpenSQLite(t))
	apply(t, b.eng, testPlan)
	if _, err := b.eng.MarkEvaluated(ctx, "billing-v1", "li.wei"); sunset.ErrorCode(err) != sunset.ECONFLICT {
		t.Fatalf("a draft sunset was evaluated: %v", err)
	}
	// Skip the months of the plan: the sunset is shut down.
	err := b.store.InTx(ctx, func(tx engine.Tx) error {
		s, err := tx.LockSunset(ctx, "billing-v1")
		if err != nil {
			return err
		}
		s.State = engine.StateShutDown
		return tx.UpdateSunset(ctx, s)
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err := b.eng.MarkEvaluated(ctx, "billing-v1", "li.wei")
		if err != nil || s.State != engine.StateEvaluated {
			t.Fatalf("MarkEvaluated = %+v, %v", s, err)
		}
	}
	n := 0
	for _, ev := range mustEvents(t, b.eng, "billing-v1") {
		if ev.Type == "sunset.evaluated" {
			n++
			if ev.Actor != "li.wei" {
				t.Errorf("actor %q", ev.Actor)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d sunset.evaluated events, want 1", n)
	}
	verifyOK(t, b.eng, "billing-v1")
	if _, err := b.eng.MarkEvaluated(ctx, "nope", "x"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
		t.Errorf("unknown sunset: %v", err)
	}
}
