package runbook_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/sqlite"
)

// trafficBundle is a real SQLite store with a sunset, a clock the test moves, and a "gateway" that
// flushes a scripted number of requests each time the meter waits.
type trafficBundle struct {
	st    *store.DB
	meter *runbook.CounterRate
	mu    sync.Mutex
	now   time.Time
	seq   int64
	// perWindow is how many requests each successive window sees; the last repeats.
	perWindow []uint64
}

func setupTraffic(t *testing.T, perWindow ...uint64) *trafficBundle {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &trafficBundle{st: st, now: time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC), perWindow: perWindow}
	err = st.InTx(t.Context(), func(tx engine.Tx) error {
		return tx.CreateSunset(t.Context(), &engine.Sunset{Name: "orders", State: "scheduled", CreatedAt: b.now, UpdatedAt: b.now})
	})
	if err != nil {
		t.Fatal(err)
	}
	b.meter = &runbook.CounterRate{Count: st.Usage().Total, Window: time.Minute, Runtime: sunset.Runtime{Clock: b},
		After: func(d time.Duration) <-chan time.Time {
			// Time passes, and the gateway flushes what it counted meanwhile.
			b.flush(t)
			b.mu.Lock()
			b.now = b.now.Add(d)
			b.mu.Unlock()
			c := make(chan time.Time, 1)
			c <- b.now
			return c
		}}
	return b
}

// Now tells the time the test moves: the bundle is the meter's and the runner's clock.
func (b *trafficBundle) Now() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

// flush records the next window's requests as one gateway flush.
func (b *trafficBundle) flush(t *testing.T) {
	b.mu.Lock()
	n := b.perWindow[0]
	if len(b.perWindow) > 1 {
		b.perWindow = b.perWindow[1:]
	}
	b.seq++
	batch := gateway.Batch{Gateway: "g1", Seq: b.seq, Counts: []gateway.Count{{Feature: "orders", Consumer: "c", Hour: b.now.Truncate(time.Hour), Count: n}}}
	b.mu.Unlock()
	if _, err := b.st.Usage().RecordUsage(context.Background(), "orders", batch); err != nil {
		t.Error(err)
	}
}

// drain runs a one-step drain runbook and returns the run and its output.
func (b *trafficBundle) drain(t *testing.T, d plan.Drain) (*runbook.Run, string) {
	t.Helper()
	var out strings.Builder
	p := &plan.Plan{Runbook: []plan.RunbookStep{{Name: "drain", Drain: &d}}}
	r := &runbook.Runner{Store: b.st, Traffic: b.meter, Runtime: sunset.Runtime{Clock: b}, Out: &out, PollEvery: time.Millisecond}
	run, err := r.Start(t.Context(), "orders", p, "tester")
	if err != nil {
		t.Fatal(err)
	}
	run, err = r.Execute(t.Context(), run.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	return run, out.String()
}

func TestDrainWaitsUntilTheGatewaysCountersFallBelowTheThreshold(t *testing.T) {
	t.Parallel()
	// 600, 300, 60, then 6 requests a minute: 10, 5, 1, 0.1 req/s.
	b := setupTraffic(t, 600, 300, 60, 6)
	run, out := b.drain(t, plan.Drain{MaxRPS: 0.5, Within: plan.Duration(time.Hour)})
	if run.State != runbook.StateDone {
		t.Fatalf("run %s (%s), want done\n%s", run.State, run.Message, out)
	}
	for _, want := range []string{"traffic 10.00 req/s", "traffic 5.00 req/s", "traffic 1.00 req/s", "traffic 0.10 req/s (want ≤ 0.50)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "traffic ") != 4 {
		t.Errorf("drain measured %d times, want 4 (it stops once traffic is low):\n%s", strings.Count(out, "traffic "), out)
	}
}

func TestDrainFailsWhenTrafficStaysAboveTheThreshold(t *testing.T) {
	t.Parallel()
	b := setupTraffic(t, 120) // 2 req/s, for ever
	run, out := b.drain(t, plan.Drain{MaxRPS: 0, Within: plan.Duration(5 * time.Minute)})
	if run.State != runbook.StateFailed || !strings.Contains(run.Steps[0].Error, "traffic is still 2.00 req/s after 5m") {
		t.Fatalf("run %s, step error %q; want failed because traffic stayed at 2 req/s\n%s", run.State, run.Steps[0].Error, out)
	}
}

func TestDrainPassesAtOnceWithoutTraffic(t *testing.T) {
	t.Parallel()
	b := setupTraffic(t, 0)
	run, out := b.drain(t, plan.Drain{MaxRPS: 0, Within: plan.Duration(time.Minute)})
	if run.State != runbook.StateDone || !strings.Contains(out, "traffic 0.00 req/s") {
		t.Fatalf("run %s (%s), want done with no traffic\n%s", run.State, run.Message, out)
	}
}
