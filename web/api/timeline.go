package api

import (
	"net/http"
	"time"

	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/web/httpx"
)

// handleTimelineGet serves GET /api/v1/sunsets/{name}/timeline.
func (s *Server) handleTimelineGet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	actions, err := s.Engine.Actions(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, tl, err := s.Engine.Plan(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := client.Timeline{TimeZone: "UTC", Actions: make([]client.TimelineAction, 0, len(actions))}
	loc := time.UTC
	if tl != nil {
		out.Service = tl.Service
		if tl.TimeZone != "" {
			out.TimeZone = tl.TimeZone
		}
		if tl.Location != nil {
			loc = tl.Location
		}
	}
	if out.Service == "" && p != nil {
		out.Service = p.Service.Name
	}
	for _, a := range actions {
		ta := client.TimelineAction{
			Key:    a.Key,
			At:     a.At.In(loc),
			Kind:   a.Kind,
			Name:   a.Name,
			Detail: a.Detail,
			Status: a.Status,
		}
		if !a.DoneAt.IsZero() {
			d := a.DoneAt.In(loc)
			ta.DoneAt = &d
		}
		out.Actions = append(out.Actions, ta)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
