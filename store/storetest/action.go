package storetest

// The suite's subtests of actions: put, replace, list, missing, due.

import (
	"slices"
	"testing"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

func testActions(t *testing.T, st engine.Store) {
	s := create(t, st, newSunset("orders-api-v1"))
	at := t0.Add(24 * time.Hour)
	in := []engine.Action{
		{Key: "notice:shutdown-30d:email", At: at.Add(2 * time.Hour), Kind: "notice", Name: "reminder", Detail: "to active_consumers"},
		{Key: "milestone:shutdown", At: at.Add(2 * time.Hour), Kind: "milestone", Name: "shutdown"},
		{Key: "milestone:announce", At: at, Kind: "milestone", Name: "announce", Detail: "announce"},
	}
	inTx(t, st, func(tx engine.Tx) error {
		for i := range in {
			in[i].SunsetID = s.ID
			in[i].Status = engine.ActionPending
			in[i].Revision = 1
			if err := tx.PutAction(t.Context(), &in[i]); err != nil {
				return err
			}
		}
		return nil
	})
	list, err := st.ListActions(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"orders-api-v1/milestone:announce", "orders-api-v1/milestone:shutdown", "orders-api-v1/notice:shutdown-30d:email"}
	if !slices.Equal(keys(list), want) {
		t.Fatalf("ListActions = %q, want %q (by instant, then key)", keys(list), want)
	}
	sameAction(t, list[0], in[2])

	// Replacing keeps one row per key and writes every field.
	done := in[2]
	done.Status = engine.ActionDone
	done.DoneAt = at.Add(3 * time.Second)
	done.Detail = "sent"
	done.Revision = 2
	moved := in[1]
	moved.At = at.Add(-time.Hour)
	inTx(t, st, func(tx engine.Tx) error {
		if err := tx.PutAction(t.Context(), &done); err != nil {
			return err
		}
		if err := tx.PutAction(t.Context(), &moved); err != nil {
			return err
		}
		got, err := tx.GetAction(t.Context(), s.ID, "milestone:announce")
		if err != nil {
			return err
		}
		sameAction(t, *got, done)
		if got.Sunset != "orders-api-v1" {
			t.Errorf("GetAction Sunset = %q, want the sunset's name", got.Sunset)
		}
		inTx, err := tx.ListActions(t.Context(), s.ID)
		if err != nil {
			return err
		}
		if len(inTx) != 3 {
			t.Errorf("Tx.ListActions returned %d actions, want 3", len(inTx))
		}
		return nil
	})
	list, err = st.ListActions(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"orders-api-v1/milestone:shutdown", "orders-api-v1/milestone:announce", "orders-api-v1/notice:shutdown-30d:email"}
	if !slices.Equal(keys(list), want) {
		t.Fatalf("after replacing, ListActions = %q, want %q", keys(list), want)
	}
	sameAction(t, list[1], done)
	sameAction(t, list[0], moved)

	// Another sunset's actions stay apart.
	other := create(t, st, newSunset("web-legacy"))
	list, err = st.ListActions(t.Context(), other.ID)
	if err != nil || len(list) != 0 {
		t.Errorf("ListActions(other) = %v, %v; want none", keys(list), err)
	}
}

func testMissingAction(t *testing.T, st engine.Store) {
	s := create(t, st, newSunset("orders-api-v1"))
	err := st.InTx(t.Context(), func(tx engine.Tx) error {
		_, err := tx.GetAction(t.Context(), s.ID, "milestone:nope")
		return err
	})
	wantCode(t, err, sunset.ENOTFOUND)
	err = st.InTx(t.Context(), func(tx engine.Tx) error {
		return tx.PutAction(t.Context(), &engine.Action{SunsetID: s.ID + 1000, Key: "k", At: t0, Status: engine.ActionPending})
	})
	wantCode(t, err, sunset.ENOTFOUND)
	err = st.InTx(t.Context(), func(tx engine.Tx) error {
		return tx.PutAction(t.Context(), &engine.Action{SunsetID: s.ID, At: t0})
	})
	wantCode(t, err, sunset.EINVALID)
}

func testDueActions(t *testing.T, st engine.Store) {
	a := create(t, st, newSunset("a-api"))
	b := create(t, st, newSunset("b-api"))
	now := t0.Add(10 * time.Hour).Truncate(time.Microsecond)
	put := []engine.Action{
		{SunsetID: b.ID, Key: "2", At: now.Add(-3 * time.Hour), Status: engine.ActionPending},
		{SunsetID: a.ID, Key: "9", At: now.Add(-3 * time.Hour), Status: engine.ActionPending},
		{SunsetID: a.ID, Key: "1", At: now.Add(-time.Hour), Status: engine.ActionPending},
		{SunsetID: b.ID, Key: "3", At: now, Status: engine.ActionPending}, // due: At == now
		{SunsetID: a.ID, Key: "late", At: now.Add(time.Microsecond), Status: engine.ActionPending},
		{SunsetID: a.ID, Key: "done", At: now.Add(-5 * time.Hour), Status: engine.ActionDone, DoneAt: now},
		{SunsetID: b.ID, Key: "held", At: now.Add(-5 * time.Hour), Status: engine.ActionHeld},
		{SunsetID: b.ID, Key: "queued", At: now.Add(-5 * time.Hour), Status: engine.ActionEnqueued},
	}
	inTx(t, st, func(tx engine.Tx) error {
		for i := range put {
			put[i].Kind, put[i].Name = "milestone", put[i].Key
			if err := tx.PutAction(t.Context(), &put[i]); err != nil {
				return err
			}
		}
		return nil
	})
	due := func(now time.Time, limit int) []string {
		var list []engine.Action
		inTx(t, st, func(tx engine.Tx) (err error) {
			list, err = tx.DueActions(t.Context(), now, limit)
			return err
		})
		return keys(list)
	}
	if got, want := due(now, 10), []string{"b-api/2", "a-api/9", "a-api/1", "b-api/3"}; !slices.Equal(got, want) {
		// Same instant: by key ("2" < "9"), whatever the sunset.
		t.Errorf("DueActions(now, 10) = %q, want %q", got, want)
	}
	if got, want := due(now, 2), []string{"b-api/2", "a-api/9"}; !slices.Equal(got, want) {
		t.Errorf("DueActions(now, 2) = %q, want %q", got, want)
	}
	if got := due(now, 0); len(got) != 4 {
		t.Errorf("DueActions(now, 0) = %q, want all 4 due", got)
	}
	// The nanoseconds of now do not matter: a microsecond later, "late" is due.
	if got := due(now.Add(999*time.Nanosecond), 10); slices.Contains(got, "a-api/late") {
		t.Errorf("DueActions(now+999ns) = %q includes an action a microsecond later", got)
	}
	if got := due(now.Add(time.Microsecond), 10); !slices.Contains(got, "a-api/late") {
		t.Errorf("DueActions(now+1µs) = %q misses an action due then", got)
	}
	if got := due(t0, 10); len(got) != 0 {
		t.Errorf("DueActions(before all) = %q, want none", got)
	}
}

// chain returns n hash-chained events of the sunset, as the engine makes them.
