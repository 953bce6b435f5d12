package ui

import (
	"context"
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/web/httpx"
)

// handleUIPause serves POST /s/{name}/pause: the pause form of a sunset's page. It does what
// POST /api/v1/sunsets/{name}/pause does, with the form's reason and the caller as the actor.
func (s *Server) handleUIPause(w http.ResponseWriter, r *http.Request) {
	s.uiSteer(w, r, "paused", s.Engine.Pause)
}

// handleUIResume serves POST /s/{name}/resume: the resume form of a paused sunset's page, as
// POST /api/v1/sunsets/{name}/resume.
func (s *Server) handleUIResume(w http.ResponseWriter, r *http.Request) {
	s.uiSteer(w, r, "resumed", s.Engine.Resume)
}

// uiSteer reads the reason and the actor of a pause or resume form, calls do, and sends the
// browser back to the page saying done; a refusal shows the page with the problem.
func (s *Server) uiSteer(w http.ResponseWriter, r *http.Request, done string,
	do func(ctx context.Context, name, actor, reason string) (*engine.Sunset, error)) {
	actor, ok := s.uiForm(w, r, 4096)
	if !ok {
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if err := httpx.CheckText("reason", reason, httpx.MaxReasonLen); err != nil {
		s.formProblem(w, r, err)
		return
	}
	if reason == "" {
		s.formProblem(w, r, sunset.Errorf(sunset.EINVALID, "%s", uiTexts[httpx.PageLanguage(r)]["NeedReason"]))
		return
	}
	if _, err := do(r.Context(), r.PathValue("name"), actor, reason); err != nil {
		s.formProblem(w, r, err)
		return
	}
	redirectDone(w, r, done, "steer")
}

// handleUISignoff serves POST /s/{name}/signoffs: the sign-off form of a draft's page, one
// button per stakeholder still awaited. It does what POST /api/v1/sunsets/{name}/signoffs does.
func (s *Server) handleUISignoff(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.uiForm(w, r, 4096)
	if !ok {
		return
	}
	who := strings.TrimSpace(r.PostFormValue("stakeholder"))
	if who == "" {
		s.formProblem(w, r, sunset.Errorf(sunset.EINVALID, "Name the stakeholder who signs off."))
		return
	}
	if err := httpx.CheckText("stakeholder", who, httpx.MaxStakeholderLen); err != nil {
		s.formProblem(w, r, err)
		return
	}
	if _, err := s.Engine.Signoff(r.Context(), r.PathValue("name"), who, actor); err != nil {
		s.formProblem(w, r, err)
		return
	}
	redirectDone(w, r, "signed", "steer")
}
