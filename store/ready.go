package store

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	sunset "github.com/sunsetops/sunset"
)

// DefaultProbeInterval is how often, at most, Ready writes its heartbeat, and how long a storage
// failure keeps Ready failing after it was met.
const DefaultProbeInterval = 5 * time.Second

// writeHealth is what Ready knows of the database's writes: the last storage failure any query
// met, and the last heartbeat written. It is safe for concurrent use.
type writeHealth struct {
	mu       sync.Mutex
	failAt   time.Time
	fail     *sunset.UnwritableError
	probedAt time.Time // the last heartbeat that succeeded

	probe sync.Mutex // one heartbeat at a time
}

// failed records a storage failure met at now.
func (h *writeHealth) failed(u *sunset.UnwritableError, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail, h.failAt = u, now
}

// state returns the failure to report at now (one met less than every ago), and whether a
// heartbeat is due (none succeeded in the last every).
func (h *writeHealth) state(now time.Time, every time.Duration) (*sunset.UnwritableError, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail != nil && now.Sub(h.failAt) < every {
		return h.fail, false
	}
	return nil, h.probedAt.IsZero() || now.Sub(h.probedAt) >= every
}

// probed records a heartbeat written at now: the failures met before it are over.
func (h *writeHealth) probed(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.probedAt = now
	if h.fail != nil && !h.failAt.After(now) {
		h.fail = nil
	}
}

// Ready reports whether the database can be written now, for /readyz; it returns nil or a
// *sunset.UnwritableError (or the error of a query that could not run at all, e.g. ctx's).
//
// Ready fails while any query of this store met a storage failure (ClassifyUnwritable) less
// than the probe interval ago (DefaultProbeInterval, WithProbeInterval). Otherwise it writes
// this replica's heartbeat row (table heartbeats, keyed by WithReplica's name), at most once per
// interval, and fails if that write fails. A later heartbeat that succeeds makes it pass again:
// it recovers by itself once the disk has room or the database takes writes again. Replicas
// sharing one PostgreSQL database each write their own row, so their probes never wait for each
// other.
func (db *DB) Ready(ctx context.Context) error {
	if u, due := db.health.state(db.clock(), db.probeEvery); u != nil {
		return u
	} else if !due {
		return nil
	}
	db.health.probe.Lock()
	defer db.health.probe.Unlock()
	// Another caller may have written the heartbeat, or met a failure, while this one waited.
	if u, due := db.health.state(db.clock(), db.probeEvery); u != nil {
		return u
	} else if !due {
		return nil
	}
	now := db.clock()
	if _, err := db.sql.ExecContext(ctx, db.q.heartbeat, db.replica, db.timeArg(normTime(now))); err != nil {
		if u := db.unwritable(err); u != nil {
			return u
		}
		return fmt.Errorf("store: write the heartbeat: %w", err)
	}
	db.health.probed(now)
	return nil
}

// clock returns the store's time.
func (db *DB) clock() time.Time { return db.now() }

// defaultReplica names this process HOSTNAME-PID, as `sunset serve` does by default.
func defaultReplica() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "sunset"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}
