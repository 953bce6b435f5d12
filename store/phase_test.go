package store_test

import (
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/policy"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/usage"
)

// bothStores runs fn on a fresh SQLite store and, when SUNSET_TEST_POSTGRES_URL is set, on a
// fresh PostgreSQL one.
func bothStores(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.OpenSQLite(t).(*store.DB)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.OpenPostgres(t).(*store.DB)) })
}

func TestPhaseOverrideKeepsTheLatestSwitch(t *testing.T) {
	t.Parallel()
	bothStores(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		o, err := db.PhaseOverride(ctx, "orders")
		if err != nil || o.Phase != policy.Active || !o.At.IsZero() {
			t.Fatalf("no switch yet: %+v, %v; want active", o, err)
		}
		at := time.Date(2027, 3, 1, 2, 0, 0, 123, time.UTC)
		for _, phase := range []string{"read_only", "gone"} {
			if err := db.SetPhaseOverride(ctx, store.PhaseOverride{Sunset: "orders", Phase: phase, Actor: "runbook", Reason: "test", At: at}); err != nil {
				t.Fatal(err)
			}
			at = at.Add(time.Hour)
		}
		got, err := db.GetPhaseOverride(ctx, "orders")
		if err != nil || got.Phase != "gone" || got.Actor != "runbook" || !got.At.Equal(at.Add(-time.Hour)) {
			t.Errorf("stored %+v, %v; want the later switch to gone", got, err)
		}
		if o, err := db.PhaseOverride(ctx, "orders"); err != nil || o.Phase != policy.Gone {
			t.Errorf("as a policy override: %+v, %v", o, err)
		}
		if err := db.SetPhaseOverride(ctx, store.PhaseOverride{Sunset: "orders", Phase: "closed", At: at}); err == nil {
			t.Error("an unknown phase was stored")
		}
	})
}

func TestUsageTotalCountsEveryRequest(t *testing.T) {
	t.Parallel()
	bothStores(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		now := time.Date(2027, 1, 6, 12, 0, 0, 0, time.UTC)
		err := db.InTx(ctx, func(tx engine.Tx) error {
			return tx.CreateSunset(ctx, &engine.Sunset{Name: "orders", State: "scheduled", CreatedAt: now, UpdatedAt: now})
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := db.Usage().Total(ctx, "orders"); err != nil || n != 0 {
			t.Fatalf("total before any flush = %d, %v", n, err)
		}
		b := usage.Batch{Gateway: "g1", Seq: 1, Counts: []usage.Count{
			{Feature: "a", Consumer: "c", Hour: now, Count: 3}, {Feature: "b", Consumer: "d", Hour: now.Add(time.Hour), Count: 4}}}
		if _, err := db.Usage().RecordUsage(ctx, "orders", b); err != nil {
			t.Fatal(err)
		}
		if n, err := db.Usage().Total(ctx, "orders"); err != nil || n != 7 {
			t.Errorf("total = %d, %v; want 7", n, err)
		}
	})
}
