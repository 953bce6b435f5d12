package api

import (
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/web/httpx"
)

// maxShiftLen bounds the shift text; real ones are a few characters.
const maxShiftLen = 32

// handleSunsetReplan serves POST /api/v1/sunsets/{name}/replan.
func (s *Server) handleSunsetReplan(w http.ResponseWriter, r *http.Request) {
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req client.ReplanRequest
	if err := httpx.ReadJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Shift, req.Reason = strings.TrimSpace(req.Shift), strings.TrimSpace(req.Reason)
	if req.Shift == "" {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "shift is required, e.g. {\"shift\": \"14d\", \"reason\": \"...\"}."))
		return
	}
	if err := httpx.CheckText("shift", req.Shift, maxShiftLen); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := httpx.CheckText("reason", req.Reason, httpx.MaxReasonLen); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Engine.Shift(r.Context(), r.PathValue("name"), req.Shift, actor, req.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}

// handleGuardrailList serves GET /api/v1/sunsets/{name}/guardrails: each guardrail's current
// value, evaluated now.
func (s *Server) handleGuardrailList(w http.ResponseWriter, r *http.Request) {
	res, err := s.Engine.Guardrails(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res == nil {
		res = []engine.GuardrailResult{}
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}
