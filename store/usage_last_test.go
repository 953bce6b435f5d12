package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/usage"
)

// TestUsageKeepsTheLatestRequestOfEachHour: flushes carry the instant of each hour's latest
// request; the store keeps the latest of them, a flush without one (an older gateway) changes
// nothing, and an hour never told has none. On both databases.
func TestUsageKeepsTheLatestRequestOfEachHour(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) engine.Store{"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t).(*store.DB)
			hour := time.Date(2027, 1, 6, 12, 0, 0, 0, time.UTC)
			err := db.InTx(ctx, func(tx engine.Tx) error {
				return tx.CreateSunset(ctx, &engine.Sunset{Name: "orders", State: "scheduled", CreatedAt: hour, UpdatedAt: hour})
			})
			if err != nil {
				t.Fatal(err)
			}
			u := db.Usage()
			flush := func(gw string, seq int64, counts ...usage.Count) {
				t.Helper()
				if _, err := u.RecordUsage(ctx, "orders", usage.Batch{Gateway: gw, Seq: seq, Counts: counts}); err != nil {
					t.Fatal(err)
				}
			}
			later := hour.Add(47*time.Minute + 13*time.Second + 250*time.Millisecond)
			flush("g1", 1, usage.Count{Consumer: "acme", Hour: hour, Count: 2, LastAt: hour.Add(5 * time.Minute)})
			flush("g2", 1, usage.Count{Consumer: "acme", Hour: hour, Count: 1, LastAt: later})
			flush("g1", 2, usage.Count{Consumer: "acme", Hour: hour, Count: 1, LastAt: hour.Add(30 * time.Minute)})
			flush("old", 1, usage.Count{Consumer: "acme", Hour: hour, Count: 4},
				usage.Count{Consumer: "globex", Hour: hour, Count: 1})
			counts, err := u.Counts(ctx, "orders")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]usage.Count{}
			for _, c := range counts {
				got[c.Consumer] = c
			}
			if c := got["acme"]; c.Count != 8 || !c.LastAt.Equal(later.Truncate(time.Microsecond)) {
				t.Errorf("acme: %d requests, last at %s; want 8, %s", c.Count, c.LastAt, later)
			}
			if c := got["globex"]; c.Count != 1 || !c.LastAt.IsZero() {
				t.Errorf("globex: %d requests, last at %s; want 1 and none known", c.Count, c.LastAt)
			}
		})
	}
}
