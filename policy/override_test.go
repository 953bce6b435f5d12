package policy

import (
	"reflect"
	"testing"
	"time"
)

func TestWithOverrideSwitchesTheServiceAheadOfItsTimeline(t *testing.T) {
	base := examplePolicy(t, Options{}).Snapshot()
	// Before the announcement: the timeline alone lets everything through.
	switched := at("2027-01-02T10:00")
	now := switched.Add(time.Minute)
	tests := []struct {
		name       string
		phase      Phase
		method     string
		path       string
		wantPass   bool
		wantStatus int
		wantPhase  Phase
	}{
		{"no override lets writes through", Active, "POST", "/v1/orders/", true, 0, Active},
		{"read_only refuses writes to a feature", ReadOnly, "POST", "/v1/orders/", false, 503, ReadOnly},
		{"read_only refuses writes outside any feature", ReadOnly, "DELETE", "/other", false, 503, ReadOnly},
		{"read_only lets reads through", ReadOnly, "GET", "/v1/orders/7", true, 0, ReadOnly},
		{"gone answers 410", Gone, "GET", "/v1/orders/7", false, 410, Gone},
		{"gone answers 308 for a feature with a redirect", Gone, "GET", "/v1/exports/9", false, 308, Redirect},
		{"redirect is gone", Redirect, "GET", "/v1/orders/7", false, 410, Gone},
		{"brownout fails everyone", Brownout, "GET", "/v1/orders/7", false, 503, Brownout},
		{"deprecated warns and passes", Deprecated, "POST", "/v1/orders/", true, 0, Deprecated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol, err := FromSnapshot(base.WithOverride(Override{Phase: tt.phase, At: switched}))
			if err != nil {
				t.Fatal(err)
			}
			d := Decide(pol, now, Request{Method: tt.method, Path: tt.path})
			if d.Pass != tt.wantPass || d.Status != tt.wantStatus || d.Phase != tt.wantPhase {
				t.Errorf("Decide = pass %v status %d phase %s, want pass %v status %d phase %s",
					d.Pass, d.Status, d.Phase, tt.wantPass, tt.wantStatus, tt.wantPhase)
			}
			if tt.phase != Active && !d.Warn && d.Pass {
				t.Error("a forced phase sends no Deprecation header")
			}
		})
	}
}

func TestWithOverrideKeepsLaterInstantsAndTheOriginal(t *testing.T) {
	base := examplePolicy(t, Options{}).Snapshot()
	before := deepCopy(base)
	switched := at("2027-01-02T10:00")
	got := base.WithOverride(Override{Phase: ReadOnly, At: switched})
	if after := deepCopy(base); !reflect.DeepEqual(before, after) {
		t.Error("WithOverride modified its receiver")
	}
	if !got.Phases.ReadOnly.Equal(switched) || !got.Phases.Deprecated.Equal(switched) {
		t.Errorf("read_only %v deprecated %v, want both %v", got.Phases.ReadOnly, got.Phases.Deprecated, switched)
	}
	if !got.Phases.Gone.Equal(*base.Phases.Gone) {
		t.Errorf("gone moved to %v; a read_only switch keeps the shutdown at %v", got.Phases.Gone, base.Phases.Gone)
	}
	// An override later than the timeline's own instant changes nothing.
	late := base.Phases.ReadOnly.Add(time.Hour)
	if g := base.WithOverride(Override{Phase: ReadOnly, At: late}); !g.Phases.ReadOnly.Equal(*base.Phases.ReadOnly) {
		t.Errorf("a late override moved read_only to %v", g.Phases.ReadOnly)
	}
	if g := base.WithOverride(Override{Phase: Active, At: switched}); g != base {
		t.Error("an active override is not the snapshot itself")
	}
}

// deepCopy returns a copy of s that shares no instants or slices with it.
func deepCopy(s *Snapshot) Snapshot {
	c := *s
	c.Features = append([]FeatureSnapshot(nil), s.Features...)
	for i := range c.Features {
		c.Features[i].Times = copyTimes(s.Features[i].Times)
	}
	c.Phases = copyTimes(s.Phases)
	c.Brownouts = append([]BrownoutSnapshot(nil), s.Brownouts...)
	return c
}

func copyTimes(t Times) Times {
	cp := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	return Times{Deprecated: cp(t.Deprecated), ReadOnly: cp(t.ReadOnly), Gone: cp(t.Gone)}
}
