package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sunsetops/sunset/engine"
)

// replanRecorder is a ReplanHook that remembers what it was told, or fails.
type replanRecorder struct {
	calls []*engine.Replan
	err   error
}

func (r *replanRecorder) Replanned(_ context.Context, rp *engine.Replan) error {
	r.calls = append(r.calls, rp)
	return r.err
}

func TestReplanHookSeesMovesInsideTheReplan(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		hook := &replanRecorder{}
		b.eng.OnReplan(hook)
		apply(t, b.eng, testPlan)
		if len(hook.calls) != 0 {
			t.Fatalf("hook ran on create: %d calls", len(hook.calls))
		}
		moved := strings.Replace(testPlan, "shutdown: 2027-03-01T10:00", "shutdown: 2027-03-15T10:00", 1)
		if _, err := b.eng.Apply(ctx, "test.yaml", []byte(moved), "tester"); err != nil {
			t.Fatal(err)
		}
		if len(hook.calls) != 1 {
			t.Fatalf("hook calls = %d, want 1", len(hook.calls))
		}
		rp := hook.calls[0]
		if rp.Sunset.Revision != 2 || rp.Plan == nil || rp.Tx == nil {
			t.Errorf("hook got revision %d, plan %v, tx %v", rp.Sunset.Revision, rp.Plan != nil, rp.Tx != nil)
		}
		found := false
		for _, m := range rp.Result.Moved {
			found = found || m.Key == "milestone/shutdown"
		}
		if !found {
			t.Errorf("moves %+v lack milestone/shutdown", rp.Result.Moved)
		}
	})
}

func TestReplanHookErrorStoresNothing(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		b.eng.OnReplan(&replanRecorder{err: errors.New("outbox unavailable")})
		apply(t, b.eng, testPlan)
		moved := strings.Replace(testPlan, "shutdown: 2027-03-01T10:00", "shutdown: 2027-03-15T10:00", 1)
		if _, err := b.eng.Apply(ctx, "test.yaml", []byte(moved), "tester"); err == nil || !strings.Contains(err.Error(), "outbox unavailable") {
			t.Fatalf("Apply error = %v, want the hook's", err)
		}
		st, err := b.eng.Status(ctx, "billing-v1")
		if err != nil {
			t.Fatal(err)
		}
		if st.Sunset.Revision != 1 {
			t.Errorf("revision = %d after a failed hook, want 1", st.Sunset.Revision)
		}
	})
}
