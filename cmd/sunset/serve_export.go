package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/web"
)

// exportRuns runs sunsets' export jobs in the background for the API (POST …/exports/run): at
// most one run per sunset in this process, each resuming the job where the last one stopped.
// It remembers why a run stopped early. Stop cancels the runs and waits for them; the jobs
// keep their place and resume on the next run.
type exportRuns struct {
	svc    *export.Service
	getenv func(string) string
	now    func() time.Time
	logger *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[string]bool
	lastErr map[string]string
}

func newExportRuns(svc *export.Service, getenv func(string) string, now func() time.Time, logger *slog.Logger) *exportRuns {
	ctx, cancel := context.WithCancel(context.Background())
	return &exportRuns{svc: svc, getenv: getenv, now: now, logger: logger, ctx: ctx, cancel: cancel,
		running: map[string]bool{}, lastErr: map[string]string{}}
}

// state tells whether the sunset's job runs here now, and why its last run stopped early.
func (e *exportRuns) state(name string) (running bool, lastErr string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running[name], e.lastErr[name]
}

// start starts a run of the sunset's export job, unless one runs already. It checks first what
// would stop the run at once: no data.export in the plan, no key to sign links with.
func (e *exportRuns) start(ctx context.Context, name string, req web.ExportRunRequest) error {
	p, err := e.svc.Plan(ctx, name)
	if err != nil {
		return err
	}
	if p.Data.Export == nil {
		return sunset.Errorf(sunset.ENOTFOUND, "Sunset %s offers no data export (its plan has no data.export).", name)
	}
	if _, err := export.LinksFor(p, e.getenv, e.now()); err != nil {
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
		job, err := e.svc.Run(e.ctx, name, export.RunOptions{Batch: req.Batch, Workers: req.Workers, RetryFailed: req.RetryFailed})
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
func (e *exportRuns) Stop() {
	e.cancel()
	e.wg.Wait()
}
