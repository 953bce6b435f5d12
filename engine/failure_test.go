package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

// stallPlan announces with a notice and shuts down with a runbook, the shape of the real-time
// run in which a failing announcement held back the shutdown runbook without a word.
const stallPlan = `
min_notice: 3d
service:
  name: orders-v1
  timezone: UTC
milestones:
  announce: 2027-01-04T10:00
  deprecate: announce+1d
  read_only: announce+2d
  shutdown: announce+3d
notices:
  - {at: announce, to: all, channels: [email], template: announce}
channels:
  email: {smtp: "127.0.0.1:2525", from: noreply@example.com}
runbook:
  - {name: stop, exec: [true]}
`

// syncBuffer is a log sink the engine's goroutines write to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type stallRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *stallRecorder) ActionStalled(ctx context.Context, tx engine.Tx, s *engine.Sunset, p *plan.Plan, a *engine.Action, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s.Name+" "+a.Key+" "+a.LastError)
	return nil
}

func keys(acts []engine.Action) []string {
	var out []string
	for _, a := range acts {
		out = append(out, a.Key)
	}
	return out
}

// TestFailingActionIsVisibleThenPausesThenSkipLetsTheRestRun is the stall of the real-time run:
// the announcement's fan-out cannot read its contacts. The status names the failing action and
// its error at once and shows the shutdown runbook blocked behind it, the engine's phase next to
// the clock's; one WARN line says so; after the configured attempts the sunset pauses itself
// with the action named (Event by "engine"), the owners are told once; a skip with a reason lets
// the later actions run.
func TestFailingActionIsVisibleThenPausesThenSkipLetsTheRestRun(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		clock := sunset.NewFixedClock(t0)
		logs := &syncBuffer{}
		eng, err := engine.New(engine.Config{Store: open(t), Clock: clock, PollInterval: 20 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})), ActionAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(eng.Stop)
		var calls atomic.Int32
		eng.Register(plan.KindNotice, engine.HandlerFunc(func(ctx context.Context, run *engine.Run) error {
			calls.Add(1)
			return errors.New("read contacts: open contacts.csv: permission denied")
		}))
		stalls := &stallRecorder{}
		eng.OnStall(stalls)
		apply(t, eng, stallPlan)
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		dispatch := func(at time.Time) {
			t.Helper()
			clock.Set(at)
			if _, err := eng.Dispatch(ctx); err != nil {
				t.Fatal(err)
			}
			settle(t, eng, "orders-v1")
		}
		// The clock is past the shutdown: every action is due.
		at := time.Date(2027, 1, 7, 11, 0, 0, 0, time.UTC)
		dispatch(at)
		st, err := eng.Status(ctx, "orders-v1")
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Failing) != 1 || st.Failing[0].Key != "notice/0" || st.Failing[0].Attempts != 1 ||
			!strings.Contains(st.Failing[0].LastError, "permission denied") || st.Failing[0].RetryAt.IsZero() {
			t.Fatalf("after the first failure, status failing = %+v, want notice/0 with its error and a retry", st.Failing)
		}
		if blocked := keys(st.Blocked); !slices.Contains(blocked, "runbook/start") || !slices.Contains(blocked, "milestone/shutdown") {
			t.Errorf("blocked = %v, want the shutdown milestone and runbook/start", blocked)
		}
		if st.State != engine.StateAnnounced || st.EnginePhase != "active" {
			t.Errorf("state %s, engine phase %s; want announced, active", st.State, st.EnginePhase)
		}
		// Retries wait on the engine's clock: nothing runs before the retry is due.
		dispatch(at.Add(time.Second))
		if got := calls.Load(); got != 1 {
			t.Errorf("handler ran %d times before its retry was due, want 1", got)
		}
		for i := 2; i <= 3; i++ {
			at = at.Add(10 * time.Minute)
			dispatch(at)
			if got := calls.Load(); got != int32(i) {
				t.Fatalf("handler ran %d times, want %d", got, i)
			}
		}
		st, err = eng.Status(ctx, "orders-v1")
		if err != nil {
			t.Fatal(err)
		}
		if st.State != engine.StatePaused || st.PausedFrom != engine.StateAnnounced {
			t.Fatalf("after 3 failures state = %s (from %s), want paused from announced", st.State, st.PausedFrom)
		}
		if len(st.Failing) != 1 || st.Failing[0].Attempts != 3 || st.Failing[0].Status != engine.ActionHeld {
			t.Errorf("failing = %+v, want notice/0 held after 3 attempts", st.Failing)
		}
		evs := mustEvents(t, eng, "orders-v1")
		var paused *engine.Event
		for i := range evs {
			if evs[i].Type == "sunset.paused" {
				paused = &evs[i]
			}
		}
		if paused == nil || paused.Actor != "engine" {
			t.Fatalf("no sunset.paused event by engine in %s", eventTypes(t, eng, "orders-v1"))
		}
		var data map[string]any
		if err := json.Unmarshal(paused.Data, &data); err != nil {
			t.Fatal(err)
		}
		if data["action"] != "notice/0" || !strings.Contains(data["error"].(string), "permission denied") {
			t.Errorf("pause event data = %v, want the action and its error", data)
		}
		if len(stalls.calls) != 1 || !strings.HasPrefix(stalls.calls[0], "orders-v1 notice/0 read contacts") {
			t.Errorf("owners told %v, want once about notice/0", stalls.calls)
		}
		// A paused sunset runs nothing, however late.
		dispatch(at.Add(time.Hour))
		if got := calls.Load(); got != 3 {
			t.Errorf("handler ran %d times while paused, want 3", got)
		}
		if n := strings.Count(logs.String(), "action failing"); n != 1 {
			t.Errorf("%d WARN lines about the failing action, want 1 (not one per attempt):\n%s", n, logs.String())
		}
		if !strings.Contains(logs.String(), "sunset paused") {
			t.Errorf("no WARN line about the pause:\n%s", logs.String())
		}

		if _, err := eng.Skip(ctx, "orders-v1", "notice/0", "ops", ""); sunset.ErrorCode(err) != sunset.EINVALID {
			t.Errorf("skip without reason: %v, want invalid", err)
		}
		if _, err := eng.Skip(ctx, "orders-v1", "milestone/shutdown", "ops", "no"); sunset.ErrorCode(err) != sunset.EINVALID {
			t.Errorf("skip of the shutdown milestone: %v, want invalid", err)
		}
		if _, err := eng.Skip(ctx, "orders-v1", "nope/1", "ops", "no"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
			t.Errorf("skip of an unknown action: %v, want not found", err)
		}
		s, err := eng.Skip(ctx, "orders-v1", "notice/0", "ops", "contacts are fixed by hand; announced by phone")
		if err != nil || s.State != engine.StateAnnounced {
			t.Fatalf("skip: %+v, %v; want the sunset resumed to announced", s, err)
		}
		dispatch(at.Add(2 * time.Hour))
		acts := settle(t, eng, "orders-v1")
		for _, a := range acts {
			want := engine.ActionDone
			if a.Key == "notice/0" {
				want = engine.ActionSkipped
			}
			if a.Status != want {
				t.Errorf("%s is %s, want %s", a.Key, a.Status, want)
			}
		}
		s, _ = eng.Get(ctx, "orders-v1")
		if s.State != engine.StateShutDown {
			t.Errorf("state after the skip = %s, want shut_down", s.State)
		}
		types := eventTypes(t, eng, "orders-v1")
		if !strings.Contains(types, "action.skipped") || !strings.Contains(types, "action.runbook") {
			t.Errorf("events %s lack the skip or the runbook's start", types)
		}
		st, _ = eng.Status(ctx, "orders-v1")
		if len(st.Failing) != 0 || len(st.Blocked) != 0 || st.EnginePhase != "gone" {
			t.Errorf("after the run: failing %v, blocked %v, phase %s", st.Failing, st.Blocked, st.EnginePhase)
		}
		if _, err := eng.Skip(ctx, "orders-v1", "notice/0", "ops", "again"); sunset.ErrorCode(err) != sunset.ECONFLICT {
			t.Errorf("skipping twice: %v, want conflict", err)
		}
		verifyOK(t, eng, "orders-v1")
	})
}

// TestResumeRetriesAFailedActionAfresh: an operator who fixed the cause resumes; the action gets
// its attempts back and, now succeeding, runs once and clears its failure.
func TestResumeRetriesAFailedActionAfresh(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func(t testing.TB) engine.Store) {
		ctx := context.Background()
		clock := sunset.NewFixedClock(t0)
		eng, err := engine.New(engine.Config{Store: open(t), Clock: clock, PollInterval: 20 * time.Millisecond,
			Logger: testLogger(t), ActionAttempts: 2, ActionRetry: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(eng.Stop)
		var fixed atomic.Bool
		eng.Register(plan.KindNotice, engine.HandlerFunc(func(ctx context.Context, run *engine.Run) error {
			if !fixed.Load() {
				return errors.New("contacts unreadable")
			}
			return nil
		}))
		apply(t, eng, stallPlan)
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2027, 1, 4, 10, 0, 0, 0, time.UTC)
		for i := 0; i < 2; i++ {
			clock.Set(at.Add(time.Duration(i) * time.Hour))
			if _, err := eng.Dispatch(ctx); err != nil {
				t.Fatal(err)
			}
			settle(t, eng, "orders-v1")
		}
		s, _ := eng.Get(ctx, "orders-v1")
		if s.State != engine.StatePaused {
			t.Fatalf("state = %s, want paused after 2 failures", s.State)
		}
		fixed.Store(true)
		if _, err := eng.Resume(ctx, "orders-v1", "ops", "contacts file readable again"); err != nil {
			t.Fatal(err)
		}
		acts, _ := eng.Actions(ctx, "orders-v1")
		for _, a := range acts {
			// The running dispatcher may have taken it up already.
			if a.Key == "notice/0" && (a.Attempts != 0 || a.Status == engine.ActionHeld) {
				t.Errorf("after resume notice/0 = %+v, want it released with no attempts", a)
			}
		}
		if _, err := eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, eng, "orders-v1")
		st, _ := eng.Status(ctx, "orders-v1")
		if len(st.Failing) != 0 || st.State != engine.StateAnnounced {
			t.Errorf("after the retry: failing %+v, state %s; want none, announced", st.Failing, st.State)
		}
	})
}
