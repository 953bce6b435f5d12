package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

// ReplanRequest is the body of POST /api/v1/sunsets/{name}/replan.
type ReplanRequest struct {
	// Shift moves every instant still ahead, e.g. "14d" or "-1w".
	Shift string `json:"shift"`
	// Reason says why; required. It is recorded in the event.
	Reason string `json:"reason"`
}

// maxShiftLen bounds the shift text; real ones are a few characters.
const maxShiftLen = 32

// handleSunsetReplan serves POST /api/v1/sunsets/{name}/replan.
func (s *Server) handleSunsetReplan(w http.ResponseWriter, r *http.Request) {
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req ReplanRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Shift, req.Reason = strings.TrimSpace(req.Shift), strings.TrimSpace(req.Reason)
	if req.Shift == "" {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "shift is required, e.g. {\"shift\": \"14d\", \"reason\": \"...\"}."))
		return
	}
	if err := checkText("shift", req.Shift, maxShiftLen); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkText("reason", req.Reason, maxReasonLen); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Engine.Shift(r.Context(), r.PathValue("name"), req.Shift, actor, req.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
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
	writeJSON(w, http.StatusOK, res)
}

// Replan shifts every instant of the sunset that still lies ahead.
func (c *Client) Replan(ctx context.Context, name, shift, reason string) (*engine.ShiftResult, error) {
	body, err := json.Marshal(ReplanRequest{Shift: shift, Reason: reason})
	if err != nil {
		return nil, err
	}
	var res engine.ShiftResult
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/replan"), nil, "application/json", body, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Guardrails evaluates the sunset's guardrails now.
func (c *Client) Guardrails(ctx context.Context, name string) ([]engine.GuardrailResult, error) {
	var res []engine.GuardrailResult
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/guardrails"), nil, "", nil, &res); err != nil {
		return nil, err
	}
	return res, nil
}
