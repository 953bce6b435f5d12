package policy

import (
	"net/http"
	"time"
)

// Request is what Decide needs to know of a request.
type Request struct {
	// Method is the request method, "GET".
	Method string
	// Host is the Host header; a port is ignored.
	Host string
	// Path is the escaped path (url.URL.EscapedPath), "/v1/reports/42".
	Path string
	// Consumer identifies the caller; "" when unknown.
	Consumer string
	// Simulate, when not Active, asks what the feature will answer in that phase (the
	// Sunset-Simulate request header), whatever the instant.
	Simulate Phase
}

// Decision is what the gateway does with a request.
type Decision struct {
	// Pass reports whether the request goes on to the service.
	Pass bool
	// Phase is the phase that decided.
	Phase Phase
	// Feature is the feature the request belongs to (the service when no route matches).
	// Never nil.
	Feature *Feature
	// Warn reports whether the answer carries Feature's Deprecation, Sunset and Link headers.
	Warn bool
	// Status is the status of an answer (when !Pass): 410, 503, 308...
	Status int
	// RetryAfter is the end of the brownout window, for Retry-After; zero otherwise.
	RetryAfter time.Time
	// Location is the target of a redirect.
	Location string
	// Simulated reports that the decision rehearses Request.Simulate.
	Simulated bool
	// Path is the canonical path the decision was made on (see canonical.go), which is what
	// the gateway forwards: Request.Path itself, not a copy, when it was canonical already.
	Path string
	// BadPath reports a path refused before any route was matched (Status 400): ambiguous (its
	// meaning depends on who decodes it) or malformed. Feature is then the service.
	BadPath bool
}

// readOnlyStatus is the answer to a write in the read_only phase.
const readOnlyStatus = http.StatusServiceUnavailable

// Decide returns what to do with req at now, deciding on the canonical form of req.Path. It is
// safe for concurrent use and allocates nothing when the path is canonical already and the
// request passes (a matched or unmatched route, any phase that lets it through); a path it has
// to rewrite costs the one allocation of its canonical form.
func Decide(p *Policy, now time.Time, req Request) Decision {
	path, plain, verdict := canonicalPath(req.Path, p.paths)
	if verdict != pathOK {
		return Decision{Phase: Active, Feature: &p.service, Status: http.StatusBadRequest, BadPath: true}
	}
	f := &p.service
	if r := p.matcher.lookup(req.Method, req.Host, path, plain); r != nil {
		f = &p.features[r.feature]
	}
	if req.Simulate != Active {
		d := p.simulate(f, now, req)
		d.Path = path
		return d
	}
	d := Decision{Pass: true, Phase: Active, Feature: f, Path: path}
	t := &f.Times
	if !t.Deprecated.IsZero() && !now.Before(t.Deprecated) {
		d.Phase, d.Warn = Deprecated, true
	}
	if !t.Gone.IsZero() && !now.Before(t.Gone) {
		return gone(d)
	}
	if !t.ReadOnly.IsZero() && !now.Before(t.ReadOnly) {
		d.Phase = ReadOnly
		if !safeMethod(req.Method) {
			d.Pass, d.Status = false, readOnlyStatus
			return d
		}
	}
	if len(p.brownouts) > 0 {
		if b, end, ok := p.brownoutAt(f, now, req.Consumer); ok {
			d.Pass, d.Phase, d.Status, d.RetryAfter = false, Brownout, b.status, end
		}
	}
	return d
}

// gone turns d into the final answer of its feature: 308 to the redirect, or 410.
func gone(d Decision) Decision {
	d.Pass, d.Warn = false, true
	if d.Feature.Redirect != "" {
		d.Phase, d.Status, d.Location = Redirect, http.StatusPermanentRedirect, d.Feature.Redirect
		return d
	}
	d.Phase, d.Status = Gone, http.StatusGone
	return d
}

// brownoutAt finds the brownout that fails consumer's request to f at now. Later entries are
// tried first: a plan escalates by listing longer or harsher brownouts after the first ones.
func (p *Policy) brownoutAt(f *Feature, now time.Time, consumer string) (*brownout, time.Time, bool) {
	if _, ok := p.exempt[consumer]; ok {
		return nil, time.Time{}, false
	}
	for i := len(p.brownouts) - 1; i >= 0; i-- {
		b := &p.brownouts[i]
		if !b.covers(f.Index, len(p.features)) {
			continue
		}
		if b.laggards {
			if _, ok := p.laggards[consumer]; !ok {
				continue
			}
		}
		start, end, ok := b.window(now, p.loc)
		if ok && b.picks(consumer, start) {
			return b, end, true
		}
	}
	return nil, time.Time{}, false
}

// BrownoutOpen reports whether a brownout window of the policy is open at now, for any feature
// and any consumer: the time in which users may hit a brownout (and complain about it).
func (p *Policy) BrownoutOpen(now time.Time) bool {
	for i := range p.brownouts {
		if _, _, ok := p.brownouts[i].window(now, p.loc); ok {
			return true
		}
	}
	return false
}

// simulate answers as f will in the phase req.Simulate, for rehearsals.
func (p *Policy) simulate(f *Feature, now time.Time, req Request) Decision {
	d := Decision{Pass: true, Phase: req.Simulate, Feature: f, Warn: true, Simulated: true}
	switch req.Simulate {
	case ReadOnly:
		if !safeMethod(req.Method) {
			d.Pass, d.Status = false, readOnlyStatus
		}
	case Brownout:
		d.Pass, d.Status, d.RetryAfter = false, defaultBrownoutStatus, now.Add(15*time.Minute)
		for i := len(p.brownouts) - 1; i >= 0; i-- {
			if b := &p.brownouts[i]; b.covers(f.Index, len(p.features)) {
				d.Status, d.RetryAfter = b.status, now.Add(b.dur)
				break
			}
		}
	case Gone, Redirect:
		d = gone(d)
	}
	return d
}

// safeMethod reports whether m is one of the methods read_only lets through.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
