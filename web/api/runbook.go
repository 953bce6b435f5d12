package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/runbook/runs"
	"github.com/sunsetops/sunset/web/httpx"
)

// Runbooks is what the server needs of the runbook: a sunset's latest run, starting one,
// approvals, operators' decisions, and the plan's declared backups. *runbook.Control implements
// it (the guard is in cmd/sunset, since web does not import the runbook's drivers). Errors are *sunset.Error values: ENOTFOUND when the sunset is unknown or has no run,
// EINVALID for bad input (an unknown step, a missing reason), ECONFLICT when the run's state does
// not allow the request (a second approval by the same person, a run already going).
type Runbooks interface {
	// Status returns the latest run of the sunset with its approvals and log.
	Status(ctx context.Context, name string) (*runs.RunView, error)
	// DryRun describes the runbook a run would carry out; it runs nothing.
	DryRun(ctx context.Context, name string) (*runs.DryRun, error)
	// Start starts a run, started by actor; the server's worker drives it.
	Start(ctx context.Context, name, actor string) (*runs.RunView, error)
	// Approve records person's approval of step in role; the run goes on by itself once the
	// step has every approval it needs.
	Approve(ctx context.Context, name, step, person, role string) (*runs.RunView, error)
	// Resume applies an operator's decision to a run that stopped and lets it go on.
	Resume(ctx context.Context, name, actor string, req runs.ResumeRequest) (*runs.RunView, error)
	// Abort ends the latest run; reason is required.
	Abort(ctx context.Context, name, actor, reason string) (*runs.RunView, error)
	// StartBackup starts taking the plan's declared backups in the background.
	StartBackup(ctx context.Context, name, actor string, req runs.BackupRequest) (*runs.BackupJob, error)
	// Backups lists the archives at the declared backups' destinations and the latest job.
	Backups(ctx context.Context, name string) (*runs.BackupList, error)
}

func (s *Server) runbooksEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Runbooks == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Runbooks are not run by this server."))
		return false
	}
	return true
}

// runbookAction reads the actor and, when body is not nil, the JSON body of a runbook request;
// it answers the problem itself and returns false when either is wrong.
func (s *Server) runbookAction(w http.ResponseWriter, r *http.Request, body any) (string, bool) {
	if !s.runbooksEnabled(w, r) {
		return "", false
	}
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return "", false
	}
	if body != nil {
		if err := httpx.DecodeJSON(http.MaxBytesReader(w, r.Body, 4096), body); err != nil {
			s.writeError(w, r, err)
			return "", false
		}
	}
	return actor, true
}

// answer writes v with status, or the error.
func answer[T any](s *Server, w http.ResponseWriter, r *http.Request, status int, v T, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, status, v)
}

// handleRunbookGet serves GET /api/v1/sunsets/{name}/runbook.
func (s *Server) handleRunbookGet(w http.ResponseWriter, r *http.Request) {
	if !s.runbooksEnabled(w, r) {
		return
	}
	run, err := s.Runbooks.Status(r.Context(), r.PathValue("name"))
	answer(s, w, r, http.StatusOK, run, err)
}

// handleRunbookStart serves POST /api/v1/sunsets/{name}/runbook/runs: start a run (201, the
// run) or, with dry_run, describe it (200).
func (s *Server) handleRunbookStart(w http.ResponseWriter, r *http.Request) {
	var req client.RunStartRequest
	actor, ok := s.runbookAction(w, r, &req)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if req.DryRun {
		d, err := s.Runbooks.DryRun(r.Context(), name)
		answer(s, w, r, http.StatusOK, d, err)
		return
	}
	run, err := s.Runbooks.Start(r.Context(), name, actor)
	answer(s, w, r, http.StatusCreated, run, err)
}

// handleRunbookApprove serves POST /api/v1/sunsets/{name}/runbook/approvals: the caller (the
// actor) approves an approval step of the latest run.
func (s *Server) handleRunbookApprove(w http.ResponseWriter, r *http.Request) {
	var req client.ApprovalRequest
	actor, ok := s.runbookAction(w, r, &req)
	if !ok {
		return
	}
	if strings.TrimSpace(req.Step) == "" {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "Name the approval step: {\"step\": \"sign-off\", \"role\": \"approver\"}."))
		return
	}
	if req.Role == "" {
		req.Role = "approver"
	}
	run, err := s.Runbooks.Approve(r.Context(), r.PathValue("name"), req.Step, actor, req.Role)
	answer(s, w, r, http.StatusCreated, run, err)
}

// handleRunbookResume serves POST /api/v1/sunsets/{name}/runbook/resume: an operator's decision
// about the latest run (mark the stopped step done, retry it, override the backup check).
func (s *Server) handleRunbookResume(w http.ResponseWriter, r *http.Request) {
	var req runs.ResumeRequest
	actor, ok := s.runbookAction(w, r, &req)
	if !ok {
		return
	}
	run, err := s.Runbooks.Resume(r.Context(), r.PathValue("name"), actor, req)
	answer(s, w, r, http.StatusOK, run, err)
}

// handleRunbookAbort serves POST /api/v1/sunsets/{name}/runbook/abort.
func (s *Server) handleRunbookAbort(w http.ResponseWriter, r *http.Request) {
	var req client.TransitionRequest
	actor, ok := s.runbookAction(w, r, &req)
	if !ok {
		return
	}
	run, err := s.Runbooks.Abort(r.Context(), r.PathValue("name"), actor, req.Reason)
	answer(s, w, r, http.StatusOK, run, err)
}

// handleBackupCreate serves POST /api/v1/sunsets/{name}/backups: take the plan's declared
// backups in the background (202, the job).
func (s *Server) handleBackupCreate(w http.ResponseWriter, r *http.Request) {
	var req runs.BackupRequest
	actor, ok := s.runbookAction(w, r, &req)
	if !ok {
		return
	}
	job, err := s.Runbooks.StartBackup(r.Context(), r.PathValue("name"), actor, req)
	answer(s, w, r, http.StatusAccepted, job, err)
}

// handleBackupList serves GET /api/v1/sunsets/{name}/backups.
func (s *Server) handleBackupList(w http.ResponseWriter, r *http.Request) {
	if !s.runbooksEnabled(w, r) {
		return
	}
	l, err := s.Runbooks.Backups(r.Context(), r.PathValue("name"))
	answer(s, w, r, http.StatusOK, l, err)
}
