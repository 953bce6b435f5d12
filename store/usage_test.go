package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store/sqlite"
	"github.com/sunsetops/sunset/usage"
)

func TestRecordUsageAppliesEachFlushOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2027, 1, 6, 12, 0, 0, 0, time.UTC)
	err = db.InTx(ctx, func(tx engine.Tx) error {
		return tx.CreateSunset(ctx, &engine.Sunset{Name: "orders", State: "scheduled", CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	u := db.Usage()
	b := usage.Batch{Gateway: "g1", Seq: 1,
		Counts: []usage.Count{{Feature: "reports", Consumer: "c", Hour: now, Count: 3}},
		Aware:  []usage.Awareness{{Consumer: "c", FirstSeen: now.Add(time.Minute)}}}
	for i, want := range []bool{true, false} {
		applied, err := u.RecordUsage(ctx, "orders", b)
		if err != nil || applied != want {
			t.Fatalf("flush %d: applied %v, %v; want %v", i, applied, err, want)
		}
	}
	b.Seq, b.Aware = 2, []usage.Awareness{{Consumer: "c", FirstSeen: now}}
	if _, err := u.RecordUsage(ctx, "orders", b); err != nil {
		t.Fatal(err)
	}
	counts, err := u.Counts(ctx, "orders")
	if err != nil || len(counts) != 1 || counts[0].Count != 6 || !counts[0].Hour.Equal(now) {
		t.Errorf("counts %+v %v", counts, err)
	}
	aware, err := u.Awareness(ctx, "orders")
	if err != nil || len(aware) != 1 || !aware[0].FirstSeen.Equal(now) {
		t.Errorf("awareness %+v %v: the earliest first warning must win", aware, err)
	}
	if _, err := u.RecordUsage(ctx, "nope", b); err == nil {
		t.Error("an unknown sunset was accepted")
	}
}

func TestLaggardsAreConsumersToldAndStillCalling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2027, 2, 10, 12, 30, 0, 0, time.UTC)
	err = db.InTx(ctx, func(tx engine.Tx) error {
		return tx.CreateSunset(ctx, &engine.Sunset{Name: "orders", State: "scheduled", CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	told := now.Add(-48*time.Hour + 10*time.Minute) // 2027-02-08T12:40
	hour := func(d time.Duration) time.Time { return now.Truncate(time.Hour).Add(d) }
	b := usage.Batch{Gateway: "g1", Seq: 1,
		Counts: []usage.Count{
			{Feature: "orders", Consumer: "laggard", Hour: hour(-2 * time.Hour), Count: 5},
			{Feature: "orders", Consumer: "moved", Hour: told.Truncate(time.Hour), Count: 9},        // only the hour it was told
			{Feature: "orders", Consumer: "long-gone", Hour: hour(-10 * 24 * time.Hour), Count: 3},  // after being told, but out of the window
			{Feature: "orders", Consumer: "never-told", Hour: hour(-time.Hour), Count: 7},           // calling, but never warned
			{Feature: "orders", Consumer: usage.OtherConsumer, Hour: hour(-time.Hour), Count: 1000}, // the overflow bucket is nobody
		},
		Aware: []usage.Awareness{
			{Consumer: "laggard", FirstSeen: told},
			{Consumer: "moved", FirstSeen: told},
			{Consumer: "long-gone", FirstSeen: now.Add(-20 * 24 * time.Hour)},
			{Consumer: usage.OtherConsumer, FirstSeen: told},
		}}
	if _, err := db.Usage().RecordUsage(ctx, "orders", b); err != nil {
		t.Fatal(err)
	}
	got, err := db.Usage().Laggards(ctx, "orders", now)
	if err != nil || len(got) != 1 || got[0] != "laggard" {
		t.Errorf("laggards %q, %v; want [laggard]", got, err)
	}
	if got, err := db.Usage().Laggards(ctx, "nope", now); err != nil || len(got) != 0 {
		t.Errorf("an unknown sunset has laggards %q, %v", got, err)
	}
}
