package web

import (
	"context"
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

// planSource is what handleSunsetPlanGet needs beyond Engine: the sunset as stored, with the
// YAML of its current plan. *engine.Engine implements it.
type planSource interface {
	Get(ctx context.Context, name string) (*engine.Sunset, error)
}

// handleSunsetPlanGet serves GET /api/v1/sunsets/{name}/plan: the YAML of the sunset's current
// plan exactly as it was applied, comments included, so that a new plan can start from a past
// one (sunset plan new --from).
func (s *Server) handleSunsetPlanGet(w http.ResponseWriter, r *http.Request) {
	src, ok := s.Engine.(planSource)
	if !ok {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "This server does not keep plans' text."))
		return
	}
	st, err := src.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(st.Plan)
}
