package export

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
)

// Runs runs sunsets' export jobs in the background for a server (POST …/exports/run): at most
// one run per sunset in this process, each resuming the job where the last one stopped. It
// remembers why a run stopped early. Stop cancels the runs and waits for them; the jobs keep
// their place and resume on the next run.
type Runs struct {
	svc    *Service
	logger *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[string]bool
	lastErr map[string]string
}

// NewRuns returns the background runs of svc's export jobs; they log to svc's Runtime.
func NewRuns(svc *Service) *Runs {
	logger := svc.Runtime.Log()
	ctx, cancel := context.WithCancel(context.Background())
	return &Runs{svc: svc, logger: logger, ctx: ctx, cancel: cancel, running: map[string]bool{}, lastErr: map[string]string{}}
}

// State tells whether the sunset's job runs here now, and why its last run stopped early.
func (e *Runs) State(name string) (running bool, lastErr string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running[name], e.lastErr[name]
}

// Start starts a run of the sunset's export job with o, unless one runs already. It checks
// first what would stop the run at once: no data.export in the plan (ENOTFOUND), no key to sign
// links with (EINVALID); after Stop it refuses (ECONFLICT).
func (e *Runs) Start(ctx context.Context, name string, o RunOptions) error {
	p, err := e.svc.Plan(ctx, name)
	if err != nil {
		return err
	}
	if p.Data.Export == nil {
		return sunset.Errorf(sunset.ENOTFOUND, "Sunset %s offers no data export (its plan has no data.export).", name)
	}
	if _, err := LinksFor(p, e.svc.getenv, e.svc.now()); err != nil {
		return sunset.Errorf(sunset.EINVALID, "Cannot sign download links: %v.", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx.Err() != nil {
		return sunset.Errorf(sunset.ECONFLICT, "The server is shutting down.")
	}
	if e.running[name] {
		return nil
	}
	e.running[name] = true
	delete(e.lastErr, name)
	e.wg.Go(func() {
		start := time.Now()
		job, err := e.svc.Run(e.ctx, name, o)
		e.mu.Lock()
		delete(e.running, name)
		if err != nil {
			e.lastErr[name] = err.Error()
		}
		e.mu.Unlock()
		switch {
		case err != nil:
			e.logger.Warn("export run stopped; it resumes on the next run", "sunset", name, "error", err.Error())
		case job != nil:
			e.logger.Info("export run ended", "sunset", name, "state", job.State, "done", job.Done, "failed", job.Failed,
				"took", time.Since(start).Round(time.Millisecond))
		}
	})
	return nil
}

// Stop cancels the runs and waits for them to save their place. Safe to call twice.
func (e *Runs) Stop() {
	e.cancel()
	e.wg.Wait()
}
