package main

import (
	"context"
	"errors"
	"io"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/web"
	"github.com/sunsetops/sunset/web/api"
	"github.com/sunsetops/sunset/web/public"
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
	phases *runbook.PhaseSwitch
	// control carries out the API's runbook and backup requests; serve stops its backups on
	// shutdown.
	control *runbook.Control
	// exportRuns runs export jobs for the API; serve stops it on shutdown.
	exportRuns *export.Runs
	web        struct {
		runbooks  api.Runbooks
		exports   web.Exports
		retention api.Retention
	}
}

// wireData registers the runbook/start and data/delete handlers on eng and builds the runbook
// worker (started by the caller) and the web adapters. getenv reads the backup and export keys.
func wireData(st *store.DB, eng *engine.Engine, rt sunset.Runtime, getenv func(string) string) *dataServices {
	d := &dataServices{}
	d.exports = &export.Service{Store: st, Getenv: getenv, Runtime: rt.With("component", "export"),
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
		Runtime: rt, Getenv: getenv}
	d.phases = runbookCollaborators(d.runner, st, eng, rt)
	// The worker drives every running run: those the timeline started and those started,
	// approved or resumed through the API (sunset runbook run/approve/resume), so a run goes on
	// by itself when its last approval arrives. Its lease lets several replicas share the runs:
	// one at a time drives each (serve sets Owner). Leases are measured on the wall clock (the
	// Runtime's clock left unset): they are about processes, not the sunsets' timeline.
	d.worker = &runbook.Worker{Runner: d.runner, Plan: d.exports.Plan, Runtime: sunset.Runtime{Logger: rt.Log().With("component", "runbook")}, Lease: st,
		Runs: st.RunningRuns}
	eng.Register(plan.KindRunbook, engine.HandlerFunc(func(ctx context.Context, run *engine.Run) error {
		return startRunbook(ctx, st, run)
	}))
	eng.Register(plan.KindData, engine.HandlerFunc(func(ctx context.Context, run *engine.Run) error {
		if run.Action.Key != "data/delete" {
			return nil
		}
		return deleteData(ctx, st, run)
	}))
	d.control = &runbook.Control{Runner: d.runner, Log: st, Plan: d.exports.Plan, Wake: d.worker.Wake, Jobs: st}
	d.web.runbooks = d.control
	d.exportRuns = export.NewRuns(d.exports)
	d.web.exports = exportAPI{svc: d.exports, runs: d.exportRuns, getenv: getenv}
	d.web.retention = retentionAPI{&runbook.Retention{
		Plan: d.exports.Plan,
		History: func(ctx context.Context, name string) ([]runbook.HistoryEvent, error) {
			evs, err := eng.Events(ctx, name)
			out := make([]runbook.HistoryEvent, 0, len(evs))
			for _, e := range evs {
				out = append(out, runbook.HistoryEvent{Seq: e.Seq, Type: e.Type, Actor: e.Actor, Data: e.Data})
			}
			return out, err
		},
		ActionDone: func(ctx context.Context, name, key string) (bool, error) {
			acts, err := eng.Actions(ctx, name)
			for _, a := range acts {
				if a.Key == key {
					return a.Status == engine.ActionDone, err
				}
			}
			return false, err
		},
		Exports: func(ctx context.Context, name string) error {
			rep, err := d.exports.Check(ctx, name)
			if err != nil {
				return err
			}
			return rep.Err()
		},
		Events: eventsAdapter{eng},
		Verified: func(ctx context.Context, name string) (map[string]string, error) {
			r, err := st.LatestRun(ctx, name)
			if errors.Is(err, runbook.ErrNoRun) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			return r.Verified, nil
		},
	}}
	return d
}

// The runbook's control is what the web's runbook routes need.
var _ api.Runbooks = (*runbook.Control)(nil)

// eventsAdapter records runbook events in the sunset's log.
type eventsAdapter struct{ eng *engine.Engine }

func (a eventsAdapter) Record(ctx context.Context, sunset, typ, actor string, data map[string]any) error {
	return a.eng.RecordEvent(ctx, sunset, typ, actor, data)
}

// errBackuper fails every backup with the reason no backup service could be built (no key).
type errBackuper struct{ err error }

func (e errBackuper) Backup(context.Context, plan.Backup, bool, io.Writer) (string, error) {
	return "", e.err
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
		exportsErr = export.Blocking(run.Sunset.Name, export.JobState(state), c)
	}
	// Only an archive the runbook verified counts; the action runs in the engine's transaction,
	// so the run is read in it.
	var verified map[string]string
	switch r, err := st.LatestRunTx(ctx, run.Tx.SQL(), run.Sunset.Name); {
	case err == nil:
		verified = r.Verified
	case !errors.Is(err, runbook.ErrNoRun):
		return err
	}
	d, err := runbook.Delete(ctx, run.Plan, approvers, exportsErr, verified)
	run.Data = d.EventData()
	return err
}

// exportAPI serves the web's export routes.
type exportAPI struct {
	svc  *export.Service
	runs *export.Runs
	// getenv reads the backup key that signs the archive of kept exports.
	getenv func(string) string
}

// Interface guards.
var (
	_ web.Exports      = exportAPI{}
	_ api.ExportRunner = exportAPI{}
)

func (a exportAPI) ExportStatus(ctx context.Context, name string) (*client.ExportStatus, error) {
	// Whether a run goes on is read before the job: a run that ends in between then shows its
	// job, never "not running" with the job it had not saved yet.
	v := &client.ExportStatus{}
	if a.runs != nil {
		v.Running, v.RunError = a.runs.State(name)
	}
	st, err := a.svc.Status(ctx, name)
	if err != nil {
		return nil, err
	}
	if st.Job == nil {
		if _, perr := a.svc.Plan(ctx, name); perr != nil {
			return nil, perr
		}
	}
	v.Status = *st
	return v, nil
}

// RunExport starts the sunset's export job in the background (unless it runs already) and
// answers the status.
func (a exportAPI) RunExport(ctx context.Context, name string, req client.ExportRunRequest) (*client.ExportStatus, error) {
	if err := a.runs.Start(ctx, name, export.RunOptions{Batch: req.Batch, Workers: req.Workers, RetryFailed: req.RetryFailed}); err != nil {
		return nil, err
	}
	return a.ExportStatus(ctx, name)
}

func (a exportAPI) ExportCheck(ctx context.Context, name string) (*export.CheckReport, error) {
	if _, err := a.svc.Plan(ctx, name); err != nil {
		return nil, err
	}
	return a.svc.Check(ctx, name)
}

func (a exportAPI) KeepExports(ctx context.Context, name string) (*client.ExportKept, error) {
	if _, err := a.svc.Plan(ctx, name); err != nil {
		return nil, err
	}
	key, err := backup.LoadKey("env:SUNSET_BACKUP_KEY", a.getenv)
	if err != nil {
		return nil, sunset.Errorf(sunset.EINVALID, "The server cannot sign a backup: %v. Start sunset serve with SUNSET_BACKUP_KEY set.", err)
	}
	id, n, err := a.svc.Keep(ctx, name, key, "sunset "+version, io.Discard)
	if err != nil {
		return nil, err
	}
	return &client.ExportKept{Archive: id, Kept: n}, nil
}

func (a exportAPI) ExportLink(ctx context.Context, name, user string) (*client.ExportLink, error) {
	l, err := a.svc.Links(ctx, name)
	if err != nil {
		return nil, err
	}
	return &client.ExportLink{User: user, URL: l.URL(name, user)}, nil
}

func (a exportAPI) OpenExport(ctx context.Context, name, token string) (*public.ExportDownload, error) {
	d, err := a.svc.Open(ctx, name, token)
	switch {
	case errors.Is(err, export.ErrTampered):
		return nil, public.ErrLinkInvalid
	case errors.Is(err, export.ErrExpired):
		return nil, public.ErrLinkExpired
	case errors.Is(err, export.ErrNoExport):
		return nil, sunset.Errorf(sunset.ENOTFOUND, "Sunset %s offers no data export.", name)
	case err != nil:
		return nil, err
	}
	return &public.ExportDownload{Service: d.Service, UserID: d.User.ID, Ready: d.Ready(), Bytes: d.User.Bytes, Expires: d.Expires,
		Open: d.Open, Record: func(ctx context.Context) error { return a.svc.RecordDownload(ctx, d) }}, nil
}

// retentionAPI serves the web's data deletion routes.
type retentionAPI struct{ r *runbook.Retention }

// Interface guard.
var _ api.Retention = retentionAPI{}

func (a retentionAPI) ApproveDelete(ctx context.Context, name, person string) (*client.DeleteApprovals, error) {
	approvers, need, err := a.r.Approve(ctx, name, person)
	if err != nil {
		return nil, err
	}
	return &client.DeleteApprovals{ApprovedBy: approvers, Needed: need}, nil
}

func (a retentionAPI) DeleteData(ctx context.Context, name, actor string) (*runbook.Deletion, error) {
	return a.r.DeleteNow(ctx, name, actor)
}
