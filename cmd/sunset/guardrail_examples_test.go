package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/plan"
)

// exampleSystem is the whole system, as serve assembles it, running one example plan on a
// fixed clock.
type exampleSystem struct {
	sys   *system
	clock *sunset.FixedClock
	name  string
	api   string // the server's base URL
}

// runExample assembles and starts the system on a fresh SQLite database, applies the example
// plan file and gives it its stakeholders' sign-offs.
func runExample(t *testing.T, file string, signoffs ...string) *exampleSystem {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", file))
	if err != nil {
		t.Fatal(err)
	}
	p, problems := plan.Parse(file, data)
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	x := &exampleSystem{clock: sunset.NewFixedClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), name: p.Service.Name}
	x.sys, err = assemble(t.Context(), systemConfig{DB: "sqlite:" + filepath.Join(t.TempDir(), "sunset.db"), Runtime: sunset.Runtime{Clock: x.clock},
		Getenv: func(string) string { return "" }, EnginePoll: 20 * time.Millisecond,
		// No background watcher: the test calls it, so that it knows when it ran.
		GuardrailEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.sys.Stop)
	// The plan travels with its contacts, as sunset apply sends them.
	if _, err := x.sys.Engine.ApplyBundle(t.Context(), p.Service.Name+".yaml", data, plan.LocalFiles(filepath.Join("..", "..", "examples")), "tester"); err != nil {
		t.Fatal(err)
	}
	for _, who := range signoffs {
		if _, err := x.sys.Engine.Signoff(t.Context(), x.name, who, "tester"); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := x.sys.Start(t.Context(), ln); err != nil {
		t.Fatal(err)
	}
	x.api = "http://" + ln.Addr().String()
	return x
}

// travel moves the clock to at and waits until every action due by then has run (or is held
// by a pause).
func (x *exampleSystem) travel(t *testing.T, at time.Time) *engine.Sunset {
	t.Helper()
	x.clock.Set(at)
	eng := x.sys.Engine
	eventually(t, "the actions due at "+at.String()+" done", func() bool {
		if _, err := eng.Dispatch(t.Context()); err != nil {
			return false
		}
		acts, err := eng.Actions(t.Context(), x.name)
		if err != nil {
			return false
		}
		return !slices.ContainsFunc(acts, func(a engine.Action) bool {
			return a.Status == engine.ActionEnqueued || a.Status == engine.ActionPending && !a.At.After(at)
		})
	})
	s, err := eng.Get(t.Context(), x.name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// feedback stores n messages received an hour ago, as the form and the API do: negative ones
// first, the rest neutral, all in category.
func (x *exampleSystem) feedback(t *testing.T, n, negative int, category string) {
	t.Helper()
	var items []feedback.Feedback
	for i := range n {
		mood := feedback.Neutral
		if i < negative {
			mood = feedback.Negative
		}
		items = append(items, feedback.Feedback{Sunset: x.name, At: x.clock.Now().Add(-time.Hour), Mood: mood,
			Category: category, Text: fmt.Sprintf("message %d", i), Source: "form"})
	}
	if err := x.sys.Store.Feedback().Add(t.Context(), items); err != nil {
		t.Fatal(err)
	}
}

// watch runs the guardrail watcher once, as the engine does every minute, and returns the
// guardrails that paused the sunset (from its guardrail.tripped event), or nil.
func (x *exampleSystem) watch(t *testing.T) []string {
	t.Helper()
	if _, err := x.sys.Engine.WatchGuardrails(t.Context()); err != nil {
		t.Fatal(err)
	}
	return x.tripped(t)
}

// tripped returns the names in the sunset's last guardrail.tripped event, if it is paused.
func (x *exampleSystem) tripped(t *testing.T) []string {
	t.Helper()
	s, err := x.sys.Engine.Get(t.Context(), x.name)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != engine.StatePaused {
		return nil
	}
	evs, err := x.sys.Engine.Events(t.Context(), x.name)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range evs {
		if ev.Type != "guardrail.tripped" {
			continue
		}
		var d struct {
			Guardrails []engine.GuardrailResult `json:"guardrails"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		names = names[:0]
		for _, g := range d.Guardrails {
			names = append(names, g.Name)
		}
	}
	return names
}

// guardrail returns the guardrail named name as the engine evaluates it now.
func (x *exampleSystem) guardrail(t *testing.T, name string) (engine.GuardrailResult, bool) {
	t.Helper()
	res, err := x.sys.Engine.Guardrails(t.Context(), x.name)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(res, func(r engine.GuardrailResult) bool { return r.Name == name })
	if i < 0 {
		return engine.GuardrailResult{}, false
	}
	return res[i], true
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// TestEveryExampleGuardrailTripsThroughItsSignal drives each guardrail of examples/ past its
// threshold with real feedback and real gateway usage in a running system, and checks that it
// pauses the sunset — and that the noise just below it does not.
func TestEveryExampleGuardrailTripsThroughItsSignal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("api-v2 unhappy-users: 15 of 25 messages negative pause it, one negative message does not", func(t *testing.T) {
		x := runExample(t, "api-v2.yaml", "support", "legal")
		if s := x.travel(t, time.Date(2027, 1, 6, 9, 0, 0, 0, shanghai)); s.State != engine.StateDeprecating {
			t.Fatalf("state %s, want deprecating", s.State)
		}
		x.feedback(t, 1, 1, feedback.Other)
		if names := x.watch(t); names != nil {
			t.Fatalf("one negative message paused the sunset: %v", names)
		}
		if g, _ := x.guardrail(t, "unhappy-users"); g.Status != engine.GuardNotEnoughData || g.Sample != 1 || g.MinSample != 20 {
			t.Errorf("unhappy-users = %+v, want not enough data (1 of 20)", g)
		}
		if code, out, errs := run(t, ctx, "guardrails", x.name, "--server", x.api); code != 0 || !strings.Contains(out, "not enough data (1 of 20)") || strings.Contains(out, "TRIPPED") {
			t.Errorf("sunset guardrails: exit %d\n%s%s", code, out, errs)
		}
		x.feedback(t, 24, 14, feedback.MigrationProblem)
		if names := x.watch(t); !slices.Equal(names, []string{"unhappy-users"}) {
			t.Fatalf("tripped %v, want unhappy-users", names)
		}
	})
	t.Run("api-v2 critical-still-calling: a critical consumer calling in the last three days pauses it", func(t *testing.T) {
		x := runExample(t, "api-v2.yaml", "support", "legal")
		flush := func(seq int64, at time.Time) {
			t.Helper()
			// acme-prod is critical in orders-contacts.csv; globex is standard.
			if _, err := x.sys.Store.Usage().RecordUsage(ctx, x.name, gateway.Batch{Gateway: "gw-1", Seq: seq, Counts: []gateway.Count{
				{Feature: "orders", Consumer: "acme-prod", Hour: at.Truncate(time.Hour), Count: 12},
				{Feature: "orders", Consumer: "globex-7f3a", Hour: at.Truncate(time.Hour), Count: 30},
			}}); err != nil {
				t.Fatal(err)
			}
		}
		before := time.Date(2027, 3, 10, 12, 0, 0, 0, shanghai)
		if s := x.travel(t, before); s.State != engine.StateReadOnly {
			t.Fatalf("state %s, want read_only", s.State)
		}
		flush(1, before)
		if names := x.watch(t); names != nil {
			t.Fatalf("paused before the guardrail's from (shutdown-3d): %v", names)
		}
		if _, ok := x.guardrail(t, "critical-still-calling"); ok {
			t.Errorf("critical-still-calling is evaluated before its from instant")
		}
		armed := time.Date(2027, 3, 12, 12, 0, 0, 0, shanghai)
		flush(2, armed)
		x.travel(t, armed)
		names := x.tripped(t)
		if names == nil {
			names = x.watch(t)
		}
		if !slices.Equal(names, []string{"critical-still-calling"}) {
			t.Fatalf("tripped %v, want critical-still-calling", names)
		}
		if g, _ := x.guardrail(t, "critical-still-calling"); g.Value != 1 || !g.Tripped {
			t.Errorf("critical-still-calling = %+v, want one critical consumer, tripped", g)
		}
	})
	t.Run("webapp-closing negative ratio: 14 of 27 messages negative pause it, 12 of 25 do not", func(t *testing.T) {
		x := runExample(t, "webapp-closing.yaml")
		if s := x.travel(t, time.Date(2027, 1, 12, 9, 0, 0, 0, shanghai)); s.State != engine.StateDeprecating {
			t.Fatalf("state %s, want deprecating", s.State)
		}
		x.feedback(t, 25, 12, feedback.Other)
		if names := x.watch(t); names != nil {
			t.Fatalf("12 of 25 (0.48) paused the sunset: %v", names)
		}
		x.feedback(t, 2, 2, feedback.Other)
		if names := x.watch(t); len(names) != 1 || !strings.HasPrefix(names[0], "guardrail-0") {
			t.Fatalf("tripped %v, want guardrail-0 (feedback.negative_ratio > 0.5 over 48h)", names)
		}
	})
	t.Run("webapp-closing extension requests: 201 need_more_time messages in a week pause it", func(t *testing.T) {
		x := runExample(t, "webapp-closing.yaml")
		if s := x.travel(t, time.Date(2027, 2, 10, 9, 0, 0, 0, shanghai)); s.State != engine.StateDeprecating {
			t.Fatalf("state %s, want deprecating", s.State)
		}
		x.feedback(t, 200, 0, feedback.NeedMoreTime)
		if names := x.watch(t); names != nil {
			t.Fatalf("200 extension requests paused the sunset: %v", names)
		}
		x.feedback(t, 1, 0, feedback.NeedMoreTime)
		if names := x.watch(t); !slices.Equal(names, []string{"guardrail-1"}) {
			t.Fatalf("tripped %v, want guardrail-1 (feedback.extension_requests > 200 over 7d)", names)
		}
	})
}
