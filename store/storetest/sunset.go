package storetest

// The suite's subtests of sunsets: create, read, list, update, names that conflict or are missing.

import (
	"slices"
	"strings"
	"testing"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

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
