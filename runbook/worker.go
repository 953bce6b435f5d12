package runbook

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/startstop"
)

// Worker drives the runs that are running — those the engine's runbook/start action created,
// those started through the API (Control.Start), those handed back after their last approval or
// an operator's decision, and those a crashed process left behind — so that a run goes on after
// an approval or a restart without anyone typing resume. It shares the lifecycle of the other
// long-running parts: Start, then Stop (safe before Start and twice).
type Worker struct {
	Runner *Runner
	// Runs lists the runs in state running (store.DB.RunningRuns).
	Runs func(ctx context.Context) ([]*Run, error)
	// Plan returns a sunset's current plan.
	Plan func(ctx context.Context, sunset string) (*plan.Plan, error)
	// Every is how often it looks for runs (default 2s).
	Every time.Duration
	// Runtime's logger receives the worker's lines; its clock tells the time leases are
	// measured in. Give it the wall clock (the zero Runtime's): leases are about processes,
	// not about the plan's (possibly pinned) clock.
	Runtime sunset.Runtime
	// Lease, when set, lets several replicas share one database: the worker drives a run only
	// while it holds the run's lease as Owner, renews it every LeaseTTL/3, and stops the run's
	// step when it loses it. A replica that dies stops renewing, and another one takes the run
	// over once LeaseTTL has passed; a step that was in flight then runs again if it is
	// idempotent and otherwise stops for an operator (see Runner.Execute). Without Lease the
	// worker assumes it is the only one (one SQLite process).
	Lease Leaser
	// Owner names this replica in leases (e.g. "host-1234").
	Owner string
	// LeaseTTL is how long a lease lasts without renewal (default 30s).
	LeaseTTL time.Duration

	life startstop.Loop

	wakeOnce sync.Once
	wakeCh   chan struct{}
}

// Leaser hands out leases on runs, so that one replica at a time drives each run. store.DB
// implements it.
type Leaser interface {
	// LeaseRun takes or renews owner's lease on a running run until until; ok is false when
	// another owner holds an unexpired lease or the run is not running.
	LeaseRun(ctx context.Context, runID int64, owner string, now, until time.Time) (ok bool, err error)
	// ReleaseRun gives up owner's lease.
	ReleaseRun(ctx context.Context, runID int64, owner string) error
}

// Start starts the worker's loop; it returns at once.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.life.Start(ctx, w.loop); err != nil {
		return fmt.Errorf("runbook: worker %w", err)
	}
	return nil
}

// Stop stops the loop and waits for the step in progress to notice. A step stopped this way
// stays running in the store and is handled on the next start.
func (w *Worker) Stop() { w.life.Stop() }

// Wake makes the worker look for runs now rather than on its next tick: a run was started,
// approved or resumed. It never blocks; wakes while the worker is busy fold into one.
func (w *Worker) Wake() {
	select {
	case w.wakeChan() <- struct{}{}:
	default:
	}
}

func (w *Worker) wakeChan() chan struct{} {
	w.wakeOnce.Do(func() { w.wakeCh = make(chan struct{}, 1) })
	return w.wakeCh
}

func (w *Worker) loop(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = 2 * time.Second
	}
	for {
		w.Once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		case <-w.wakeChan():
		}
	}
}

// Once executes every running run until it ends or parks.
func (w *Worker) Once(ctx context.Context) {
	runs, err := w.Runs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.Runtime.Log().Warn("runbook worker: list runs", "err", err)
		}
		return
	}
	for _, run := range runs {
		if ctx.Err() != nil {
			return
		}
		p, err := w.Plan(ctx, run.Sunset)
		if err != nil {
			w.Runtime.Log().Warn("runbook worker: plan", "sunset", run.Sunset, "err", err)
			continue
		}
		got, err := w.drive(ctx, run.ID, p)
		switch {
		case errors.Is(err, errLeased):
			// Another replica drives it.
		case errors.Is(err, ErrStale):
			// Another runner drives it.
		case err != nil && ctx.Err() == nil:
			w.Runtime.Log().Warn("runbook worker: run", "sunset", run.Sunset, "run", run.ID, "err", err)
		case got != nil:
			w.Runtime.Log().Info("runbook run", "sunset", run.Sunset, "run", run.ID, "state", got.State, "message", got.Message)
		}
	}
}

// errLeased says another replica holds the run's lease.
var errLeased = errors.New("runbook: another replica holds the run's lease")

func (w *Worker) ttl() time.Duration {
	if w.LeaseTTL > 0 {
		return w.LeaseTTL
	}
	return 30 * time.Second
}

// drive executes the run while holding its lease: it takes the lease (errLeased when another
// replica holds it), renews it in the background while the run executes, cancels the execution
// when a renewal fails (the run is then someone else's), and releases it at the end.
func (w *Worker) drive(ctx context.Context, runID int64, p *plan.Plan) (*Run, error) {
	if w.Lease == nil {
		return w.Runner.Execute(ctx, runID, p)
	}
	ttl := w.ttl()
	now := w.Runtime.Now()
	ok, err := w.Lease.LeaseRun(ctx, runID, w.Owner, now, now.Add(ttl))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errLeased
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.heartbeat(runCtx, cancel, runID, ttl)
	}()
	got, err := w.Runner.Execute(runCtx, runID, p)
	// A renewal refused after the run parked or ended is no news; one refused mid-run is.
	if cause := context.Cause(runCtx); err != nil && errors.Is(cause, errLeased) && ctx.Err() == nil {
		err = fmt.Errorf("run %d: another replica took the run over, or it left state running; this replica stopped driving it", runID)
	}
	cancel(nil)
	wg.Wait()
	// Released even when ctx ended (a graceful stop): another replica need not wait for expiry.
	if rerr := w.Lease.ReleaseRun(context.WithoutCancel(ctx), runID, w.Owner); rerr != nil {
		w.Runtime.Log().Warn("runbook worker: release lease", "run", runID, "err", rerr)
	}
	return got, err
}

// heartbeat renews the lease every ttl/3 until ctx ends; it cancels the run with errLeased when a
// renewal is refused, or fails for longer than the lease lasts.
func (w *Worker) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, runID int64, ttl time.Duration) {
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	lastOK := w.Runtime.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := w.Runtime.Now()
		ok, err := w.Lease.LeaseRun(ctx, runID, w.Owner, now, now.Add(ttl))
		switch {
		case err == nil && ok:
			lastOK = now
		case err == nil && !ok:
			if ctx.Err() == nil {
				// The run left state running (it parked or ended from elsewhere), or another
				// replica took it over: stop driving it.
				cancel(errLeased)
			}
			return
		case now.Sub(lastOK) >= ttl:
			w.Runtime.Log().Warn("runbook worker: cannot renew the lease; stopping the run", "run", runID, "err", err)
			cancel(errLeased)
			return
		default:
			w.Runtime.Log().Warn("runbook worker: renew lease", "run", runID, "err", err)
		}
	}
}
