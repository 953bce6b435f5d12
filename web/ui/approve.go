package ui

import (
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
)

// handleUIApprove serves POST /s/{name}/approvals: the approve button of a runbook step. It does
// what POST /api/v1/sunsets/{name}/runbook/approvals does, with the form's step and role: the
// run goes on by itself once the step has every approval it needs.
func (s *Server) handleUIApprove(w http.ResponseWriter, r *http.Request) {
	if !s.runbooksEnabled(w, r) {
		return
	}
	actor, ok := s.uiForm(w, r, 4096)
	if !ok {
		return
	}
	step, role := strings.TrimSpace(r.PostFormValue("step")), strings.TrimSpace(r.PostFormValue("role"))
	if step == "" {
		s.formProblem(w, r, sunset.Errorf(sunset.EINVALID, "Name the approval step."))
		return
	}
	if role == "" {
		role = "approver"
	}
	if _, err := s.Runbooks.Approve(r.Context(), r.PathValue("name"), step, actor, role); err != nil {
		s.formProblem(w, r, err)
		return
	}
	redirectDone(w, r, "approved", "runbook")
}
