package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store/postgres"
	"github.com/sunsetops/sunset/store/sqlite"
	"github.com/sunsetops/sunset/store/storetest"
)

// testPlan is small on purpose: four milestones and two notices, a month apart.
const testPlan = `
service:
  name: billing-v1
  timezone: Europe/Berlin
milestones:
  announce: 2027-01-04T10:00
  deprecate: announce+1d
  read_only: 2027-02-15T10:00
  shutdown: 2027-03-01T10:00
notices:
  - {at: announce, to: all, channels: [email], template: announce}
  - {at: shutdown-7d, to: active_consumers, channels: [email], template: final_reminder}
channels:
  email: {smtp: "127.0.0.1:2525", from: noreply@example.com}
`

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// stores runs fn once per backend: SQLite always, PostgreSQL when SUNSET_TEST_POSTGRES_URL is set.
func stores(t *testing.T, fn func(t *testing.T, open func(t testing.TB) engine.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.OpenSQLite) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.OpenPostgres) })
}

type bundle struct {
	store engine.Store
	clock *sunset.FixedClock
	eng   *engine.Engine
}

func setup(t *testing.T, st engine.Store) *bundle {
	t.Helper()
	clock := sunset.NewFixedClock(t0)
	eng := newEngine(t, st, clock)
	return &bundle{store: st, clock: clock, eng: eng}
}

func newEngine(t *testing.T, st engine.Store, clock sunset.Clock) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	return eng
}

func apply(t *testing.T, eng *engine.Engine, src string) *engine.ApplyResult {
	t.Helper()
	res, err := eng.ApplyBundle(context.Background(), "test.yaml", []byte(src), testContacts, "tester")
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return res
}

// testContacts is the bundle of a test plan: every file it references is a contacts file with
// one critical and one standard consumer.
func testContacts(refs []plan.Reference, fn func(name string, body io.Reader) error) error {
	for _, r := range refs {
		if err := fn(r.Name, strings.NewReader("id,email,tier\nacme,ops@acme.example.com,critical\nglobex,dev@globex.example.com,standard\n")); err != nil {
			return err
		}
	}
	return nil
}

// settle waits until the sunset has no enqueued action left (River has worked every job). It
// polls the store; it asserts nothing about how long that takes.
func settle(t *testing.T, eng *engine.Engine, name string) []engine.Action {
	t.Helper()
	var acts []engine.Action
	testenv.Eventually(t, 30*time.Second, "no action enqueued", func() error {
		var err error
		acts, err = eng.Actions(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			if a.Status == engine.ActionEnqueued {
				return fmt.Errorf("still enqueued: %+v", acts)
			}
		}
		return nil
	})
	return acts
}

// actionEvents counts the action events of each key.
func actionEvents(t *testing.T, eng *engine.Engine, name string) map[string]int {
	t.Helper()
	evs, err := eng.Events(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, ev := range evs {
		if strings.HasPrefix(ev.Type, "action.") {
			var key string
			if i := strings.Index(string(ev.Data), `"key":"`); i >= 0 {
				rest := string(ev.Data)[i+7:]
				key = rest[:strings.IndexByte(rest, '"')]
			}
			n[key]++
		}
	}
	return n
}

func verifyOK(t *testing.T, eng *engine.Engine, name string) {
	t.Helper()
	v, err := eng.VerifyEvents(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK {
		t.Fatalf("event chain broken: %v", v.Problems)
	}
}

func TestApplyCreatesScheduledSunset(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		b := setup(t, open(t))
		res := apply(t, b.eng, testPlan)
		if !res.Created || res.Sunset.State != engine.StateScheduled || res.Sunset.Revision != 1 {
			t.Fatalf("got %+v", res)
		}
		acts, err := b.eng.Actions(context.Background(), "billing-v1")
		if err != nil {
			t.Fatal(err)
		}
		if len(acts) == 0 {
			t.Fatal("no actions stored")
		}
		for _, a := range acts {
			if a.Status != engine.ActionPending {
				t.Errorf("%s: status %s, want pending", a.Key, a.Status)
			}
		}
		again := apply(t, b.eng, testPlan)
		if again.Created || again.Changed {
			t.Errorf("re-applying the same plan changed something: %+v", again)
		}
		evs, _ := b.eng.Events(context.Background(), "billing-v1")
		if len(evs) != 1 || evs[0].Type != "sunset.created" || evs[0].Actor != "tester" {
			t.Errorf("events = %+v, want one sunset.created by tester", evs)
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}

func TestApplyRefusesInvalidPlanAndStoresNothing(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		b := setup(t, open(t))
		_, err := b.eng.Apply(context.Background(), "bad.yaml", []byte("service:\n  nmae: x\nmilestones:\n  shutdown: someday\n"), "tester")
		if sunset.ErrorCode(err) != sunset.EINVALID {
			t.Fatalf("err = %v, want invalid", err)
		}
		var se *sunset.Error
		if !errors.As(err, &se) || len(se.Details) < 2 {
			t.Fatalf("want every problem in Details, got %#v", err)
		}
		for _, d := range se.Details {
			if !strings.HasPrefix(d, "bad.yaml:") {
				t.Errorf("problem %q does not start with the file name", d)
			}
		}
		all, err := b.eng.List(context.Background())
		if err != nil || len(all) != 0 {
			t.Fatalf("stored %d sunsets (err %v), want none", len(all), err)
		}
	})
}

func TestDueActionsRunOnceAndMoveState(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		b := setup(t, open(t))
		apply(t, b.eng, testPlan)
		if err := b.eng.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Travel to just after deprecate: announce, its notice and deprecate are due.
		b.clock.Set(time.Date(2027, 1, 5, 12, 0, 0, 0, time.UTC))
		if _, err := b.eng.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		settle(t, b.eng, "billing-v1")
		s, _ := b.eng.Get(context.Background(), "billing-v1")
		if s.State != engine.StateDeprecating {
			t.Fatalf("state = %s, want deprecating", s.State)
		}
		runs := actionEvents(t, b.eng, "billing-v1")
		for _, key := range []string{"milestone/announce", "milestone/deprecate", "notice/0"} {
			if runs[key] != 1 {
				t.Errorf("%s ran %d times, want 1", key, runs[key])
			}
		}
		if runs["milestone/shutdown"] != 0 {
			t.Errorf("shutdown ran before it was due")
		}
		// Dispatching again finds nothing new.
		n, err := b.eng.Dispatch(context.Background())
		if err != nil || n != 0 {
			t.Errorf("second dispatch enqueued %d (err %v), want 0", n, err)
		}
		// Months later, everything has run, once.
		b.clock.Set(time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC))
		if _, err := b.eng.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		acts := settle(t, b.eng, "billing-v1")
		runs = actionEvents(t, b.eng, "billing-v1")
		for _, a := range acts {
			if a.Status != engine.ActionDone || runs[a.Key] != 1 {
				t.Errorf("%s: status %s, ran %d times; want done once", a.Key, a.Status, runs[a.Key])
			}
		}
		// The backlog ran in timeline order.
		var order []string
		for _, ev := range mustEvents(t, b.eng, "billing-v1") {
			if strings.HasPrefix(ev.Type, "action.") {
				order = append(order, string(ev.Data))
			}
		}
		for i, a := range acts {
			if i < len(order) && !strings.Contains(order[i], `"key":"`+a.Key+`"`) {
				t.Errorf("action %d ran as %s, want %s (timeline order)", i, order[i], a.Key)
			}
		}
		s, _ = b.eng.Get(context.Background(), "billing-v1")
		if s.State != engine.StateShutDown {
			t.Errorf("state = %s, want shut_down", s.State)
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}

// TestExactlyOnceAcrossRestart stops the engine after scheduling jobs and before running them,
// and again after running them; after each restart every due action has run exactly once.
func TestExactlyOnceAcrossRestart(t *testing.T) {
	// Serial: it stops and restarts an engine mid-work on wall-clock timing that other tests'
	// load would shift.
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sunset.db")
		testRestart(t, func() engine.Store {
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := storetest.PostgresDSN(t)
		testRestart(t, func() engine.Store {
			st, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
}

// testRestart runs three engine "processes" one after another on the same database, each on a
// freshly opened store, as a restarted server would.
func testRestart(t *testing.T, reopen func() engine.Store) {
	ctx := context.Background()
	clock := sunset.NewFixedClock(t0)

	// Process 1: apply, travel, enqueue due actions, stop before any worker runs.
	st1 := reopen()
	e1, err := engine.New(engine.Config{Store: st1, Clock: clock, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, e1, testPlan)
	clock.Set(time.Date(2027, 2, 20, 0, 0, 0, 0, time.UTC)) // past read_only, before shutdown-7d (2027-02-22)
	// One action per sunset is queued at a time; the rest follow in order as each completes.
	n, err := e1.Dispatch(ctx)
	if err != nil || n != 1 {
		t.Fatalf("dispatch enqueued %d (err %v), want 1 (announce; its successors follow it)", n, err)
	}
	e1.Stop()
	if err := st1.Close(); err != nil {
		t.Fatal(err)
	}

	// Process 2: the jobs survived; starting runs each exactly once.
	st2 := reopen()
	e2 := newEngine(t, st2, clock)
	if err := e2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	settle(t, e2, "billing-v1")
	runs := actionEvents(t, e2, "billing-v1")
	for _, key := range []string{"milestone/announce", "milestone/deprecate", "notice/0", "milestone/read_only"} {
		if runs[key] != 1 {
			t.Errorf("after restart %s ran %d times, want 1", key, runs[key])
		}
	}
	e2.Stop()
	evCount := len(mustEvents(t, e2, "billing-v1"))
	if err := st2.Close(); err != nil {
		t.Fatal(err)
	}

	// Process 3: after running, a restart (and a dispatch) repeats nothing.
	st3 := reopen()
	t.Cleanup(func() { st3.Close() }) // after e3 stops: cleanups run last-in first-out
	e3 := newEngine(t, st3, clock)
	if err := e3.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := e3.Dispatch(ctx); err != nil || n != 0 {
		t.Fatalf("dispatch after restart enqueued %d (err %v), want 0", n, err)
	}
	settle(t, e3, "billing-v1")
	if got := len(mustEvents(t, e3, "billing-v1")); got != evCount {
		t.Errorf("events went from %d to %d across an idle restart", evCount, got)
	}
	s, _ := e3.Get(ctx, "billing-v1")
	if s.State != engine.StateReadOnly {
		t.Errorf("state = %s, want read_only", s.State)
	}
	verifyOK(t, e3, "billing-v1")
}

func mustEvents(t *testing.T, eng *engine.Engine, name string) []engine.Event {
	t.Helper()
	evs, err := eng.Events(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestFailedActionRollsBackAndRetries: a handler that fails leaves no trace; River retries it
// and the action's event is recorded once.
func TestFailedActionRollsBackAndRetries(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		b := setup(t, open(t))
		var calls atomic.Int32
		b.eng.Register(plan.KindNotice, engine.HandlerFunc(func(ctx context.Context, run *engine.Run) error {
			if calls.Add(1) == 1 {
				return fmt.Errorf("smtp server unreachable")
			}
			run.Data = map[string]any{"sent": 3}
			return nil
		}))
		apply(t, b.eng, testPlan)
		if err := b.eng.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2027, 1, 4, 10, 30, 0, 0, time.UTC))
		if _, err := b.eng.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		settle(t, b.eng, "billing-v1")
		// The retry is due on the engine's clock, DefaultActionRetry after the failure.
		b.clock.Set(time.Date(2027, 1, 4, 10, 31, 0, 0, time.UTC))
		if _, err := b.eng.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		settle(t, b.eng, "billing-v1")
		if got := calls.Load(); got != 2 {
			t.Errorf("handler called %d times, want 2 (one failure, one retry)", got)
		}
		if runs := actionEvents(t, b.eng, "billing-v1"); runs["notice/0"] != 1 {
			t.Errorf("notice/0 recorded %d times, want 1", runs["notice/0"])
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}

func TestPauseHoldsActionsUntilResume(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		apply(t, b.eng, testPlan)
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := b.eng.Pause(ctx, "billing-v1", "ops", "customers complain")
		if err != nil || s.State != engine.StatePaused || s.PausedFrom != engine.StateScheduled {
			t.Fatalf("pause: %+v, %v", s, err)
		}
		if _, err := b.eng.Pause(ctx, "billing-v1", "ops", "again"); sunset.ErrorCode(err) != sunset.ECONFLICT {
			t.Errorf("pausing twice: err = %v, want conflict", err)
		}
		b.clock.Set(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC))
		if n, _ := b.eng.Dispatch(ctx); n != 0 {
			t.Errorf("dispatch while paused enqueued %d actions", n)
		}
		if _, err := b.eng.Resume(ctx, "billing-v1", "ops", ""); sunset.ErrorCode(err) != sunset.EINVALID {
			t.Errorf("resume without reason: err = %v, want invalid", err)
		}
		s, err = b.eng.Resume(ctx, "billing-v1", "ops", "Acme migrated")
		if err != nil || s.State != engine.StateScheduled {
			t.Fatalf("resume: %+v, %v", s, err)
		}
		if _, err := b.eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, b.eng, "billing-v1")
		s, _ = b.eng.Get(ctx, "billing-v1")
		if s.State != engine.StateDeprecating {
			t.Errorf("after resume state = %s, want deprecating", s.State)
		}
		types := eventTypes(t, b.eng, "billing-v1")
		if !strings.Contains(types, "sunset.paused") || !strings.Contains(types, "sunset.resumed") {
			t.Errorf("events %s lack pause/resume", types)
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}

func eventTypes(t *testing.T, eng *engine.Engine, name string) string {
	var types []string
	for _, ev := range mustEvents(t, eng, name) {
		types = append(types, ev.Type)
	}
	return strings.Join(types, " ")
}

func TestCancelStopsEverything(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		apply(t, b.eng, testPlan)
		s, err := b.eng.Cancel(ctx, "billing-v1", "ops", "v1 stays")
		if err != nil || s.State != engine.StateCancelled {
			t.Fatalf("cancel: %+v, %v", s, err)
		}
		b.clock.Set(time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC))
		if n, _ := b.eng.Dispatch(ctx); n != 0 {
			t.Errorf("dispatch after cancel enqueued %d", n)
		}
		if _, err := b.eng.Resume(ctx, "billing-v1", "ops", "oops"); sunset.ErrorCode(err) != sunset.ECONFLICT {
			t.Errorf("resume after cancel: %v, want conflict", err)
		}
		if _, err := b.eng.Apply(ctx, "test.yaml", []byte(strings.Replace(testPlan, "2027-03-01", "2027-04-01", 1)), "x"); sunset.ErrorCode(err) != sunset.ECONFLICT {
			t.Errorf("re-plan after cancel: %v, want conflict", err)
		}
		if _, err := b.eng.Pause(ctx, "nope", "ops", "freeze"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
			t.Errorf("pause unknown: %v, want not found", err)
		}
	})
}

const stakeholderPlan = testPlan + `
stakeholders:
  - {name: support, email: support@example.com, role: support}
  - {name: legal, email: legal@example.com, role: legal}
`

func TestStakeholdersKeepDraftUntilAllSignOff(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		res := apply(t, b.eng, stakeholderPlan)
		if res.Sunset.State != engine.StateDraft {
			t.Fatalf("state = %s, want draft", res.Sunset.State)
		}
		b.clock.Set(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC))
		if n, _ := b.eng.Dispatch(ctx); n != 0 {
			t.Errorf("a draft sunset enqueued %d actions", n)
		}
		if _, err := b.eng.Signoff(ctx, "billing-v1", "sales", "bob"); sunset.ErrorCode(err) != sunset.EINVALID {
			t.Errorf("unknown stakeholder: %v, want invalid", err)
		}
		s, err := b.eng.Signoff(ctx, "billing-v1", "legal", "alice")
		if err != nil || s.State != engine.StateDraft {
			t.Fatalf("first signoff: %+v, %v", s, err)
		}
		if _, err := b.eng.Signoff(ctx, "billing-v1", "legal", "alice"); sunset.ErrorCode(err) != sunset.ECONFLICT {
			t.Errorf("second signoff by legal: %v, want conflict", err)
		}
		s, err = b.eng.Signoff(ctx, "billing-v1", "support", "carol")
		if err != nil || s.State != engine.StateScheduled {
			t.Fatalf("last signoff: %+v, %v", s, err)
		}
		if n, _ := b.eng.Dispatch(ctx); n == 0 {
			t.Error("scheduled sunset enqueued nothing although announce is past")
		}
		types := eventTypes(t, b.eng, "billing-v1")
		if strings.Count(types, "stakeholder.signed_off") != 2 || !strings.Contains(types, "sunset.scheduled") {
			t.Errorf("events: %s", types)
		}
	})
}

func TestReplanMovesFutureAndKeepsPast(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		apply(t, b.eng, testPlan)
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC))
		b.eng.Dispatch(ctx)
		settle(t, b.eng, "billing-v1")
		// Shift announce (already past: kept) and shutdown (future: moved) by two weeks; drop
		// the final reminder; add a new notice.
		changed := strings.NewReplacer(
			"announce: 2027-01-04T10:00", "announce: 2027-01-18T10:00",
			"shutdown: 2027-03-01T10:00", "shutdown: 2027-03-15T10:00",
			"  - {at: shutdown-7d, to: active_consumers, channels: [email], template: final_reminder}\n",
			"  - {at: shutdown-14d, to: active_consumers, channels: [email], template: reminder}\n",
		).Replace(testPlan)
		res, err := b.eng.Apply(ctx, "test.yaml", []byte(changed), "tester")
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.Sunset.Revision != 2 {
			t.Fatalf("got %+v", res)
		}
		has := func(list []string, k string) bool {
			for _, x := range list {
				if x == k {
					return true
				}
			}
			return false
		}
		if !has(res.Kept, "milestone/announce") {
			t.Errorf("kept = %v, want the announce that already happened", res.Kept)
		}
		moved := map[string]engine.ActionMove{}
		for _, m := range res.Moved {
			moved[m.Key] = m
		}
		if m, ok := moved["milestone/shutdown"]; !ok || m.To.Sub(m.From) != 14*24*time.Hour {
			t.Errorf("shutdown move = %+v, want +14d", m)
		}
		if _, ok := moved["milestone/announce"]; ok {
			t.Error("a past action moved")
		}
		// notice/1 is the same plan element (the second notice) with new content and date.
		if _, ok := moved["notice/1"]; !ok {
			t.Errorf("moved = %v, want notice/1", res.Moved)
		}
		types := eventTypes(t, b.eng, "billing-v1")
		if !strings.Contains(types, "plan.replanned") {
			t.Errorf("no plan.replanned event: %s", types)
		}
		runs := actionEvents(t, b.eng, "billing-v1")
		if runs["milestone/announce"] != 1 {
			t.Errorf("announce ran %d times after re-plan, want 1", runs["milestone/announce"])
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}

func TestVerifyDetectsChangedAndRemovedEvents(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		tamper string // SQL run against the events table
		want   string
	}{
		{"changed data", `UPDATE events SET data = '{"reason":"nothing to see"}' WHERE seq = 2`, "event 2 (sunset.paused) does not match its hash"},
		{"changed actor", `UPDATE events SET actor = 'mallory' WHERE seq = 3`, "event 3 (sunset.resumed) does not match its hash"},
		{"removed middle", `DELETE FROM events WHERE seq = 2`, "events 2 to 2 are missing"},
		{"removed newest", `DELETE FROM events WHERE seq = 4`, "newest events removed"},
		{"added past the head", `INSERT INTO events (sunset_id, seq, at, type, actor, data, prev_hash, hash)
			SELECT sunset_id, 5, at, type, 'mallory', data, hash, 'forged' FROM events WHERE seq = 4`, "past the sunset's head, event 4"},
	}
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				b := setup(t, open(t))
				apply(t, b.eng, testPlan)
				b.eng.Pause(ctx, "billing-v1", "ops", "complaints")
				b.eng.Resume(ctx, "billing-v1", "ops", "fixed")
				b.eng.Pause(ctx, "billing-v1", "ops", "again")
				verifyOK(t, b.eng, "billing-v1")
				if _, err := b.store.DB().ExecContext(ctx, tc.tamper); err != nil {
					t.Fatal(err)
				}
				v, err := b.eng.VerifyEvents(ctx, "billing-v1")
				if err != nil {
					t.Fatal(err)
				}
				if v.OK || !strings.Contains(strings.Join(v.Problems, "\n"), tc.want) {
					t.Errorf("problems = %q, want one containing %q", v.Problems, tc.want)
				}
			})
		}
	})
}

// TestManySunsetsEveryActionOnce drives many sunsets at once through their whole timelines,
// with several workers contending for the database (one connection on SQLite), and checks that
// every action ran exactly once and every chain verifies.
func TestManySunsetsEveryActionOnce(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		const n = 12
		for i := range n {
			apply(t, b.eng, strings.Replace(testPlan, "name: billing-v1", fmt.Sprintf("name: billing-%02d", i), 1))
		}
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC))
		// A second dispatcher racing the engine's own loop must not duplicate anything.
		for range 3 {
			if _, err := b.eng.Dispatch(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			name := fmt.Sprintf("billing-%02d", i)
			testenv.Eventually(t, 60*time.Second, name+"'s actions done", func() error {
				acts := settle(t, b.eng, name)
				done := 0
				for _, a := range acts {
					if a.Status == engine.ActionDone {
						done++
					}
				}
				if done != len(acts) {
					return fmt.Errorf("%d of %d actions done", done, len(acts))
				}
				return nil
			})
			for key, runs := range actionEvents(t, b.eng, name) {
				if runs != 1 {
					t.Errorf("%s %s ran %d times", name, key, runs)
				}
			}
			verifyOK(t, b.eng, name)
		}
	})
}

// testLogger sends the engine's warnings and errors to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestShiftMovesTheFutureAndRecordsWhy(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		apply(t, b.eng, testPlan)
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC))
		b.eng.Dispatch(ctx)
		settle(t, b.eng, "billing-v1")
		if _, err := b.eng.Shift(ctx, "billing-v1", "14d", "ops", ""); sunset.ErrorCode(err) != sunset.EINVALID {
			t.Errorf("shift without reason: %v", err)
		}
		res, err := b.eng.Shift(ctx, "billing-v1", "14d", "ops", "Acme needs two more weeks")
		if err != nil {
			t.Fatal(err)
		}
		if res.Sunset.Revision != 2 || len(res.Shifted) != 2 {
			t.Fatalf("revision %d, shifted %+v; want revision 2 and read_only+shutdown moved", res.Sunset.Revision, res.Shifted)
		}
		acts, _ := b.eng.Actions(ctx, "billing-v1")
		for _, a := range acts {
			switch a.Key {
			case "milestone/announce":
				if a.Status != engine.ActionDone || !a.At.Equal(time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)) {
					t.Errorf("announce = %+v, want done and unmoved", a)
				}
			case "milestone/shutdown":
				if !a.At.Equal(time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)) {
					t.Errorf("shutdown at %s, want 2027-03-15 09:00 UTC", a.At)
				}
			}
		}
		types := eventTypes(t, b.eng, "billing-v1")
		if !strings.Contains(types, "sunset.shifted plan.replanned") {
			t.Errorf("events: %s", types)
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}

// TestSignoffsDuringAPauseCountOnResume: stakeholders who sign off while a draft is paused are
// kept; resume then schedules the sunset, and the actions that fell due meanwhile run next, in
// timeline order. With a sign-off still missing, resume returns to draft with everything held.
func TestSignoffsDuringAPauseCountOnResume(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		b := setup(t, open(t))
		apply(t, b.eng, stakeholderPlan)
		if err := b.eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := b.eng.Pause(ctx, "billing-v1", "ops", ""); sunset.ErrorCode(err) != sunset.EINVALID {
			t.Errorf("pause without a reason: %v, want invalid", err)
		}
		s, err := b.eng.Pause(ctx, "billing-v1", "ops", "legal review of the notice texts")
		if err != nil || s.State != engine.StatePaused || s.PausedFrom != engine.StateDraft {
			t.Fatalf("pause: %+v, %v", s, err)
		}
		if s, err = b.eng.Signoff(ctx, "billing-v1", "legal", "alice"); err != nil || s.State != engine.StatePaused {
			t.Fatalf("signoff while paused: %+v, %v", s, err)
		}
		// One sign-off still missing: resume returns to draft, nothing runs.
		if s, err = b.eng.Resume(ctx, "billing-v1", "ops", "texts approved"); err != nil || s.State != engine.StateDraft {
			t.Fatalf("resume with support missing: %+v, %v", s, err)
		}
		if _, err := b.eng.Pause(ctx, "billing-v1", "ops", "waiting for support"); err != nil {
			t.Fatal(err)
		}
		if s, err = b.eng.Signoff(ctx, "billing-v1", "support", "carol"); err != nil || s.State != engine.StatePaused {
			t.Fatalf("last signoff while paused: %+v, %v", s, err)
		}
		// Announce and deprecate fall due during the pause.
		b.clock.Set(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC))
		if n, _ := b.eng.Dispatch(ctx); n != 0 {
			t.Errorf("a paused sunset enqueued %d actions", n)
		}
		s, err = b.eng.Resume(ctx, "billing-v1", "ops", "support signed off")
		if err != nil || s.State != engine.StateScheduled || s.PausedFrom != "" {
			t.Fatalf("resume after every sign-off: %+v, %v; want scheduled", s, err)
		}
		acts, err := b.eng.Actions(ctx, "billing-v1")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			if a.Status == engine.ActionHeld {
				t.Errorf("%s is still held after resume", a.Key)
			}
		}
		if _, err := b.eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, b.eng, "billing-v1")
		s, _ = b.eng.Get(ctx, "billing-v1")
		if s.State != engine.StateDeprecating {
			t.Errorf("after the due actions ran: %s, want deprecating", s.State)
		}
		types := eventTypes(t, b.eng, "billing-v1")
		if !strings.Contains(types, "sunset.resumed sunset.scheduled") {
			t.Errorf("events %s: want sunset.resumed followed by sunset.scheduled", types)
		}
		announce := strings.Index(types, "action.milestone")
		if announce < strings.Index(types, "sunset.scheduled") {
			t.Errorf("an action ran before the sunset was scheduled: %s", types)
		}
		runs := actionEvents(t, b.eng, "billing-v1")
		if runs["milestone/announce"] != 1 || runs["milestone/deprecate"] != 1 || runs["milestone/read_only"] != 0 {
			t.Errorf("runs %v: want announce and deprecate once, read_only not yet", runs)
		}
		verifyOK(t, b.eng, "billing-v1")
	})
}
