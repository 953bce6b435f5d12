package web

import (
	"context"
	"net/http"

	"github.com/sunsetops/sunset"
)

// Runbooks is what the server needs of the runbook: the latest run of a sunset and approvals.
// Answers are JSON values (a runbook.Run); errors are *sunset.Error values (ENOTFOUND when the
// sunset has no run, EINVALID for an unknown step, ECONFLICT for a second approval by the same
// person).
type Runbooks interface {
	// RunbookStatus returns the latest run of the sunset with its log.
	RunbookStatus(ctx context.Context, name string) (any, error)
	// ApproveRunbook records person's approval of step in role, and lets the run continue.
	ApproveRunbook(ctx context.Context, name, step, person, role string) (any, error)
}

func (s *Server) runbooksEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Runbooks == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Runbooks are not run by this server."))
		return false
	}
	return true
}

// handleRunbookGet serves GET /api/v1/sunsets/{name}/runbook.
func (s *Server) handleRunbookGet(w http.ResponseWriter, r *http.Request) {
	if !s.runbooksEnabled(w, r) {
		return
	}
	run, err := s.Runbooks.RunbookStatus(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// approvalRequest is the body of POST /api/v1/sunsets/{name}/runbook/approvals.
type approvalRequest struct {
	Step string `json:"step"`
	Role string `json:"role"`
}

// handleRunbookApprove serves POST /api/v1/sunsets/{name}/runbook/approvals: the caller (the
// actor) approves an approval step of the latest run.
func (s *Server) handleRunbookApprove(w http.ResponseWriter, r *http.Request) {
	if !s.runbooksEnabled(w, r) {
		return
	}
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req approvalRequest
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, 4096), &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Step == "" {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "Name the approval step: {\"step\": \"sign-off\", \"role\": \"approver\"}."))
		return
	}
	if req.Role == "" {
		req.Role = "approver"
	}
	run, err := s.Runbooks.ApproveRunbook(r.Context(), r.PathValue("name"), req.Step, actor, req.Role)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, run)
}
