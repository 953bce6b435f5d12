package runbook

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
)

// DefaultRateWindow is how far apart CounterRate's two readings are by default: twice the
// gateways' default usage flush interval (1m), so that a window holds at least one flush of
// every gateway.
const DefaultRateWindow = 2 * time.Minute

// CounterRate is a TrafficMeter over a counter that only grows: the requests the gateways counted
// for a sunset (store.Usage.Total). Each call answers the counter's growth since the reading
// before, divided by the time in between, waiting first until that reading is at least Window
// old; so the drain step measures one window after the other. It is safe for concurrent use.
type CounterRate struct {
	// Count reads the counter of a sunset.
	Count func(ctx context.Context, sunset string) (uint64, error)
	// Window is the least time between two readings (default DefaultRateWindow). Make it at
	// least twice the gateways' flush interval: counts arrive a flush at a time.
	Window time.Duration
	// Runtime tells the time between readings; After waits (default time.After). Both are
	// the wall clock's by default, as the gateways count real requests in real time.
	Runtime sunset.Runtime
	After   func(time.Duration) <-chan time.Time

	mu   sync.Mutex
	last map[string]reading
}

// reading is one value of the counter.
type reading struct {
	at    time.Time
	count uint64
}

// Interface guard.
var _ TrafficMeter = (*CounterRate)(nil)

func (c *CounterRate) window() time.Duration {
	if c.Window > 0 {
		return c.Window
	}
	return DefaultRateWindow
}

func (c *CounterRate) wait(ctx context.Context, d time.Duration) error {
	after := c.After
	if after == nil {
		after = time.After
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-after(d):
		return nil
	}
}

// read reads the counter of sunset.
func (c *CounterRate) read(ctx context.Context, sunset string) (reading, error) {
	n, err := c.Count(ctx, sunset)
	if err != nil {
		return reading{}, fmt.Errorf("read the gateways' counters: %w", err)
	}
	return reading{at: c.Runtime.Now(), count: n}, nil
}

// swap keeps r as sunset's last reading and returns the one before.
func (c *CounterRate) swap(sunset string, r reading) (prev reading, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = map[string]reading{}
	}
	prev, ok = c.last[sunset]
	c.last[sunset] = r
	return prev, ok
}

// RPS returns the requests per second the gateways counted for sunset since the last call (or,
// on the first call, over the next window).
func (c *CounterRate) RPS(ctx context.Context, sunset string) (float64, error) {
	c.mu.Lock()
	prev, ok := c.last[sunset]
	c.mu.Unlock()
	if !ok {
		first, err := c.read(ctx, sunset)
		if err != nil {
			return 0, err
		}
		c.swap(sunset, first)
		prev = first
	}
	if wait := c.window() - c.Runtime.Now().Sub(prev.at); wait > 0 {
		if err := c.wait(ctx, wait); err != nil {
			return 0, err
		}
	}
	cur, err := c.read(ctx, sunset)
	if err != nil {
		return 0, err
	}
	prev, _ = c.swap(sunset, cur)
	secs := cur.at.Sub(prev.at).Seconds()
	if cur.count < prev.count || secs <= 0 {
		// The counter went back (the sunset was applied afresh): no traffic is known.
		return 0, nil
	}
	return float64(cur.count-prev.count) / secs, nil
}
