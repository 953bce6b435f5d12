package api

import (
	"net/http"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/web/httpx"
)

// handleEventList serves GET /api/v1/sunsets/{name}/events: the audit events, oldest first.
func (s *Server) handleEventList(w http.ResponseWriter, r *http.Request) {
	events, err := s.Engine.Events(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if events == nil {
		events = []engine.Event{}
	}
	httpx.WriteJSON(w, http.StatusOK, events)
}

// handleEventVerify serves GET /api/v1/sunsets/{name}/events/verify: the hash chain check. A
// broken chain is still a 200 answer whose ok is false and whose problems say where.
func (s *Server) handleEventVerify(w http.ResponseWriter, r *http.Request) {
	v, err := s.Engine.VerifyEvents(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}
