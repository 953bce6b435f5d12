package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

// maxReasonLen is the longest reason accepted for pause, resume and cancel, in characters.
const maxReasonLen = 2000

// maxStakeholderLen is the longest stakeholder name accepted, in characters.
const maxStakeholderLen = 100

// TransitionRequest is the body of POST /api/v1/sunsets/{name}/pause, /resume and /cancel.
type TransitionRequest struct {
	// Reason says why; required to pause and to resume, optional to cancel. It is recorded in
	// the event.
	Reason string `json:"reason,omitempty"`
}

// SignoffRequest is the body of POST /api/v1/sunsets/{name}/signoffs.
type SignoffRequest struct {
	// Stakeholder is the name of a stakeholder of the plan.
	Stakeholder string `json:"stakeholder"`
}

// handleSunsetList serves GET /api/v1/sunsets: a JSON array of every sunset's status.
func (s *Server) handleSunsetList(w http.ResponseWriter, r *http.Request) {
	list, err := s.Engine.Statuses(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*engine.Status{}
	}
	writeJSON(w, http.StatusOK, list)
}

// handleSunsetGet serves GET /api/v1/sunsets/{name}.
func (s *Server) handleSunsetGet(w http.ResponseWriter, r *http.Request) {
	st, err := s.Engine.Status(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// handleSunsetPause serves POST /api/v1/sunsets/{name}/pause.
func (s *Server) handleSunsetPause(w http.ResponseWriter, r *http.Request) {
	s.transition(w, r, s.Engine.Pause)
}

// handleSunsetResume serves POST /api/v1/sunsets/{name}/resume.
func (s *Server) handleSunsetResume(w http.ResponseWriter, r *http.Request) {
	s.transition(w, r, s.Engine.Resume)
}

// handleSunsetCancel serves POST /api/v1/sunsets/{name}/cancel.
func (s *Server) handleSunsetCancel(w http.ResponseWriter, r *http.Request) {
	s.transition(w, r, s.Engine.Cancel)
}

// transition reads a TransitionRequest and applies fn to the named sunset, answering the sunset
// as it stands afterwards. Whether the reason is required is the engine's rule.
func (s *Server) transition(w http.ResponseWriter, r *http.Request,
	fn func(ctx context.Context, name, actor, reason string) (*engine.Sunset, error)) {
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req TransitionRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if err := checkText("reason", req.Reason, maxReasonLen); err != nil {
		s.writeError(w, r, err)
		return
	}
	sun, err := fn(r.Context(), r.PathValue("name"), actor, req.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sun)
}

// handleSignoffCreate serves POST /api/v1/sunsets/{name}/signoffs: a stakeholder signs off.
func (s *Server) handleSignoffCreate(w http.ResponseWriter, r *http.Request) {
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req SignoffRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Stakeholder = strings.TrimSpace(req.Stakeholder)
	if req.Stakeholder == "" {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "stakeholder is required, e.g. {\"stakeholder\": \"legal\"}."))
		return
	}
	if err := checkText("stakeholder", req.Stakeholder, maxStakeholderLen); err != nil {
		s.writeError(w, r, err)
		return
	}
	sun, err := s.Engine.Signoff(r.Context(), r.PathValue("name"), req.Stakeholder, actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sun)
}
