package plan

import (
	"fmt"
	"time"
)

// PhaseTimes are the instants at which a feature (or the whole service) enters each phase the
// gateway enforces. A zero field means the phase never happens.
type PhaseTimes struct {
	// Deprecated is when Deprecation and Sunset headers start.
	Deprecated time.Time
	// ReadOnly is when writes start being refused.
	ReadOnly time.Time
	// Gone is when every call is refused with 410 Gone, or redirected when the feature names a
	// redirect URL.
	Gone time.Time
}

// PhaseTimes resolves when the whole service and each feature (in plan order) become deprecated,
// read-only and gone, with the rules Compile follows for its feature actions:
//
//   - a feature is deprecated at its own deprecate instant, else the deprecate milestone, else
//     announce; read-only at its own read_only instant, or the read_only milestone when it is
//     core; gone at its own gone instant, else shutdown;
//   - the service is deprecated at the deprecate milestone (else announce), read-only at the
//     read_only milestone and gone at shutdown;
//   - a phase that would begin when the feature is already gone is left out (zero).
//
// It expects a validated plan; an instant it cannot resolve is an error.
func (p *Plan) PhaseTimes() (service PhaseTimes, features []PhaseTimes, err error) {
	ms, err := p.MilestoneTimes()
	if err != nil {
		return PhaseTimes{}, nil, fmt.Errorf("milestones: %w", err)
	}
	pick := func(explicit *Instant, path string, fallbacks ...string) (time.Time, error) {
		if explicit != nil {
			t, err := p.Resolve(*explicit, ms)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s: %w", path, err)
			}
			return t, nil
		}
		for _, name := range fallbacks {
			if t, ok := ms[name]; ok {
				return t, nil
			}
		}
		return time.Time{}, nil
	}
	trim := func(pt PhaseTimes) PhaseTimes {
		if !pt.Gone.IsZero() {
			if !pt.Deprecated.Before(pt.Gone) {
				pt.Deprecated = time.Time{}
			}
			if !pt.ReadOnly.Before(pt.Gone) {
				pt.ReadOnly = time.Time{}
			}
		}
		return pt
	}
	service.Deprecated, _ = pick(nil, "", Deprecate, Announce)
	service.ReadOnly, _ = pick(nil, "", ReadOnly)
	service.Gone, _ = pick(nil, "", Shutdown)
	service = trim(service)
	features = make([]PhaseTimes, len(p.Features))
	for i, f := range p.Features {
		path := fmt.Sprintf("features[%d]", i)
		var ft PhaseTimes
		if ft.Gone, err = pick(f.Gone, path+".gone", Shutdown); err != nil {
			return PhaseTimes{}, nil, err
		}
		if ft.Deprecated, err = pick(f.Deprecate, path+".deprecate", Deprecate, Announce); err != nil {
			return PhaseTimes{}, nil, err
		}
		var roDefault []string
		if f.Core {
			roDefault = []string{ReadOnly}
		}
		if ft.ReadOnly, err = pick(f.ReadOnly, path+".read_only", roDefault...); err != nil {
			return PhaseTimes{}, nil, err
		}
		features[i] = trim(ft)
	}
	return service, features, nil
}
