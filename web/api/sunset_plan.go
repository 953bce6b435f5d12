package api

import (
	"context"
	"net/http"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/report"
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

// handleNextPlan serves GET /api/v1/sunsets/{name}/next-plan?announce=YYYY-MM-DD: the start of
// a new plan from the sunset's plan and report (report.NextPlan), as YAML. Like reading the
// report, it moves a shut-down sunset to evaluated.
func (s *Server) handleNextPlan(w http.ResponseWriter, r *http.Request) {
	src, ok := s.Engine.(planSource)
	if !ok || s.Reports == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "This server does not keep plans' text and reports."))
		return
	}
	name, announce := r.PathValue("name"), r.URL.Query().Get("announce")
	if _, err := report.AnnounceDay(announce, s.now(), time.UTC); err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := src.Get(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.evaluate(r, name); err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := s.reportInput(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	doc, err := report.NextPlan(name, st.Plan, report.Build(*in), s.now(), announce)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(doc)
}
