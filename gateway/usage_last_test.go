package gateway

import (
	"testing"
	"time"
)

// TestUsageKeepsTheLatestRequestOfEachHour: each counter carries the instant of its latest
// request, whichever shard counted it, so that last seen is a request's time, not its hour.
func TestUsageKeepsTheLatestRequestOfEachHour(t *testing.T) {
	u := NewUsage()
	hour := time.Date(2027, 1, 6, 12, 0, 0, 0, time.UTC)
	latest := hour.Add(47*time.Minute + 13*time.Second)
	for _, at := range []time.Duration{5 * time.Minute, 47*time.Minute + 13*time.Second, 30 * time.Minute, time.Second} {
		u.Count("orders", "acme", hour.Add(at))
	}
	u.Count("orders", "acme", hour.Add(time.Hour+time.Minute)) // the next hour
	counts, _ := u.Drain()
	if len(counts) != 2 || counts[0].Count != 4 || !counts[0].LastAt.Equal(latest) ||
		!counts[1].LastAt.Equal(hour.Add(time.Hour+time.Minute)) {
		t.Fatalf("counts %+v, want 4 requests last at %s, then 1 at 13:01", counts, latest)
	}
}
