package storetest

// The suite's subtests of the event log: appended in sequence, kept byte for byte, at the precision kept.

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

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
