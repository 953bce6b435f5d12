package storetest

// The suite's subtests of values that must come back as they went in: instants, a big plan, Chinese text.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
)

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
