package web

import (
	"net/http"
	"time"

	"github.com/sunsetops/sunset/engine"
)

// Timeline is the body of GET /api/v1/sunsets/{name}/timeline: the sunset's actions with the
// engine's progress on each, their instants shown in the plan's time zone.
type Timeline struct {
	// Service is the name of the service being retired.
	Service string `json:"service"`
	// TimeZone is the plan's IANA time zone; every At is written in it.
	TimeZone string `json:"timezone"`
	// Actions are sorted by instant.
	Actions []TimelineAction `json:"actions"`
}

// TimelineAction is one action of a Timeline.
type TimelineAction struct {
	// Key identifies the action across re-plans ("milestone/shutdown", "notice/2").
	Key string `json:"key"`
	// At is when the action is due, in the plan's time zone (RFC 3339 in JSON).
	At time.Time `json:"at"`
	// Kind is milestone, feature, brownout, notice, guardrail, runbook or data.
	Kind string `json:"kind"`
	// Name is the action's name; a milestone's is the milestone's own.
	Name string `json:"name"`
	// Detail describes the action in a sentence.
	Detail string `json:"detail"`
	// Status is pending, enqueued, done, held, superseded or cancelled.
	Status engine.ActionStatus `json:"status"`
	// DoneAt is when the action ran, in the plan's time zone; absent until then.
	DoneAt *time.Time `json:"done_at,omitempty"`
}

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
	out := Timeline{TimeZone: "UTC", Actions: make([]TimelineAction, 0, len(actions))}
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
		ta := TimelineAction{
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
	writeJSON(w, http.StatusOK, out)
}
