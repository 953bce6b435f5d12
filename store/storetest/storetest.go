package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
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

func testPing(t *testing.T, st engine.Store) {
	p, ok := st.(interface{ Ping(context.Context) error })
	if !ok {
		t.Fatalf("%T has no Ping(ctx) error for /readyz", st)
	}
	if err := p.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
