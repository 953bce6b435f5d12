package policy

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// Policy is a compiled plan, ready for Decide. It is immutable; build a new one to change it
// (WithLaggards, or Compile again), and swap it in atomically.
type Policy struct {
	snap      *Snapshot
	loc       *time.Location
	service   Feature
	features  []Feature
	matcher   matcher
	brownouts []brownout
	exempt    map[string]struct{}
	laggards  map[string]struct{}
	// paths is the plan's reading of paths (canonical.go).
	paths pathOptions
	// methods are the extra methods the service serves (ServiceInfo.Methods).
	methods []string
}

// Feature is one feature of a Policy, or the whole service (Index -1): its phase instants and the
// header values it sends, formatted once when the policy is compiled.
type Feature struct {
	// Index is the feature's place in the plan; -1 for the whole service.
	Index int
	Name  string
	Title plan.Text
	// Times are the instants of its phases. Gone is never later than the service's.
	Times plan.PhaseTimes
	// Redirect is the URL answered with 308 from Times.Gone on; empty for 410.
	Redirect string
	// Deprecation, Sunset and Link are the header values sent from Times.Deprecated on (RFC
	// 9745, RFC 8594, RFC 8288); empty when the plan has nothing to say.
	Deprecation, Sunset, Link string
}

// Compile builds the Policy of a validated plan.
func Compile(p *plan.Plan, opts Options) (*Policy, error) {
	s, err := SnapshotOf(p, opts)
	if err != nil {
		return nil, err
	}
	return FromSnapshot(s)
}

// FromSnapshot builds a Policy from a Snapshot. It checks what it relies on: routes valid and
// free of conflicts for ServeMux, brownout schedules readable, instants in range.
func FromSnapshot(s *Snapshot) (*Policy, error) {
	if s == nil {
		return nil, errors.New("no snapshot")
	}
	if s.Version != SnapshotVersion {
		return nil, fmt.Errorf("snapshot version %d, want %d", s.Version, SnapshotVersion)
	}
	var errs []error
	p := &Policy{snap: s, loc: time.UTC}
	p.paths = pathOptions{allowAmbiguous: s.Service.AllowAmbiguousPaths, fold: !s.Service.CaseSensitivePaths}
	p.matcher.fold = p.paths.fold
	for i, m := range s.Service.Methods {
		if !validExtraMethod(m) {
			errs = append(errs, fmt.Errorf("service.methods[%d]: %q is not an extra method the gateway can carry", i, m))
			continue
		}
		p.methods = append(p.methods, m)
	}
	if s.Service.TimeZone != "" {
		loc, err := time.LoadLocation(s.Service.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("service.timezone: %v", err)
		}
		p.loc = loc
	}
	service := s.Phases.phaseTimes()
	p.service = newFeature(s, -1, s.Service.Name, s.Service.Title, service, "", &errs)
	index := p.addFeatures(s, service, &errs)
	for i, bs := range s.Brownouts {
		b, err := newBrownout(bs, index, len(s.Features))
		if err != nil {
			errs = append(errs, fmt.Errorf("brownouts[%d]: %v", i, err))
			continue
		}
		p.brownouts = append(p.brownouts, b)
	}
	p.exempt = set(s.Exempt)
	p.laggards = set(s.Laggards)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// newFeature builds the feature's answer headers (Deprecation, Sunset, Link) from its phase times
// and the snapshot's documents and alternatives; errors are appended to errs.
func newFeature(s *Snapshot, index int, name string, title plan.Text, t plan.PhaseTimes, redirect string, errs *[]error) Feature {
	f := Feature{Index: index, Name: name, Title: title, Times: t, Redirect: redirect}
	dep := t.Deprecated
	if dep.IsZero() {
		dep = t.Gone
	}
	if !dep.IsZero() {
		v, err := FormatDeprecation(dep)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s: deprecation: %v", name, err))
		}
		f.Deprecation = v
	}
	if !t.Gone.IsZero() {
		v, err := FormatSunset(t.Gone)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s: sunset: %v", name, err))
		}
		f.Sunset = v
	}
	deprecationDoc, successor := s.Service.Docs, ""
	if len(s.Alternatives) > 0 {
		if s.Alternatives[0].Guide != "" {
			deprecationDoc = s.Alternatives[0].Guide
		}
		successor = s.Alternatives[0].URL
	}
	if redirect != "" {
		successor = redirect
	}
	f.Link = FormatLinks([]Link{
		{URI: deprecationDoc, Rel: "deprecation", Type: "text/html"},
		{URI: s.Service.Docs, Rel: "sunset", Type: "text/html"},
		{URI: successor, Rel: "successor-version"},
	})
	return f
}

// addFeatures adds the snapshot's features and registers their routes, checked as ServeMux
// checks them (and again folded when routes match regardless of case); nothing outlives the
// service. It returns each feature's index by name; errors are appended to errs.
func (p *Policy) addFeatures(s *Snapshot, service plan.PhaseTimes, errs *[]error) map[string]int {
	mux := http.NewServeMux()
	foldMux := http.NewServeMux() // routes as matched regardless of case
	index := map[string]int{}
	for i, fs := range s.Features {
		t := fs.Times.phaseTimes()
		if !service.Gone.IsZero() && (t.Gone.IsZero() || service.Gone.Before(t.Gone)) {
			t.Gone = service.Gone
		}
		p.features = append(p.features, newFeature(s, i, fs.Name, fs.Title, t, fs.Redirect, errs))
		index[fs.Name] = i
		for _, r := range fs.Routes {
			if err := checkPattern(mux, r); err != nil {
				*errs = append(*errs, fmt.Errorf("features[%d] %s: route %q: %v", i, fs.Name, r, err))
				continue
			}
			if p.matcher.fold {
				if err := checkPattern(foldMux, plan.FoldRoute(r)); err != nil {
					*errs = append(*errs, fmt.Errorf("features[%d] %s: route %q, ignoring case: %v", i, fs.Name, r, err))
					continue
				}
			}
			if err := p.matcher.add(r, i); err != nil {
				*errs = append(*errs, fmt.Errorf("features[%d] %s: %v", i, fs.Name, err))
			}
		}
	}
	return index
}

func set(ids []string) map[string]struct{} {
	m := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return m
}

// WithLaggards returns a copy of p whose laggards-only brownouts target ids.
func (p *Policy) WithLaggards(ids []string) *Policy {
	q := *p
	snap := *p.snap
	snap.Laggards = ids
	q.snap = &snap
	q.laggards = set(ids)
	return &q
}

// Snapshot returns the snapshot the policy was built from. Callers must not modify it.
func (p *Policy) Snapshot() *Snapshot { return p.snap }

// Service returns the whole service as a Feature (Index -1).
func (p *Policy) Service() *Feature { return &p.service }

// Features returns the plan's features in plan order. Callers must not modify them.
func (p *Policy) Features() []Feature { return p.features }

// Feature returns the feature at index i, or the service for -1 (or any index out of range).
func (p *Policy) Feature(i int) *Feature {
	if i >= 0 && i < len(p.features) {
		return &p.features[i]
	}
	return &p.service
}

// Location returns the plan's time zone.
func (p *Policy) Location() *time.Location { return p.loc }

// Alternatives returns where callers should go instead.
func (p *Policy) Alternatives() []plan.Alternative { return p.snap.Alternatives }

// Identify returns the plan's rule naming a consumer.
func (p *Policy) Identify() plan.Identify { return p.snap.Identify }

// Exempt reports whether consumer is spared from brownouts.
func (p *Policy) Exempt(consumer string) bool {
	_, ok := p.exempt[consumer]
	return ok
}

// FeatureOf returns the feature a request for method and path (escaped) on host belongs to, as
// Decide finds it: the one whose route ServeMux would pick for the canonical path, or the
// service when no route matches or the path is refused.
func (p *Policy) FeatureOf(method, host, path string) *Feature {
	path, plain, v := canonicalPath(path, p.paths)
	if v != pathOK {
		return &p.service
	}
	if r := p.matcher.lookup(method, host, path, plain); r != nil {
		return &p.features[r.feature]
	}
	return &p.service
}

// AllowsMethod reports whether the gateway carries requests with method m: the standard
// methods (plan.StandardMethod) and the plan's service.gateway.methods. It does not allocate.
func (p *Policy) AllowsMethod(m string) bool {
	if plan.StandardMethod(m) {
		return true
	}
	for _, x := range p.methods {
		if x == m {
			return true
		}
	}
	return false
}

// Methods returns the extra methods the service serves beyond the standard ones. Callers must
// not modify them.
func (p *Policy) Methods() []string { return p.methods }

// validExtraMethod reports whether m may be listed as an extra method: an HTTP token that is
// not standard, nor CONNECT or TRACE.
func validExtraMethod(m string) bool {
	if m == "" || len(m) > 20 || plan.StandardMethod(m) || m == http.MethodConnect || m == http.MethodTrace {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
