package policy

import (
	"net/http"
	"time"
)

// Override is a phase the whole service was switched to at an instant, ahead of its timeline: a
// runbook's gateway step (`gateway: read_only`) records one, and the control plane applies it
// to the snapshot it serves, so gateways enforce it at once whatever the plan's instants say.
type Override struct {
	// Phase is the phase switched to. Active means no override: the timeline rules alone.
	Phase Phase
	// At is when the switch was made; the phase holds from then on.
	At time.Time
}

// overrideBrownoutStatus is the answer of a forced brownout (the default of plan brownouts).
const overrideBrownoutStatus = http.StatusServiceUnavailable

// overrideBrownoutYears bounds a forced brownout of a service without a gone instant.
const overrideBrownoutYears = 100

// WithOverride returns a copy of s in which the whole service, and every feature, is at least
// in o.Phase from o.At on: each phase instant up to o.Phase that is later than o.At (or absent)
// becomes o.At. Later phases keep the timeline's instants, so a service forced read_only still
// goes at its shutdown. Deprecated headers start with any forced phase. A forced brownout fails
// every request (503, Retry-After) until the service is gone; redirect is gone (features with a
// redirect answer 308). Active, or a zero At, returns s itself. s is not modified.
func (s *Snapshot) WithOverride(o Override) *Snapshot {
	if s == nil || o.Phase == Active || o.At.IsZero() {
		return s
	}
	at := o.At.UTC()
	c := *s
	c.Phases = pull(s.Phases, o.Phase, at)
	c.Features = make([]FeatureSnapshot, len(s.Features))
	for i, f := range s.Features {
		f.Times = pull(f.Times, o.Phase, at)
		c.Features[i] = f
	}
	if o.Phase == Brownout {
		until := at.AddDate(overrideBrownoutYears, 0, 0)
		if c.Phases.Gone != nil {
			until = *c.Phases.Gone
		}
		c.Brownouts = append(append([]BrownoutSnapshot(nil), s.Brownouts...),
			BrownoutSnapshot{From: at, Until: until, Percent: 100, Status: overrideBrownoutStatus})
	}
	return &c
}

// pull moves t's instants up to phase no later than at.
func pull(t Times, phase Phase, at time.Time) Times {
	early := func(p *time.Time) *time.Time {
		if p == nil || p.After(at) {
			v := at
			return &v
		}
		return p
	}
	t.Deprecated = early(t.Deprecated)
	switch phase {
	case ReadOnly:
		t.ReadOnly = early(t.ReadOnly)
	case Gone, Redirect:
		t.Gone = early(t.Gone)
	}
	return t
}
