package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store"
)

// ReadyBackend is what RunReady needs of a backend.
type ReadyBackend struct {
	// New makes a fresh, empty database and returns a function opening a store on it named
	// replica, on the clock now: the replicas of one deployment. forReadOnly asks for a
	// database that ReadOnly may change as a whole.
	New func(t *testing.T, forReadOnly bool) (open func(t *testing.T, replica string, now func() time.Time) *store.DB)
	// ReadOnly makes the database of the stores opened refuse writes (on) or take them again,
	// as a read-only file or a PostgreSQL server in read-only mode does.
	ReadOnly func(t *testing.T, st *store.DB, on bool)
}

// RunReady checks store.DB.Ready, the write probe behind /readyz, on a backend: the heartbeat is
// written at most once per interval, replicas sharing a database each write their own row, and a
// read-only database makes writes fail with a storage failure and Ready fail until it takes
// writes again, after which Ready recovers by itself and nothing stored before is lost.
func RunReady(t *testing.T, b ReadyBackend) {
	t.Run("writes its heartbeat at most once per interval", func(t *testing.T) {
		t.Parallel()
		clock := sunset.NewFixedClock(t0)
		st := b.New(t, false)(t, "cp-1", clock.Now)
		beats := func() map[string]time.Time { return heartbeats(t, st) }
		if err := st.Ready(t.Context()); err != nil {
			t.Fatal(err)
		}
		first := clock.Now().UTC().Truncate(store.Precision)
		if got := beats(); !got["cp-1"].Equal(first) || len(got) != 1 {
			t.Fatalf("heartbeats %v, want cp-1 at %v", got, first)
		}
		clock.Advance(store.DefaultProbeInterval - time.Second)
		if err := st.Ready(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := beats(); !got["cp-1"].Equal(first) {
			t.Errorf("a heartbeat written again within the interval: %v", got)
		}
		clock.Advance(time.Second)
		if err := st.Ready(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got, want := beats()["cp-1"], clock.Now().UTC().Truncate(store.Precision); !got.Equal(want) {
			t.Errorf("heartbeat after the interval at %v, want %v", got, want)
		}
	})

	t.Run("replicas sharing a database each write their own row", func(t *testing.T) {
		t.Parallel()
		open := b.New(t, false)
		clock := sunset.NewFixedClock(t0)
		replicas := []*store.DB{open(t, "cp-1", clock.Now), open(t, "cp-2", clock.Now), open(t, "cp-3", clock.Now)}
		var wg sync.WaitGroup
		errs := make(chan error, 30)
		for i := range 30 {
			wg.Go(func() { errs <- replicas[i%3].Ready(t.Context()) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("Ready with three replicas probing at once: %v", err)
			}
		}
		got := heartbeats(t, replicas[0])
		names := make([]string, 0, len(got))
		for n := range got {
			names = append(names, n)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"cp-1", "cp-2", "cp-3"}) {
			t.Errorf("heartbeat rows %v, want one per replica", names)
		}
	})

	t.Run("fails while the database is read-only and recovers by itself", func(t *testing.T) {
		t.Parallel()
		clock := sunset.NewFixedClock(t0)
		st := b.New(t, true)(t, "cp-1", clock.Now)
		ctx := t.Context()
		inTx(t, st, func(tx engine.Tx) error { return tx.CreateSunset(ctx, newSunset("kept")) })
		if err := st.Ready(ctx); err != nil {
			t.Fatal(err)
		}

		b.ReadOnly(t, st, true)
		err := st.InTx(ctx, func(tx engine.Tx) error { return tx.CreateSunset(ctx, newSunset("refused")) })
		var u *sunset.UnwritableError
		if !errors.As(err, &u) || u.Reason != sunset.ReasonReadOnly || sunset.ErrorCode(err) != sunset.EUNWRITABLE {
			t.Fatalf("a write to a read-only database: %v (%T), want a read-only storage failure", err, err)
		}
		if err := st.Ready(ctx); !errors.Is(err, store.ErrUnwritable) {
			t.Fatalf("Ready after a refused write: %v", err)
		}
		// Past the interval the heartbeat itself is refused.
		clock.Advance(store.DefaultProbeInterval)
		if err := st.Ready(ctx); !errors.As(err, &u) || u.Reason != sunset.ReasonReadOnly {
			t.Fatalf("Ready while read-only: %v", err)
		}

		b.ReadOnly(t, st, false)
		if err := st.Ready(ctx); !errors.Is(err, store.ErrUnwritable) {
			t.Errorf("Ready within the interval of the last failure: %v, want still failing", err)
		}
		clock.Advance(store.DefaultProbeInterval)
		if err := st.Ready(ctx); err != nil {
			t.Fatalf("Ready once writable again: %v", err)
		}
		if _, err := st.GetSunset(ctx, "kept"); err != nil {
			t.Errorf("the sunset stored before: %v", err)
		}
		if _, err := st.GetSunset(ctx, "refused"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
			t.Errorf("the refused sunset: %v, want not found (nothing half-written)", err)
		}
		inTx(t, st, func(tx engine.Tx) error { return tx.CreateSunset(ctx, newSunset("refused")) })
	})
}

// heartbeats reads the heartbeat rows: replica → instant.
func heartbeats(t *testing.T, st *store.DB) map[string]time.Time {
	t.Helper()
	rows, err := st.DB().QueryContext(t.Context(), "SELECT replica, beat_at FROM heartbeats")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var name string
		var at any
		if err := rows.Scan(&name, &at); err != nil {
			t.Fatal(err)
		}
		switch v := at.(type) {
		case int64:
			out[name] = time.Unix(0, v).UTC()
		case time.Time:
			out[name] = v.UTC()
		default:
			t.Fatalf("beat_at is a %T", at)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
