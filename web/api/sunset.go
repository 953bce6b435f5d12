package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/web/httpx"
)

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
	for _, st := range list {
		s.WithGatewayPhase(r.Context(), st)
	}
	httpx.WriteJSON(w, http.StatusOK, list)
}

// handleSunsetGet serves GET /api/v1/sunsets/{name}.
func (s *Server) handleSunsetGet(w http.ResponseWriter, r *http.Request) {
	st, err := s.Engine.Status(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.WithGatewayPhase(r.Context(), st)
	httpx.WriteJSON(w, http.StatusOK, st)
}

// WithGatewayPhase fills st's GatewayPhase from the policy snapshot gateways are served now
// (EnforcedSnapshot), and PhasesDiverge when it differs from the phase the engine's state
// stands for. A snapshot that cannot be made leaves both empty and is logged: the status is
// still worth answering.
func (s *Server) WithGatewayPhase(ctx context.Context, st *engine.Status) {
	if st == nil || st.Sunset == nil {
		return
	}
	var laggards LaggardLister
	if l, ok := s.Usage.(LaggardLister); ok {
		laggards = l
	}
	snap, err := EnforcedSnapshot(ctx, s.Engine, laggards, s.Phases, st.Name, s.now())
	if err != nil {
		s.logger().Warn("gateway phase unknown", "sunset", st.Name, "err", err)
		return
	}
	st.GatewayPhase = snap.Phases.At(s.now()).String()
	st.PhasesDiverge = st.GatewayPhase != st.EnginePhase
}

// handleSunsetSkip serves POST /api/v1/sunsets/{name}/skip: an operator skips one action (a
// failing one, typically) with a reason.
func (s *Server) handleSunsetSkip(w http.ResponseWriter, r *http.Request) {
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req client.SkipRequest
	if err := httpx.ReadJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Action, req.Reason = strings.TrimSpace(req.Action), strings.TrimSpace(req.Reason)
	if req.Action == "" {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "action is required, e.g. {\"action\": \"notice/0\", \"reason\": \"...\"}; sunset status NAME lists the failing ones."))
		return
	}
	if err := httpx.CheckText("action", req.Action, 200); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := httpx.CheckText("reason", req.Reason, httpx.MaxReasonLen); err != nil {
		s.writeError(w, r, err)
		return
	}
	sun, err := s.Engine.Skip(r.Context(), r.PathValue("name"), req.Action, actor, req.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, sun)
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
	var req client.TransitionRequest
	if err := httpx.ReadJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if err := httpx.CheckText("reason", req.Reason, httpx.MaxReasonLen); err != nil {
		s.writeError(w, r, err)
		return
	}
	sun, err := fn(r.Context(), r.PathValue("name"), actor, req.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, sun)
}

// handleSignoffCreate serves POST /api/v1/sunsets/{name}/signoffs: a stakeholder signs off.
func (s *Server) handleSignoffCreate(w http.ResponseWriter, r *http.Request) {
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req client.SignoffRequest
	if err := httpx.ReadJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Stakeholder = strings.TrimSpace(req.Stakeholder)
	if req.Stakeholder == "" {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "stakeholder is required, e.g. {\"stakeholder\": \"legal\"}."))
		return
	}
	if err := httpx.CheckText("stakeholder", req.Stakeholder, httpx.MaxStakeholderLen); err != nil {
		s.writeError(w, r, err)
		return
	}
	sun, err := s.Engine.Signoff(r.Context(), r.PathValue("name"), req.Stakeholder, actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, sun)
}
