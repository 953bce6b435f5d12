package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
)

// eachBackend runs test on a fresh SQLite store and, when SUNSET_TEST_POSTGRES_URL is set, on a
// fresh PostgreSQL store.
func eachBackend(t *testing.T, test func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { test(t, storetest.OpenSQLite(t).(*store.DB)) })
	t.Run("postgres", func(t *testing.T) { test(t, storetest.OpenPostgres(t).(*store.DB)) })
}

// leasePlan is a plan whose runbook has three exec steps that each append a line to file.
func leasePlan(t *testing.T, file string) *plan.Plan {
	t.Helper()
	var b strings.Builder
	b.WriteString("service: {name: orders}\nmilestones: {announce: 2027-01-04T10:00, shutdown: 2027-03-01T02:00}\nrunbook:\n")
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&b, "  - {name: step-%d, exec: [sh, -c, 'echo step-%d >> %s']}\n", i, i, file)
	}
	p, problems := plan.Parse("plan.yaml", []byte(b.String()))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunLeaseIsHeldByOneReplicaAtATime(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := leasePlan(t, filepath.Join(t.TempDir(), "steps.log"))
		now := time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC)
		run := runbook.NewRun("orders", p, "engine (runbook/start)", now)
		if err := db.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		take := func(owner string, at time.Time) bool {
			t.Helper()
			ok, err := db.LeaseRun(ctx, run.ID, owner, at, at.Add(30*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !take("a", now) {
			t.Fatal("a free run was refused")
		}
		if take("b", now.Add(10*time.Second)) {
			t.Error("b took a lease a holds")
		}
		if !take("a", now.Add(20*time.Second)) {
			t.Error("a could not renew its own lease")
		}
		// a stops renewing: its lease (until now+50s) expires, and b takes the run over.
		if take("b", now.Add(49*time.Second)) {
			t.Error("b took the lease before it expired")
		}
		if !take("b", now.Add(51*time.Second)) {
			t.Fatal("b could not take an expired lease")
		}
		if take("a", now.Add(52*time.Second)) {
			t.Error("a renewed a lease b took over")
		}
		if err := db.ReleaseRun(ctx, run.ID, "a"); err != nil {
			t.Fatal(err)
		}
		if take("a", now.Add(53*time.Second)) {
			t.Error("a released b's lease")
		}
		if err := db.ReleaseRun(ctx, run.ID, "b"); err != nil {
			t.Fatal(err)
		}
		if !take("a", now.Add(54*time.Second)) {
			t.Error("a released run could not be taken at once")
		}
		run, _ = db.GetRun(ctx, run.ID)
		run.State = runbook.StateWaiting
		if err := db.SaveRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		if take("c", now.Add(time.Hour)) {
			t.Error("a run that is not running was leased")
		}
	})
}

func TestWorkersOfSeveralReplicasRunEachStepOnce(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		file := filepath.Join(t.TempDir(), "steps.log")
		p := leasePlan(t, file)
		run := runbook.NewRun("orders", p, "engine (runbook/start)", time.Now())
		if err := db.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		// Four replicas' workers look for work at the same moment, again and again.
		var wg sync.WaitGroup
		for i := range 4 {
			w := &runbook.Worker{Runner: &runbook.Runner{Store: db}, Lease: db, Owner: fmt.Sprintf("replica-%d", i),
				Runs: db.RunningRuns, Plan: func(context.Context, string) (*plan.Plan, error) { return p, nil }}
			wg.Go(func() {
				for range 5 {
					w.Once(ctx)
				}
			})
		}
		wg.Wait()
		got, err := db.GetRun(ctx, run.ID)
		if err != nil || got.State != runbook.StateDone {
			t.Fatalf("run %+v %v, want done", got, err)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if want := "step-1\nstep-2\nstep-3\n"; string(b) != want {
			t.Errorf("the steps ran\n%s\nwant each once, in order:\n%s", b, want)
		}
	})
}

func TestAReplicaTakesOverAnAbandonedRunAndStopsForAHuman(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		file := filepath.Join(t.TempDir(), "steps.log")
		p := leasePlan(t, file)
		run := runbook.NewRun("orders", p, "engine (runbook/start)", time.Now())
		if err := db.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		// A replica took the run, saved step-2 as running, and died: its lease runs out.
		now := time.Now()
		if ok, err := db.LeaseRun(ctx, run.ID, "dead", now, now.Add(time.Minute)); !ok || err != nil {
			t.Fatal(ok, err)
		}
		run.Steps[0].Status = runbook.StepDone
		run.Steps[1].Status, run.Steps[1].Attempts = runbook.StepRunning, 1
		if err := db.SaveRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		clock := sunset.NewFixedClock(now)
		w := &runbook.Worker{Runner: &runbook.Runner{Store: db}, Lease: db, Owner: "alive", Runtime: sunset.Runtime{Clock: clock},
			Runs: db.RunningRuns, Plan: func(context.Context, string) (*plan.Plan, error) { return p, nil }}
		w.Once(ctx)
		if got, _ := db.GetRun(ctx, run.ID); got.State != runbook.StateRunning || got.Steps[1].Status != runbook.StepRunning {
			t.Fatalf("the run was taken while the dead replica's lease lasted: %s %s", got.State, got.Steps[1].Status)
		}
		clock.Set(now.Add(61 * time.Second))
		w.Once(ctx)
		got, _ := db.GetRun(ctx, run.ID)
		if got.State != runbook.StateOperator || got.Steps[1].Status != runbook.StepOperator {
			t.Errorf("after the lease expired: run %s, step-2 %s; want needs_operator (exec is not idempotent)", got.State, got.Steps[1].Status)
		}
		if b, _ := os.ReadFile(file); len(b) != 0 {
			t.Errorf("steps ran again: %q", b)
		}
	})
}

func TestAReplicaThatLosesTheLeaseStopsItsStep(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		file := filepath.Join(t.TempDir(), "steps.log")
		p, problems := plan.Parse("plan.yaml", []byte(fmt.Sprintf(`service: {name: orders}
milestones: {announce: 2027-01-04T10:00, shutdown: 2027-03-01T02:00}
runbook:
  - {name: slow, exec: [sh, -c, 'echo started >> %[1]s; sleep 3; echo finished >> %[1]s']}
`, file)))
		if err := problems.Err(); err != nil {
			t.Fatal(err)
		}
		run := runbook.NewRun("orders", p, "engine (runbook/start)", time.Now())
		if err := db.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		w := &runbook.Worker{Runner: &runbook.Runner{Store: db}, Lease: db, Owner: "paused", LeaseTTL: 300 * time.Millisecond,
			Runs: db.RunningRuns, Plan: func(context.Context, string) (*plan.Plan, error) { return p, nil }}
		done := make(chan struct{})
		go func() { w.Once(ctx); close(done) }()
		// Once the step runs, another replica takes the run over, as it would from a replica
		// that stopped renewing (its clock says the lease has expired).
		for len(lines(file)) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		if ok, err := db.LeaseRun(ctx, run.ID, "thief", time.Now().Add(time.Hour), time.Now().Add(2*time.Hour)); !ok || err != nil {
			t.Fatalf("take over: %v %v", ok, err)
		}
		<-done
		if got := lines(file); len(got) != 1 || got[0] != "started" {
			t.Errorf("the step went on after its replica lost the lease: %q", got)
		}
		got, _ := db.GetRun(ctx, run.ID)
		if got.State != runbook.StateRunning || got.Steps[0].Status != runbook.StepRunning {
			t.Errorf("run %s, step %s: want both running, for the new holder to judge", got.State, got.Steps[0].Status)
		}
	})
}

// lines returns the lines of the file at path.
func lines(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Fields(string(b))
}
