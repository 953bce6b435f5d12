// Package sunset holds the vocabulary every layer shares: the error codes translated at the
// boundaries, and the clock that time-dependent code is given instead of calling time.Now.
package sunset

import (
	"sync"
	"time"
)

// Clock tells the time. Code that depends on time takes a Clock so that tests and rehearsals
// (--now) can pin or move it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// FixedClock is a clock that stands still until Set or Advance moves it. It is safe for
// concurrent use.
type FixedClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFixedClock returns a clock standing at t.
func NewFixedClock(t time.Time) *FixedClock { return &FixedClock{t: t} }

// Now returns the clock's instant.
func (c *FixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *FixedClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *FixedClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// OffsetClock runs at wall-clock speed from a pinned start: Now is start + time elapsed since the
// clock was made. `sunset serve --now` uses it so a rehearsal can start in the future and still
// see time pass.
type OffsetClock struct {
	offset time.Duration
}

// NewOffsetClock returns a clock that reads start now and advances with the wall clock.
func NewOffsetClock(start time.Time) *OffsetClock {
	return &OffsetClock{offset: time.Until(start)}
}

// Now returns the wall clock shifted by the offset.
func (c *OffsetClock) Now() time.Time { return time.Now().Add(c.offset) }
