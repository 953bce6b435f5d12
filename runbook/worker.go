package runbook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/startstop"
)

// Worker drives the runs that are running — those the engine's runbook/start action created,
// those resumed after an approval, and those a crashed process left behind — so that a run goes
// on after a restart without anyone typing resume. It shares the lifecycle of the other
// long-running parts: Start, then Stop (safe before Start and twice).
type Worker struct {
	Runner *Runner
	// Runs lists the runs in state running (store.DB.RunningRuns).
	Runs func(ctx context.Context) ([]*Run, error)
	// Plan returns a sunset's current plan.
	Plan func(ctx context.Context, sunset string) (*plan.Plan, error)
	// Every is how often it looks for runs (default 2s).
	Every  time.Duration
	Logger *slog.Logger

	life startstop.Loop
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

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
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
		}
	}
}

// Once executes every running run until it ends or parks.
func (w *Worker) Once(ctx context.Context) {
	runs, err := w.Runs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.logger().Warn("runbook worker: list runs", "err", err)
		}
		return
	}
	for _, run := range runs {
		if ctx.Err() != nil {
			return
		}
		p, err := w.Plan(ctx, run.Sunset)
		if err != nil {
			w.logger().Warn("runbook worker: plan", "sunset", run.Sunset, "err", err)
			continue
		}
		got, err := w.Runner.Execute(ctx, run.ID, p)
		switch {
		case errors.Is(err, ErrStale):
			// Another runner drives it.
		case err != nil && ctx.Err() == nil:
			w.logger().Warn("runbook worker: run", "sunset", run.Sunset, "run", run.ID, "err", err)
		case got != nil:
			w.logger().Info("runbook run", "sunset", run.Sunset, "run", run.ID, "state", got.State, "message", got.Message)
		}
	}
}
