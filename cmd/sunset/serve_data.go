package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/web"
)

// engineActor is the actor of runs the timeline starts.
const engineActor = "engine (runbook/start)"

// dataServices are the runbook and export parts serve wires: the engine's handlers for
// runbook/start and data/delete, the worker that drives runs, and the web adapters.
type dataServices struct {
	exports *export.Service
	runner  *runbook.Runner
	worker  *runbook.Worker
	// phases is the gateway step's switch; the in-process gateway hooks its refresh on it.
	phases *phaseSwitch
	// exportRuns runs export jobs for the API; serve stops it on shutdown.
	exportRuns *exportRuns
	web        struct {
		runbooks web.Runbooks
		exports  web.Exports
	}
}

// wireData registers the runbook/start and data/delete handlers on eng and builds the runbook
// worker (started by the caller) and the web adapters. getenv reads the backup and export keys.
func wireData(st *store.DB, eng *engine.Engine, clock sunset.Clock, getenv func(string) string, logger *slog.Logger) *dataServices {
	d := &dataServices{}
	d.exports = &export.Service{Store: st, Getenv: getenv, Now: clock.Now,
		Plan: func(ctx context.Context, name string) (*plan.Plan, error) {
			p, _, err := eng.Plan(ctx, name)
			return p, err
		}}
	var backups runbook.Backuper
	if key, err := backup.LoadKey("env:SUNSET_BACKUP_KEY", getenv); err != nil {
		backups = errBackuper{err}
	} else {
		backups = &runbook.BackupService{Key: key, Tool: "sunset " + version, Getenv: getenv}
	}
	d.runner = &runbook.Runner{Store: st, Events: eventsAdapter{eng}, Backups: backups, Migrator: d.exports, Exports: d.exports,
		Now: clock.Now, Getenv: getenv}
	d.phases = runbookCollaborators(d.runner, st, eng, clock.Now)
	// The worker drives the runs the timeline started; a run started from the command line is
	// driven by that command (sunset runbook run/resume), so that two runners never race.
	// Its lease lets several replicas share the runs: one at a time drives each (serve sets Owner).
	d.worker = &runbook.Worker{Runner: d.runner, Plan: d.exports.Plan, Logger: logger.With("component", "runbook"), Lease: st,
		Runs: func(ctx context.Context) ([]*runbook.Run, error) {
			all, err := st.RunningRuns(ctx)
			return slices.DeleteFunc(all, func(r *runbook.Run) bool { return r.StartedBy != engineActor }), err
		}}
	eng.Register(plan.KindRunbook, engine.HandlerFunc(func(ctx context.Context, run *engine.Run) error {
		return startRunbook(ctx, st, run)
	}))
	eng.Register(plan.KindData, engine.HandlerFunc(func(ctx context.Context, run *engine.Run) error {
		if run.Action.Key != "data/delete" {
			return nil
		}
		return deleteData(ctx, st, run)
	}))
	d.web.runbooks = runbookAPI{st: st, runner: d.runner}
	d.exportRuns = newExportRuns(d.exports, getenv, clock.Now, logger.With("component", "export"))
	d.web.exports = exportAPI{svc: d.exports, runs: d.exportRuns}
	return d
}

// startRunbook creates the run in the action's transaction, so the run exists exactly when the
// action is done; the runbook worker executes it outside the transaction.
func startRunbook(ctx context.Context, st *store.DB, run *engine.Run) error {
	r := runbook.NewRun(run.Sunset.Name, run.Plan, engineActor, run.Now)
	err := st.CreateRunTx(ctx, run.Tx.SQL(), r)
	if errors.Is(err, runbook.ErrActive) {
		run.Data = map[string]any{"runbook": "not started: " + err.Error()}
		return nil
	}
	if err != nil {
		return err
	}
	run.Data = map[string]any{"runbook_run": r.ID, "steps": len(r.Steps)}
	return nil
}

// deleteData is the data/delete action: it deletes the service's data when the retention rules
// allow it (approved, no legal hold, exports complete), and records what was deleted and where
// its backups are in the action's Event. Otherwise the Event says why nothing was deleted, and
// `sunset export delete` performs the deletion once the reason is gone.
func deleteData(ctx context.Context, st *store.DB, run *engine.Run) error {
	approvers, err := st.DeleteApprovalsTx(ctx, run.Tx.SQL(), run.Sunset.ID)
	if err != nil {
		return err
	}
	var exportsErr error
	if run.Plan.Data.Export != nil {
		state, c, err := st.ExportCheckTx(ctx, run.Tx.SQL(), run.Sunset.Name)
		if err != nil {
			return err
		}
		exportsErr = exportsProblem(run.Sunset.Name, state, c)
	}
	dec := runbook.DecideDelete(run.Plan, approvers, exportsErr)
	data, err := performDelete(ctx, run.Plan, dec, approvers)
	run.Data = data
	return err
}

// exportsProblem says why exports block the deletion, or nil.
func exportsProblem(name, state string, c export.Counts) error {
	switch {
	case state != string(export.JobDone):
		return fmt.Errorf("the export job has not finished (sunset export run %s)", name)
	case c.Failed > 0:
		return fmt.Errorf("%d exports failed (sunset export status %s)", c.Failed, name)
	case c.Outstanding > 0:
		return fmt.Errorf("%d exports were neither downloaded nor kept in a backup (sunset export keep %s)", c.Outstanding, name)
	}
	return nil
}

// performDelete deletes when dec allows it and returns the Event data either way.
func performDelete(ctx context.Context, p *plan.Plan, dec runbook.DeleteDecision, approvers []string) (map[string]any, error) {
	data := map[string]any{"deleted": false, "approved_by": approvers}
	if !dec.Allowed {
		data["reason"] = dec.Reason
		return data, nil
	}
	refs, err := runbook.LatestBackups(ctx, p)
	if err != nil {
		return data, fmt.Errorf("find the backups before deleting: %w", err)
	}
	for _, r := range refs {
		if r.Archive == "" {
			data["reason"] = "no archive of backup " + r.Name + " exists at its destination; back it up before deleting"
			return data, nil
		}
	}
	what, out, err := runbook.DeleteData(ctx, p, 10*time.Minute)
	if err != nil {
		return data, err
	}
	data["deleted"], data["what"], data["backups"] = true, what, refs
	if out != "" {
		data["output"] = out
	}
	return data, nil
}

// runbookAPI serves the web's runbook routes.
type runbookAPI struct {
	st     *store.DB
	runner *runbook.Runner
}

// runView is a run with its approvals and log, as the API shows it.
type runView struct {
	*runbook.Run
	Approvals []runbook.Approval `json:"approvals"`
	Log       []runbook.LogLine  `json:"log"`
}

func (a runbookAPI) view(ctx context.Context, name string) (*runbook.Run, *runView, error) {
	run, err := a.st.LatestRun(ctx, name)
	if errors.Is(err, runbook.ErrNoRun) {
		return nil, nil, sunset.Errorf(sunset.ENOTFOUND, "Sunset %s has no runbook run.", name)
	}
	if err != nil {
		return nil, nil, err
	}
	v := &runView{Run: run, Approvals: []runbook.Approval{}}
	for _, s := range run.Steps {
		if s.Kind == "approval" {
			list, err := a.st.Approvals(ctx, run.ID, s.Name)
			if err != nil {
				return nil, nil, err
			}
			v.Approvals = append(v.Approvals, list...)
		}
	}
	if v.Log, err = a.st.RunLog(ctx, run.ID, 0); err != nil {
		return nil, nil, err
	}
	if v.Log == nil {
		v.Log = []runbook.LogLine{}
	}
	return run, v, nil
}

func (a runbookAPI) RunbookStatus(ctx context.Context, name string) (any, error) {
	_, v, err := a.view(ctx, name)
	return v, err
}

func (a runbookAPI) ApproveRunbook(ctx context.Context, name, step, person, role string) (any, error) {
	run, _, err := a.view(ctx, name)
	if err != nil {
		return nil, err
	}
	switch err := a.runner.Approve(ctx, run, step, person, role); {
	case errors.Is(err, runbook.ErrDuplicate):
		return nil, sunset.Errorf(sunset.ECONFLICT, "%s has already approved step %s.", person, step)
	case err != nil:
		return nil, sunset.Errorf(sunset.EINVALID, "%s", err.Error())
	}
	// A run waiting for approvals goes back to the worker, which checks them again.
	if run.State == runbook.StateWaiting {
		run.State, run.Message = runbook.StateRunning, ""
		run.Updated = time.Now().UTC()
		if err := a.st.SaveRun(ctx, run); err != nil && !errors.Is(err, runbook.ErrStale) {
			return nil, err
		}
	}
	_, v, err := a.view(ctx, name)
	return v, err
}

// exportAPI serves the web's export routes.
type exportAPI struct {
	svc  *export.Service
	runs *exportRuns
}

// Interface guard.
var _ web.ExportRunner = exportAPI{}

// exportView is the export status with what this server's runs add.
type exportView struct {
	*export.Status
	// Running is true while this server runs the job; RunError is why its last run stopped.
	Running  bool   `json:"running"`
	RunError string `json:"run_error,omitempty"`
}

func (a exportAPI) ExportStatus(ctx context.Context, name string) (any, error) {
	st, err := a.svc.Status(ctx, name)
	if err != nil {
		return nil, err
	}
	if st.Job == nil {
		if _, perr := a.svc.Plan(ctx, name); perr != nil {
			return nil, perr
		}
	}
	v := &exportView{Status: st}
	if a.runs != nil {
		v.Running, v.RunError = a.runs.state(name)
	}
	return v, nil
}

// RunExport starts the sunset's export job in the background (unless it runs already) and
// answers the status.
func (a exportAPI) RunExport(ctx context.Context, name string, req web.ExportRunRequest) (any, error) {
	if err := a.runs.start(ctx, name, req); err != nil {
		return nil, err
	}
	return a.ExportStatus(ctx, name)
}

func (a exportAPI) OpenExport(ctx context.Context, name, token string) (*web.ExportDownload, error) {
	d, err := a.svc.Open(ctx, name, token)
	switch {
	case errors.Is(err, export.ErrTampered):
		return nil, web.ErrLinkInvalid
	case errors.Is(err, export.ErrExpired):
		return nil, web.ErrLinkExpired
	case errors.Is(err, export.ErrNoExport):
		return nil, sunset.Errorf(sunset.ENOTFOUND, "Sunset %s offers no data export.", name)
	case err != nil:
		return nil, err
	}
	return &web.ExportDownload{Service: d.Service, UserID: d.User.ID, Ready: d.Ready(), Bytes: d.User.Bytes, Expires: d.Expires,
		Open: d.Open, Record: func(ctx context.Context) error { return a.svc.RecordDownload(ctx, d) }}, nil
}
