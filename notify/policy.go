package notify

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Policy says how hard the worker tries. The zero value of each field means its default.
type Policy struct {
	// MaxAttempts is how many sends a delivery gets before it fails for good. Default 8.
	MaxAttempts int
	// BaseDelay is the wait before the first retry; each retry doubles it, up to MaxDelay, and
	// the actual wait is drawn between half and all of it (jitter). Defaults 30s and 1h.
	BaseDelay, MaxDelay time.Duration
	// BreakerThreshold consecutive transient failures of one endpoint open its circuit breaker
	// for BreakerCooldown: its deliveries wait, the other endpoints' go on. Defaults 5 and 1m.
	BreakerThreshold int
	BreakerCooldown  time.Duration
	// LateAfter is how long a notice may stay undelivered over a channel before its sunset's
	// accountable owners are alerted (once per notice and channel); DownAfter how long a
	// channel's breaker may stay open before they are (once per outage). Defaults 10m and 5m.
	LateAfter time.Duration
	DownAfter time.Duration
	// Rates caps sends per second per channel kind ("email", "webhook"…); 0 or missing means
	// no cap.
	Rates map[string]float64
}

func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 30 * time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = time.Hour
	}
	if p.BreakerThreshold <= 0 {
		p.BreakerThreshold = 5
	}
	if p.BreakerCooldown <= 0 {
		p.BreakerCooldown = time.Minute
	}
	if p.LateAfter <= 0 {
		p.LateAfter = 10 * time.Minute
	}
	if p.DownAfter <= 0 {
		p.DownAfter = 5 * time.Minute
	}
	return p
}

// Backoff returns the wait after the attempt-th failed send (from 1): BaseDelay·2^(attempt−1),
// at most MaxDelay, with equal jitter — between half and all of it — so that deliveries failing
// together do not retry together.
func (p Policy) Backoff(attempt int, rnd *rand.Rand) time.Duration {
	p = p.withDefaults()
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	var j float64
	if rnd != nil {
		j = rnd.Float64()
	} else {
		j = rand.Float64()
	}
	return half + time.Duration(j*float64(d-half))
}

// breakers holds one circuit breaker per endpoint.
type breakers struct {
	mu        sync.Mutex
	threshold int
	cooldown  time.Duration
	state     map[string]*breaker
}

type breaker struct {
	failures  int
	openedAt  time.Time
	openUntil time.Time
	lastError string
}

// BreakerState is one endpoint's circuit breaker as one worker sees it: a breaker is kept per
// process, so replicas each have their own.
type BreakerState struct {
	// Channel is the endpoint ("email", "webhook:crm").
	Channel string `json:"channel"`
	// Open is true while the endpoint's deliveries wait for the breaker (including the
	// half-open probe).
	Open bool `json:"open"`
	// Failures counts consecutive transient failures; zero when the endpoint is healthy.
	Failures int `json:"failures"`
	// OpenedAt is when the breaker opened, OpenUntil when it lets the next probe through.
	OpenedAt  time.Time `json:"opened_at,omitzero"`
	OpenUntil time.Time `json:"open_until,omitzero"`
	// LastError is the reason of the latest failure, while failures > 0.
	LastError string `json:"last_error,omitempty"`
}

// transition is a change of an endpoint's health worth one log line.
type transition int

const (
	unchanged transition = iota
	failing              // the first transient failure after a success
	opened               // the breaker opened
	recovered            // a success after failures (the breaker, if open, closed)
)

// allow reports whether endpoint may be tried at now; when not, until when it stays open. An
// open breaker whose cooldown ended lets one probe through and stays open for the others until
// the probe's outcome is known.
func (b *breakers) allow(endpoint string, now time.Time) (bool, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state[endpoint]
	if s == nil || s.failures < b.threshold {
		return true, time.Time{}
	}
	if now.Before(s.openUntil) {
		return false, s.openUntil
	}
	s.openUntil = now.Add(b.cooldown) // half-open: this caller is the probe
	return true, time.Time{}
}

// result records the outcome of a send to endpoint and says how the endpoint's health changed.
// Permanent failures say nothing about the endpoint's health (a bad address) and leave the
// breaker alone.
func (b *breakers) result(endpoint string, now time.Time, ok, transient bool, reason string) transition {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state[endpoint]
	if s == nil {
		s = &breaker{}
		b.state[endpoint] = s
	}
	switch {
	case ok:
		was := s.failures
		s.failures, s.openUntil, s.openedAt, s.lastError = 0, time.Time{}, time.Time{}, ""
		if was > 0 {
			return recovered
		}
	case transient:
		s.failures++
		s.lastError = reason
		switch {
		case s.failures == b.threshold:
			s.openUntil, s.openedAt = now.Add(b.cooldown), now
			return opened
		case s.failures > b.threshold:
			s.openUntil = now.Add(b.cooldown) // a failed probe: open again
		case s.failures == 1:
			return failing
		}
	}
	return unchanged
}

// snapshot returns every endpoint's breaker, by endpoint.
func (b *breakers) snapshot() []BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BreakerState, 0, len(b.state))
	for ep, s := range b.state {
		out = append(out, BreakerState{Channel: ep, Open: s.failures >= b.threshold, Failures: s.failures,
			OpenedAt: s.openedAt, OpenUntil: s.openUntil, LastError: s.lastError})
	}
	slices.SortFunc(out, func(a, b BreakerState) int { return strings.Compare(a.Channel, b.Channel) })
	return out
}

// limiter is a token bucket per channel kind, on the wall clock (it paces real sends).
type limiter struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

// wait blocks until a token is available or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := time.Now()
		if l.last.IsZero() {
			l.last, l.tokens = now, 1
		}
		l.tokens = min(max(l.rate, 1), l.tokens+now.Sub(l.last).Seconds()*l.rate)
		l.last = now
		if l.tokens >= 1 {
			l.tokens--
			l.mu.Unlock()
			return nil
		}
		wait := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
