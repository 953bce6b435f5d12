package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

// Run checks that the stores open returns behave as engine.Store promises. open is called once
// per subtest and must return a fresh, empty, migrated store that the test owns (OpenSQLite,
// OpenPostgres); subtests run in parallel.
//
// Instants are checked at the precision both backends keep: UTC, microseconds.
func Run(t *testing.T, open func(t *testing.T) engine.Store) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, st engine.Store)
	}{
		{"creates a sunset and reads it back", testCreateGet},
		{"lists sunsets by name", testList},
		{"updates every field but id, name and creation time", testUpdate},
		{"refuses a duplicate name with ECONFLICT", testDuplicateName},
		{"reports a missing sunset with ENOTFOUND", testMissingSunset},
		{"puts, replaces and lists actions by instant then key", testActions},
		{"reports a missing action or a missing sunset", testMissingAction},
		{"selects due pending actions across sunsets", testDueActions},
		{"appends events and lists them by sequence", testEvents},
		{"refuses a second event with the same sequence", testDuplicateSeq},
		{"keeps event data byte for byte", testEventData},
		{"refuses an event instant finer than it keeps", testEventPrecision},
		{"rolls back a transaction that fails", testRollback},
		{"rolls back a transaction that panics", testRollbackPanic},
		{"locks a sunset for read-modify-write", testLockSunset},
		{"keeps instants exactly at microsecond precision in UTC", testTimes},
		{"keeps a big plan byte for byte", testBigPlan},
		{"keeps Chinese text", testUnicode},
		{"answers Ping", testPing},
		{"shares its transactions with River", testRiver},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
	for _, tc := range contactCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

// t0 is a quiet night in Shanghai, with nanoseconds the store does not keep.
var t0 = time.Date(2027, 3, 15, 2, 0, 0, 123456789, time.FixedZone("CST", 8*3600))

func inTx(t *testing.T, st engine.Store, fn func(tx engine.Tx) error) {
	t.Helper()
	if err := st.InTx(t.Context(), fn); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

func newSunset(name string) *engine.Sunset {
	plan := []byte("service:\n  name: " + name + "\n")
	return &engine.Sunset{
		Name:      name,
		State:     engine.StateDraft,
		Revision:  1,
		Plan:      plan,
		PlanHash:  fmt.Sprintf("%x", len(plan)),
		Signoffs:  []string{"support", "legal"},
		CreatedAt: t0,
		UpdatedAt: t0.Add(time.Second),
	}
}

func create(t *testing.T, st engine.Store, s *engine.Sunset) *engine.Sunset {
	t.Helper()
	inTx(t, st, func(tx engine.Tx) error { return tx.CreateSunset(t.Context(), s) })
	if s.ID == 0 {
		t.Fatalf("CreateSunset(%q) left ID zero", s.Name)
	}
	return s
}

func get(t *testing.T, st engine.Store, name string) *engine.Sunset {
	t.Helper()
	s, err := st.GetSunset(t.Context(), name)
	if err != nil {
		t.Fatalf("GetSunset(%q): %v", name, err)
	}
	return s
}

// wantCode fails unless err carries the sunset error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := sunset.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// sameInstant fails unless got is want, in UTC, to the microsecond.
func sameInstant(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	want = want.Truncate(time.Microsecond)
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want.UTC())
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, got.Location())
	}
}

func sameSunset(t *testing.T, got, want *engine.Sunset) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.State != want.State ||
		got.PausedFrom != want.PausedFrom || got.Revision != want.Revision ||
		got.PlanHash != want.PlanHash || got.HeadSeq != want.HeadSeq || got.HeadHash != want.HeadHash {
		t.Errorf("sunset =\n %+v\nwant\n %+v", *got, *want)
	}
	if !bytes.Equal(got.Plan, want.Plan) {
		t.Errorf("sunset %q: plan of %d bytes differs from the %d bytes written", want.Name, len(got.Plan), len(want.Plan))
	}
	if !slices.Equal(got.Signoffs, want.Signoffs) {
		t.Errorf("sunset %q: signoffs = %q, want %q", want.Name, got.Signoffs, want.Signoffs)
	}
	sameInstant(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	sameInstant(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func sameAction(t *testing.T, got, want engine.Action) {
	t.Helper()
	if got.SunsetID != want.SunsetID || got.Key != want.Key || got.Kind != want.Kind ||
		got.Name != want.Name || got.Detail != want.Detail || got.Status != want.Status ||
		got.Revision != want.Revision {
		t.Errorf("action =\n %+v\nwant\n %+v", got, want)
	}
	sameInstant(t, "action "+want.Key+" At", got.At, want.At)
	sameInstant(t, "action "+want.Key+" DoneAt", got.DoneAt, want.DoneAt)
}

func keys(list []engine.Action) []string {
	var k []string
	for _, a := range list {
		k = append(k, a.Sunset+"/"+a.Key)
	}
	return k
}

func testCreateGet(t *testing.T, st engine.Store) {
	want := create(t, st, newSunset("orders-api-v1"))
	got := get(t, st, "orders-api-v1")
	sameSunset(t, got, want)
	// CreateSunset normalised the caller's struct to what it stored.
	if !want.CreatedAt.Equal(t0.Truncate(time.Microsecond)) || want.CreatedAt.Location() != time.UTC {
		t.Errorf("CreateSunset left CreatedAt = %v, want %v in UTC", want.CreatedAt, t0.Truncate(time.Microsecond))
	}

	// Zero timestamps are filled by the store, and empty plan and signoffs come back empty.
	bare := create(t, st, &engine.Sunset{Name: "bare", State: engine.StateDraft})
	if bare.CreatedAt.IsZero() || !bare.UpdatedAt.Equal(bare.CreatedAt) {
		t.Errorf("CreatedAt, UpdatedAt = %v, %v; want both set to the same instant", bare.CreatedAt, bare.UpdatedAt)
	}
	got = get(t, st, "bare")
	sameSunset(t, got, bare)
	if got.Plan != nil || got.Signoffs != nil {
		t.Errorf("bare sunset: Plan = %q, Signoffs = %q; want nil, nil", got.Plan, got.Signoffs)
	}

	err := st.InTx(t.Context(), func(tx engine.Tx) error {
		return tx.CreateSunset(t.Context(), &engine.Sunset{State: engine.StateDraft})
	})
	wantCode(t, err, sunset.EINVALID)
}

func testList(t *testing.T, st engine.Store) {
	list, err := st.ListSunsets(t.Context())
	if err != nil || len(list) != 0 {
		t.Fatalf("ListSunsets on an empty store = %v, %v; want none", list, err)
	}
	for _, name := range []string{"web-legacy", "orders-api-v1", "reports"} {
		create(t, st, newSunset(name))
	}
	list, err = st.ListSunsets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
	}
	if want := []string{"orders-api-v1", "reports", "web-legacy"}; !slices.Equal(names, want) {
		t.Errorf("ListSunsets names = %q, want %q", names, want)
	}
	sameSunset(t, list[0], get(t, st, "orders-api-v1"))
}

func testUpdate(t *testing.T, st engine.Store) {
	s := create(t, st, newSunset("orders-api-v1"))
	created := s.CreatedAt
	id := s.ID
	s.State = engine.StatePaused
	s.PausedFrom = engine.StateAnnounced
	s.Revision = 2
	s.Plan = []byte("service: {name: orders-api-v1}\n")
	s.PlanHash = "abc123"
	s.Signoffs = []string{"support", "legal", "sales"}
	s.HeadSeq = 7
	s.HeadHash = "deadbeef"
	s.UpdatedAt = t0.Add(48 * time.Hour)
	// Fields UpdateSunset must not write.
	s.CreatedAt = t0.Add(-time.Hour)
	inTx(t, st, func(tx engine.Tx) error { return tx.UpdateSunset(t.Context(), s) })

	got := get(t, st, "orders-api-v1")
	s.CreatedAt = created
	sameSunset(t, got, s)
	if got.ID != id {
		t.Errorf("ID changed from %d to %d", id, got.ID)
	}

	// Clearing signoffs and plan is an update too.
	s.Signoffs = nil
	s.Plan = nil
	inTx(t, st, func(tx engine.Tx) error { return tx.UpdateSunset(t.Context(), s) })
	sameSunset(t, get(t, st, "orders-api-v1"), s)
}

func testDuplicateName(t *testing.T, st engine.Store) {
	create(t, st, newSunset("orders-api-v1"))
	err := st.InTx(t.Context(), func(tx engine.Tx) error {
		return tx.CreateSunset(t.Context(), newSunset("orders-api-v1"))
	})
	wantCode(t, err, sunset.ECONFLICT)
	if !strings.Contains(sunset.ErrorMessage(err), "orders-api-v1") {
		t.Errorf("message %q does not name the sunset", sunset.ErrorMessage(err))
	}
	list, _ := st.ListSunsets(t.Context())
	if len(list) != 1 {
		t.Errorf("%d sunsets stored, want 1", len(list))
	}
}

func testMissingSunset(t *testing.T, st engine.Store) {
	_, err := st.GetSunset(t.Context(), "nope")
	wantCode(t, err, sunset.ENOTFOUND)
	if !strings.Contains(sunset.ErrorMessage(err), `"nope"`) {
		t.Errorf("message %q does not name the sunset", sunset.ErrorMessage(err))
	}
	err = st.InTx(t.Context(), func(tx engine.Tx) error {
		_, err := tx.LockSunset(t.Context(), "nope")
		return err
	})
	wantCode(t, err, sunset.ENOTFOUND)
	err = st.InTx(t.Context(), func(tx engine.Tx) error {
		s := newSunset("nope")
		s.ID = 4242
		return tx.UpdateSunset(t.Context(), s)
	})
	wantCode(t, err, sunset.ENOTFOUND)
}

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
func chain(sunsetID int64, n int) []engine.Event {
	var list []engine.Event
	prev := ""
	for i := 1; i <= n; i++ {
		e := engine.Event{
			SunsetID: sunsetID,
			Seq:      int64(i),
			At:       t0.Add(time.Duration(i) * time.Minute).Truncate(time.Microsecond),
			Type:     "state_changed",
			Actor:    "engine",
			Data:     json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
			PrevHash: prev,
		}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		list = append(list, e)
	}
	return list
}

func appendAll(t *testing.T, st engine.Store, events []engine.Event) {
	t.Helper()
	inTx(t, st, func(tx engine.Tx) error {
		for i := range events {
			if err := tx.AppendEvent(t.Context(), &events[i]); err != nil {
				return err
			}
			if events[i].ID == 0 {
				t.Errorf("AppendEvent left ID zero")
			}
		}
		return nil
	})
}

func testEvents(t *testing.T, st engine.Store) {
	a := create(t, st, newSunset("a-api"))
	b := create(t, st, newSunset("b-api"))
	ea, eb := chain(a.ID, 5), chain(b.ID, 2)
	// Written out of order, and interleaved with another sunset's.
	appendAll(t, st, []engine.Event{ea[0], eb[0], ea[2], ea[1], eb[1], ea[4], ea[3]})

	got, err := st.ListEvents(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ea) {
		t.Fatalf("ListEvents returned %d events, want %d", len(got), len(ea))
	}
	for i, e := range got {
		want := ea[i]
		if e.Seq != want.Seq || e.SunsetID != want.SunsetID || e.Type != want.Type || e.Actor != want.Actor ||
			string(e.Data) != string(want.Data) || e.PrevHash != want.PrevHash || e.Hash != want.Hash || e.ID == 0 {
			t.Errorf("event %d =\n %+v\nwant\n %+v", i, e, want)
		}
		sameInstant(t, fmt.Sprintf("event %d At", e.Seq), e.At, want.At)
		if e.ComputeHash() != e.Hash {
			t.Errorf("event %d read back no longer matches its hash", e.Seq)
		}
	}
	if got, _ := st.ListEvents(t.Context(), b.ID); len(got) != 2 {
		t.Errorf("ListEvents(b) returned %d events, want 2", len(got))
	}
}

func testDuplicateSeq(t *testing.T, st engine.Store) {
	s := create(t, st, newSunset("orders-api-v1"))
	events := chain(s.ID, 2)
	appendAll(t, st, events)
	again := chain(s.ID, 2)[1]
	again.Type = "forged"
	again.Hash = again.ComputeHash()
	err := st.InTx(t.Context(), func(tx engine.Tx) error { return tx.AppendEvent(t.Context(), &again) })
	wantCode(t, err, sunset.ECONFLICT)
	got, _ := st.ListEvents(t.Context(), s.ID)
	if len(got) != 2 || got[1].Type != "state_changed" {
		t.Errorf("after a refused duplicate, events = %+v", got)
	}
	// An event for a sunset that does not exist is refused too.
	orphan := chain(s.ID+1000, 1)[0]
	err = st.InTx(t.Context(), func(tx engine.Tx) error { return tx.AppendEvent(t.Context(), &orphan) })
	wantCode(t, err, sunset.ENOTFOUND)
}

func testEventData(t *testing.T, st engine.Store) {
	s := create(t, st, newSunset("orders-api-v1"))
	datas := []string{
		`{"b": 1,   "a": [2, 3.50],
		 "c": {"z": null, "y": "\u00e9"}}`,
		`{"说明":"计划已变更","x":"\u0000"}`,
		`[]`,
		`"text"`,
		``, // no data
	}
	var events []engine.Event
	prev := ""
	for i, d := range datas {
		e := engine.Event{SunsetID: s.ID, Seq: int64(i + 1), At: t0.Truncate(time.Microsecond), Type: "t", PrevHash: prev}
		if d != "" {
			e.Data = json.RawMessage(d)
		}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		events = append(events, e)
	}
	appendAll(t, st, events)
	got, err := st.ListEvents(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range got {
		if string(e.Data) != datas[i] {
			t.Errorf("event %d data = %q, want %q byte for byte", e.Seq, e.Data, datas[i])
		}
		if e.ComputeHash() != e.Hash {
			t.Errorf("event %d no longer matches its hash", e.Seq)
		}
	}
	bad := engine.Event{SunsetID: s.ID, Seq: 99, At: t0.Truncate(time.Microsecond), Data: json.RawMessage(`{nope`)}
	err = st.InTx(t.Context(), func(tx engine.Tx) error { return tx.AppendEvent(t.Context(), &bad) })
	wantCode(t, err, sunset.EINVALID)
}

func testEventPrecision(t *testing.T, st engine.Store) {
	s := create(t, st, newSunset("orders-api-v1"))
	e := engine.Event{SunsetID: s.ID, Seq: 1, At: t0, Type: "created"} // t0 has nanoseconds
	e.Hash = e.ComputeHash()
	err := st.InTx(t.Context(), func(tx engine.Tx) error { return tx.AppendEvent(t.Context(), &e) })
	wantCode(t, err, sunset.EINVALID)
	if got, _ := st.ListEvents(t.Context(), s.ID); len(got) != 0 {
		t.Errorf("a refused event was stored: %+v", got)
	}
}

var errRollback = errors.New("storetest: roll back")

func testRollback(t *testing.T, st engine.Store) {
	kept := create(t, st, newSunset("kept"))
	err := st.InTx(t.Context(), func(tx engine.Tx) error {
		s := newSunset("rolled-back")
		if err := tx.CreateSunset(t.Context(), s); err != nil {
			return err
		}
		if err := tx.PutAction(t.Context(), &engine.Action{SunsetID: kept.ID, Key: "k", At: t0, Status: engine.ActionPending}); err != nil {
			return err
		}
		events := chain(kept.ID, 1)
		if err := tx.AppendEvent(t.Context(), &events[0]); err != nil {
			return err
		}
		changed := *kept
		changed.State = engine.StateCancelled
		if err := tx.UpdateSunset(t.Context(), &changed); err != nil {
			return err
		}
		return fmt.Errorf("engine refused: %w", errRollback)
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	assertOnlyKept(t, st, kept)

	// A failure inside the transaction (a duplicate) rolls back what came before it too.
	err = st.InTx(t.Context(), func(tx engine.Tx) error {
		if err := tx.PutAction(t.Context(), &engine.Action{SunsetID: kept.ID, Key: "k", At: t0, Status: engine.ActionPending}); err != nil {
			return err
		}
		return tx.CreateSunset(t.Context(), newSunset("kept"))
	})
	wantCode(t, err, sunset.ECONFLICT)
	assertOnlyKept(t, st, kept)
}

func assertOnlyKept(t *testing.T, st engine.Store, kept *engine.Sunset) {
	t.Helper()
	list, err := st.ListSunsets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "kept" || list[0].State != kept.State {
		t.Errorf("after rollback, sunsets = %+v; want only %q unchanged", list, kept.Name)
	}
	if actions, _ := st.ListActions(t.Context(), kept.ID); len(actions) != 0 {
		t.Errorf("after rollback, actions = %q", keys(actions))
	}
	if events, _ := st.ListEvents(t.Context(), kept.ID); len(events) != 0 {
		t.Errorf("after rollback, %d events stored", len(events))
	}
}

func testRollbackPanic(t *testing.T, st engine.Store) {
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the panic to go on", p)
			}
		}()
		_ = st.InTx(t.Context(), func(tx engine.Tx) error {
			if err := tx.CreateSunset(t.Context(), newSunset("doomed")); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if _, err := st.GetSunset(t.Context(), "doomed"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
		t.Errorf("after a panic, GetSunset = %v; want ENOTFOUND", err)
	}
	// The store is still usable: the connection went back to the pool.
	create(t, st, newSunset("after"))
}

func testLockSunset(t *testing.T, st engine.Store) {
	create(t, st, newSunset("orders-api-v1"))
	const workers, rounds = 4, 10
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range rounds {
				err := st.InTx(ctx, func(tx engine.Tx) error {
					s, err := tx.LockSunset(ctx, "orders-api-v1")
					if err != nil {
						return err
					}
					s.Revision++
					s.HeadSeq += 2
					return tx.UpdateSunset(ctx, s)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("read-modify-write under LockSunset: %v", err)
	}
	s := get(t, st, "orders-api-v1")
	if want := 1 + workers*rounds; s.Revision != want || s.HeadSeq != int64(2*workers*rounds) {
		t.Errorf("after %d locked increments, revision = %d, head seq = %d; want %d, %d (lost updates)",
			workers*rounds, s.Revision, s.HeadSeq, want, 2*workers*rounds)
	}
}

func testTimes(t *testing.T, st engine.Store) {
	instants := []time.Time{
		t0,
		time.Date(1969, 7, 20, 20, 17, 40, 999_999_999, time.UTC), // before the epoch
		time.Date(2199, 12, 31, 23, 59, 59, 999_999_000, time.FixedZone("", -9*3600)),
		time.Date(2027, 1, 5, 10, 0, 0, 1000, time.UTC), // one microsecond
		time.Date(2027, 1, 5, 10, 0, 0, 999, time.UTC),  // less than one
	}
	s := newSunset("times")
	s.CreatedAt, s.UpdatedAt = instants[1], instants[2]
	create(t, st, s)
	got := get(t, st, "times")
	sameInstant(t, "CreatedAt", got.CreatedAt, instants[1])
	sameInstant(t, "UpdatedAt", got.UpdatedAt, instants[2])

	inTx(t, st, func(tx engine.Tx) error {
		for i, at := range instants {
			a := engine.Action{SunsetID: got.ID, Key: fmt.Sprint(i), At: at, Status: engine.ActionDone, DoneAt: at.Add(time.Nanosecond)}
			if err := tx.PutAction(t.Context(), &a); err != nil {
				return err
			}
			if !a.At.Equal(at.Truncate(time.Microsecond)) || a.At.Location() != time.UTC {
				t.Errorf("PutAction left At = %v, want it normalised to %v UTC", a.At, at.Truncate(time.Microsecond))
			}
		}
		return nil
	})
	list, err := st.ListActions(t.Context(), got.ID)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]engine.Action{}
	for _, a := range list {
		byKey[a.Key] = a
	}
	for i, at := range instants {
		a := byKey[fmt.Sprint(i)]
		sameInstant(t, fmt.Sprintf("action %d At", i), a.At, at)
		sameInstant(t, fmt.Sprintf("action %d DoneAt", i), a.DoneAt, at.Add(time.Nanosecond))
	}
	// A pending action has no DoneAt: zero in, zero out.
	inTx(t, st, func(tx engine.Tx) error {
		return tx.PutAction(t.Context(), &engine.Action{SunsetID: got.ID, Key: "pending", At: t0, Status: engine.ActionPending})
	})
	inTx(t, st, func(tx engine.Tx) error {
		a, err := tx.GetAction(t.Context(), got.ID, "pending")
		if err == nil && !a.DoneAt.IsZero() {
			t.Errorf("DoneAt of a pending action = %v, want zero", a.DoneAt)
		}
		return err
	})
}

func testBigPlan(t *testing.T, st engine.Store) {
	plan := make([]byte, 8<<20)
	r := rand.NewChaCha8([32]byte{1})
	_, _ = r.Read(plan) // random bytes: NULs, invalid UTF-8, everything
	s := newSunset("big")
	s.Plan = plan
	create(t, st, s)
	got := get(t, st, "big")
	if !bytes.Equal(got.Plan, plan) {
		t.Fatalf("8 MiB plan read back as %d bytes, not identical", len(got.Plan))
	}
}

func testUnicode(t *testing.T, st engine.Store) {
	s := newSunset("订单服务-旧版")
	s.Plan = []byte("service:\n  title: {en: Orders, zh: 订单 API v1}\n")
	s.Signoffs = []string{"法务部", "客服 support", "销售😀"}
	create(t, st, s)
	got := get(t, st, "订单服务-旧版")
	sameSunset(t, got, s)

	a := engine.Action{SunsetID: s.ID, Key: "通知:关闭-30天", At: t0, Kind: "notice", Name: "提醒", Detail: "发送给活跃用户：请迁移到 v2", Status: engine.ActionPending}
	e := engine.Event{SunsetID: s.ID, Seq: 1, At: t0.Truncate(time.Microsecond), Type: "签核", Actor: "李伟", Data: json.RawMessage(`{"备注":"同意"}`)}
	e.Hash = e.ComputeHash()
	inTx(t, st, func(tx engine.Tx) error {
		if err := tx.PutAction(t.Context(), &a); err != nil {
			return err
		}
		return tx.AppendEvent(t.Context(), &e)
	})
	actions, err := st.ListActions(t.Context(), s.ID)
	if err != nil || len(actions) != 1 {
		t.Fatalf("ListActions = %v, %v", actions, err)
	}
	sameAction(t, actions[0], a)
	if actions[0].Sunset != "订单服务-旧版" {
		t.Errorf("Action.Sunset = %q", actions[0].Sunset)
	}
	events, err := st.ListEvents(t.Context(), s.ID)
	if err != nil || len(events) != 1 {
		t.Fatalf("ListEvents = %v, %v", events, err)
	}
	if ev := events[0]; ev.Type != e.Type || ev.Actor != e.Actor || string(ev.Data) != string(e.Data) || ev.ComputeHash() != e.Hash {
		t.Errorf("event = %+v, want %+v", ev, e)
	}
}

func testPing(t *testing.T, st engine.Store) {
	p, ok := st.(interface{ Ping(context.Context) error })
	if !ok {
		t.Fatalf("%T has no Ping(ctx) error for /readyz", st)
	}
	if err := p.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
