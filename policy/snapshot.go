package policy

import (
	"errors"
	"fmt"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// SnapshotVersion is the version of the Snapshot format this package writes and reads.
const SnapshotVersion = 1

// Snapshot is a compiled plan reduced to what the gateway enforces, with every instant
// resolved. The control plane serves it as JSON to gateways, which build a Policy from it
// without parsing or validating YAML. It is plain data: encoding/json reads and writes it.
type Snapshot struct {
	Version      int                `json:"version"`
	Service      ServiceInfo        `json:"service"`
	Alternatives []plan.Alternative `json:"alternatives,omitempty"`
	Identify     plan.Identify      `json:"identify"`
	// Exempt consumers pass every brownout.
	Exempt []string `json:"exempt,omitempty"`
	// Laggards are the consumers told and not yet moved, targeted by `audience: laggards`
	// brownouts. The control plane fills it; a plan alone has none.
	Laggards  []string           `json:"laggards,omitempty"`
	Phases    Times              `json:"phases"`
	Features  []FeatureSnapshot  `json:"features,omitempty"`
	Brownouts []BrownoutSnapshot `json:"brownouts,omitempty"`
}

// ServiceInfo is what refusals and pages tell about the service.
type ServiceInfo struct {
	Name     string    `json:"name"`
	Title    plan.Text `json:"title,omitempty"`
	Docs     string    `json:"docs,omitempty"`
	TimeZone string    `json:"timezone,omitempty"`
	// Feedback is where callers can say how the sunset affects them (a URL or mailto:).
	Feedback string `json:"feedback,omitempty"`
	// CaseSensitivePaths, AllowAmbiguousPaths and Methods are the plan's service.gateway.
	CaseSensitivePaths  bool     `json:"case_sensitive_paths,omitempty"`
	AllowAmbiguousPaths bool     `json:"allow_ambiguous_paths,omitempty"`
	Methods             []string `json:"methods,omitempty"`
}

// Times are the instants a feature enters each phase; nil when it never does.
type Times struct {
	Deprecated *time.Time `json:"deprecated,omitempty"`
	ReadOnly   *time.Time `json:"read_only,omitempty"`
	Gone       *time.Time `json:"gone,omitempty"`
}

// FeatureSnapshot is one feature of a Snapshot.
type FeatureSnapshot struct {
	Name     string    `json:"name"`
	Title    plan.Text `json:"title,omitempty"`
	Core     bool      `json:"core,omitempty"`
	Routes   []string  `json:"routes"`
	Times    Times     `json:"times"`
	Redirect string    `json:"redirect,omitempty"`
}

// BrownoutSnapshot is one brownout of a Snapshot, with its instants resolved.
type BrownoutSnapshot struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
	// Every is the weekly schedule ("Tue,Thu 14:00"); empty for a percentage brownout.
	Every string `json:"every,omitempty"`
	// ForSeconds is the length of each window.
	ForSeconds int64    `json:"for_seconds,omitempty"`
	Percent    float64  `json:"percent,omitempty"`
	Status     int      `json:"status"`
	Features   []string `json:"features,omitempty"`
	Audience   string   `json:"audience,omitempty"`
}

// Options adds to a plan what it does not say itself.
type Options struct {
	// Feedback is the feedback link of refusals; empty means a mailto: of the plan's
	// accountable owner, if any.
	Feedback string
	// Laggards are the consumers `audience: laggards` brownouts target.
	Laggards []string
}

// SnapshotOf resolves a validated plan into a Snapshot.
func SnapshotOf(p *plan.Plan, opts Options) (*Snapshot, error) {
	if p == nil {
		return nil, errors.New("no plan")
	}
	service, features, err := p.PhaseTimes()
	if err != nil {
		return nil, err
	}
	ms, err := p.MilestoneTimes()
	if err != nil {
		return nil, err
	}
	s := &Snapshot{
		Version: SnapshotVersion,
		Service: ServiceInfo{
			Name:     p.Service.Name,
			Title:    p.Service.Title,
			Docs:     p.Service.Docs,
			TimeZone: p.Service.TimeZone,
			Feedback: opts.Feedback,

			CaseSensitivePaths:  p.Service.Gateway.CaseSensitivePaths,
			AllowAmbiguousPaths: p.Service.Gateway.AllowAmbiguousPaths,
			Methods:             p.Service.Gateway.Methods,
		},
		Alternatives: p.Alternatives,
		Identify:     p.Consumers.Identify,
		Exempt:       p.Consumers.Exempt,
		Laggards:     opts.Laggards,
		Phases:       timesOf(service),
	}
	if s.Service.Feedback == "" {
		for _, o := range p.Service.Owners {
			if o.Role == "accountable" && o.Email != "" {
				s.Service.Feedback = "mailto:" + o.Email + "?subject=" + "Sunset%20of%20" + p.Service.Name
				break
			}
		}
	}
	for i, f := range p.Features {
		s.Features = append(s.Features, FeatureSnapshot{
			Name: f.Name, Title: f.Title, Core: f.Core, Routes: f.Routes,
			Times: timesOf(features[i]), Redirect: f.Redirect,
		})
	}
	for i, b := range p.Brownouts {
		from, err := p.Resolve(b.From, ms)
		if err != nil {
			return nil, fmt.Errorf("brownouts[%d].from: %w", i, err)
		}
		until := service.Gone
		if b.Until != nil {
			if until, err = p.Resolve(*b.Until, ms); err != nil {
				return nil, fmt.Errorf("brownouts[%d].until: %w", i, err)
			}
		}
		if until.IsZero() {
			return nil, fmt.Errorf("brownouts[%d]: no until and no shutdown milestone", i)
		}
		s.Brownouts = append(s.Brownouts, BrownoutSnapshot{
			From: from, Until: until, Every: b.Every, ForSeconds: int64(time.Duration(b.For) / time.Second),
			Percent: b.Percent, Status: b.Status, Features: b.Features, Audience: b.Audience,
		})
	}
	return s, nil
}

func timesOf(pt plan.PhaseTimes) Times {
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return Times{Deprecated: at(pt.Deprecated), ReadOnly: at(pt.ReadOnly), Gone: at(pt.Gone)}
}

func (t Times) phaseTimes() plan.PhaseTimes {
	var pt plan.PhaseTimes
	if t.Deprecated != nil {
		pt.Deprecated = *t.Deprecated
	}
	if t.ReadOnly != nil {
		pt.ReadOnly = *t.ReadOnly
	}
	if t.Gone != nil {
		pt.Gone = *t.Gone
	}
	return pt
}

// Hold freezes s at the instant at, for a paused sunset: a phase already entered at at stays,
// every later phase change is dropped (nil), and brownouts stop, since a pause means users
// are hurt or need more time. Resuming serves the plan's own instants again.
func (s *Snapshot) Hold(at time.Time) {
	s.Phases = s.Phases.heldAt(at)
	for i := range s.Features {
		s.Features[i].Times = s.Features[i].Times.heldAt(at)
	}
	s.Brownouts = nil
}

// Off turns s into a pass-through, for a sunset not (or no longer) being carried out — a
// draft awaiting sign-off or a cancelled one: no phase is ever entered and no brownout runs.
func (s *Snapshot) Off() {
	s.Phases = Times{}
	for i := range s.Features {
		s.Features[i].Times = Times{}
	}
	s.Brownouts = nil
}

// At is the phase t puts a feature (or the service) in at the instant now: gone, read_only or
// deprecated from their instants on, active before.
func (t Times) At(now time.Time) Phase {
	switch {
	case t.Gone != nil && !now.Before(*t.Gone):
		return Gone
	case t.ReadOnly != nil && !now.Before(*t.ReadOnly):
		return ReadOnly
	case t.Deprecated != nil && !now.Before(*t.Deprecated):
		return Deprecated
	}
	return Active
}

// heldAt returns t without the instants after at.
func (t Times) heldAt(at time.Time) Times {
	keep := func(p *time.Time) *time.Time {
		if p == nil || p.After(at) {
			return nil
		}
		return p
	}
	return Times{Deprecated: keep(t.Deprecated), ReadOnly: keep(t.ReadOnly), Gone: keep(t.Gone)}
}
