package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/engine"
)

// The state machine, as a table of every (state, command) pair: what each command does to a
// sunset in each state, through the API, on both databases. docs/ui.md shows the same table to
// users; change both together.

// machineNow is the clock of the state machine test: milestones before it have happened.
var machineNow = time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)

// machinePlan is a plan for the sunset name with its first `reached` milestones (of announce,
// deprecate, read_only, shutdown) before machineNow and the others after, 10 days apart, the
// shutdown moved by shutdownDays more, and these stakeholders.
func machinePlan(name string, reached, shutdownDays int, stakeholders ...string) string {
	at := func(i int) string {
		d := (i-reached)*10 + 5
		if i == 3 {
			d += shutdownDays
		}
		return machineNow.AddDate(0, 0, d).Format("2006-01-02T15:04")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "service:\n  name: %s\n  timezone: UTC\n", name)
	if len(stakeholders) > 0 {
		b.WriteString("stakeholders:\n")
		for _, s := range stakeholders {
			fmt.Fprintf(&b, "  - {name: %s, role: %s}\n", s, s)
		}
	}
	fmt.Fprintf(&b, "milestones:\n  announce: %s\n  deprecate: %s\n  read_only: %s\n  shutdown: %s\n", at(0), at(1), at(2), at(3))
	return b.String()
}

// machineStart is a state a sunset is brought to before a command.
type machineStart struct {
	name string
	// reached is how many milestones have happened; draft keeps the sunset awaiting sign-off.
	reached int
	draft   bool
	// signed sign off a draft before then.
	signed []string
	// then: "pause", "cancel" or "evaluate" after the timeline has reached its state.
	then string
	// want is the state the sunset is in before the command.
	want engine.State
}

// machineStarts are the states of the table; paused comes from several of them.
var machineStarts = []machineStart{
	{name: "draft", draft: true, want: engine.StateDraft},
	{name: "scheduled", want: engine.StateScheduled},
	{name: "announced", reached: 1, want: engine.StateAnnounced},
	{name: "deprecating", reached: 2, want: engine.StateDeprecating},
	{name: "read_only", reached: 3, want: engine.StateReadOnly},
	{name: "shut_down", reached: 4, want: engine.StateShutDown},
	{name: "evaluated", reached: 4, then: "evaluate", want: engine.StateEvaluated},
	{name: "paused_from_draft", draft: true, then: "pause", want: engine.StatePaused},
	{name: "paused_from_draft_awaiting_legal", draft: true, signed: []string{"support"}, then: "pause", want: engine.StatePaused},
	{name: "paused_from_scheduled", then: "pause", want: engine.StatePaused},
	{name: "paused_from_announced", reached: 1, then: "pause", want: engine.StatePaused},
	{name: "paused_from_read_only", reached: 3, then: "pause", want: engine.StatePaused},
	{name: "cancelled", then: "cancel", want: engine.StateCancelled},
}

// The commands of the table. signoff is by "legal", a stakeholder of the plan who has not
// signed yet; apply is the plan with its shutdown a day later; replan shifts it by 7d.
var machineCommands = []string{"pause", "resume", "cancel", "signoff", "apply", "replan", "mark-evaluated"}

// conflict and invalid stand for the problems the API answers in the table.
const (
	conflict = "problem:" + sunset.ECONFLICT
	invalid  = "problem:" + sunset.EINVALID
)

// machineTable is the expected outcome of each command in each state: the state afterwards, or
// the problem. mark-evaluated is the engine's, which generating the report of a shut-down
// sunset calls.
var machineTable = map[string]map[string]string{
	"draft":                            {"pause": "paused", "resume": conflict, "cancel": "cancelled", "signoff": "draft", "apply": "draft", "replan": "draft", "mark-evaluated": conflict},
	"scheduled":                        {"pause": "paused", "resume": conflict, "cancel": "cancelled", "signoff": "scheduled", "apply": "scheduled", "replan": "scheduled", "mark-evaluated": conflict},
	"announced":                        {"pause": "paused", "resume": conflict, "cancel": "cancelled", "signoff": "announced", "apply": "announced", "replan": "announced", "mark-evaluated": conflict},
	"deprecating":                      {"pause": "paused", "resume": conflict, "cancel": "cancelled", "signoff": "deprecating", "apply": "deprecating", "replan": "deprecating", "mark-evaluated": conflict},
	"read_only":                        {"pause": "paused", "resume": conflict, "cancel": "cancelled", "signoff": "read_only", "apply": "read_only", "replan": "read_only", "mark-evaluated": conflict},
	"shut_down":                        {"pause": conflict, "resume": conflict, "cancel": conflict, "signoff": conflict, "apply": conflict, "replan": conflict, "mark-evaluated": "evaluated"},
	"evaluated":                        {"pause": conflict, "resume": conflict, "cancel": conflict, "signoff": conflict, "apply": conflict, "replan": conflict, "mark-evaluated": "evaluated"},
	"paused_from_draft":                {"pause": conflict, "resume": "draft", "cancel": "cancelled", "signoff": "paused", "apply": "paused", "replan": "paused", "mark-evaluated": conflict},
	"paused_from_draft_awaiting_legal": {"pause": conflict, "resume": "draft", "cancel": "cancelled", "signoff": "paused", "apply": "paused", "replan": "paused", "mark-evaluated": conflict},
	"paused_from_scheduled":            {"pause": conflict, "resume": "scheduled", "cancel": "cancelled", "signoff": "paused", "apply": "paused", "replan": "paused", "mark-evaluated": conflict},
	"paused_from_announced":            {"pause": conflict, "resume": "announced", "cancel": "cancelled", "signoff": "paused", "apply": "paused", "replan": "paused", "mark-evaluated": conflict},
	"paused_from_read_only":            {"pause": conflict, "resume": "read_only", "cancel": "cancelled", "signoff": "paused", "apply": "paused", "replan": "paused", "mark-evaluated": conflict},
	"cancelled":                        {"pause": conflict, "resume": conflict, "cancel": conflict, "signoff": conflict, "apply": conflict, "replan": conflict, "mark-evaluated": conflict},
}

// machineBundle is a server on a real store whose engine runs, at machineNow.
type machineBundle struct {
	eng *engine.Engine
	ts  *httptest.Server
}

// post sends a JSON body to path and returns the status and the answer.
func (b *machineBundle) post(t *testing.T, path, body string) (int, []byte) {
	t.Helper()
	resp, err := b.ts.Client().Post(b.ts.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// bring brings the sunset name to st's state and fails the test when it does not get there.
func (b *machineBundle) bring(t *testing.T, name string, st machineStart) {
	t.Helper()
	ctx := t.Context()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s %s: %v", name, what, err)
		}
	}
	if st.draft {
		_, err := b.eng.Apply(ctx, name+".yaml", []byte(machinePlan(name, st.reached, 0, "support", "legal")), "setup")
		must("apply", err)
		for _, who := range st.signed {
			_, err := b.eng.Signoff(ctx, name, who, "setup")
			must("signoff", err)
		}
	} else {
		// Scheduled by its one stakeholder; then legal joins the plan and has not signed yet.
		_, err := b.eng.Apply(ctx, name+".yaml", []byte(machinePlan(name, st.reached, 0, "support")), "setup")
		must("apply", err)
		_, err = b.eng.Signoff(ctx, name, "support", "setup")
		must("signoff", err)
		_, err = b.eng.Apply(ctx, name+".yaml", []byte(machinePlan(name, st.reached, 0, "support", "legal")), "setup")
		must("re-apply", err)
	}
	// The milestones already due run (the engine is started); wait until none is left to run.
	want := engine.StateScheduled
	if st.draft {
		want = engine.StateDraft
	}
	if st.reached > 0 {
		want = []engine.State{engine.StateAnnounced, engine.StateDeprecating, engine.StateReadOnly, engine.StateShutDown}[st.reached-1]
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := b.eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := b.eng.Status(ctx, name)
		must("status", err)
		if s.State == want && s.Actions[engine.ActionEnqueued] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s after 30s, want %s: %+v", name, s.State, want, s.Actions)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var err error
	switch st.then {
	case "pause":
		_, err = b.eng.Pause(ctx, name, "setup", "hold")
	case "cancel":
		_, err = b.eng.Cancel(ctx, name, "setup", "stays")
	case "evaluate":
		_, err = b.eng.MarkEvaluated(ctx, name, "setup")
	}
	must(st.then, err)
	s, err := b.eng.Get(ctx, name)
	must("get", err)
	if s.State != st.want {
		t.Fatalf("%s is %s, want %s", name, s.State, st.want)
	}
}

// run sends command to the sunset name (which started at st) and returns the state afterwards
// or the problem, as the table spells them.
func (b *machineBundle) run(t *testing.T, name, command string, st machineStart) string {
	t.Helper()
	api := "/api/v1/sunsets/" + name + "/"
	var status int
	var body []byte
	switch command {
	case "pause", "resume", "cancel":
		status, body = b.post(t, api+command, `{"reason":"table test"}`)
	case "signoff":
		status, body = b.post(t, api+"signoffs", `{"stakeholder":"legal"}`)
	case "apply":
		status, body = b.post(t, "/api/v1/plans", machinePlan(name, st.reached, 1, "support", "legal"))
	case "replan":
		status, body = b.post(t, api+"replan", `{"shift":"7d","reason":"table test"}`)
	case "mark-evaluated":
		s, err := b.eng.MarkEvaluated(t.Context(), name, "tester")
		if err != nil {
			return "problem:" + sunset.ErrorCode(err)
		}
		return string(s.State)
	default:
		t.Fatalf("unknown command %s", command)
	}
	if status >= 400 {
		var p problem.Problem
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("%s %s: %d and not a problem: %s", name, command, status, body)
		}
		if p.Type != problem.ProblemTypeBase+p.Code || p.Status != status || problem.NewProblem(p.Code, "", nil).Status != status || p.Detail == "" {
			t.Errorf("%s %s: problem %+v does not match its status %d", name, command, p, status)
		}
		return "problem:" + p.Code
	}
	s, err := b.eng.Get(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return string(s.State)
}

// TestStateMachineTable runs every command on a sunset in every state, through the API, on both
// databases, and compares with machineTable.
func TestStateMachineTable(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			clock := sunset.NewFixedClock(machineNow)
			eng, err := engine.New(engine.Config{Store: stores[db](t), Clock: clock, PollInterval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(eng.Stop)
			if err := eng.Start(context.WithoutCancel(t.Context())); err != nil {
				t.Fatal(err)
			}
			srv := &Server{Engine: eng, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)}
			b := &machineBundle{eng: eng, ts: httptest.NewServer(srv.Handler())}
			t.Cleanup(b.ts.Close)
			t.Run("signoffs during a pause count on resume", func(t *testing.T) {
				st := machineStarts[slices.IndexFunc(machineStarts, func(s machineStart) bool { return s.name == "paused_from_draft_awaiting_legal" })]
				b.bring(t, "m00-signed-while-paused", st)
				if got := b.run(t, "m00-signed-while-paused", "signoff", st); got != "paused" {
					t.Fatalf("signoff while paused: %s", got)
				}
				if got := b.run(t, "m00-signed-while-paused", "resume", st); got != "scheduled" {
					t.Fatalf("resume after the last sign-off: %s, want scheduled", got)
				}
				s, err := eng.Status(t.Context(), "m00-signed-while-paused")
				if err != nil {
					t.Fatal(err)
				}
				if s.Actions[engine.ActionHeld] != 0 || s.Actions[engine.ActionPending] == 0 {
					t.Errorf("after resume: actions %v, want none held", s.Actions)
				}
			})
			n := 0
			for _, st := range machineStarts {
				for _, command := range machineCommands {
					n++
					want, ok := machineTable[st.name][command]
					if !ok {
						t.Fatalf("machineTable has no entry for (%s, %s)", st.name, command)
					}
					name := fmt.Sprintf("m%02d-%s", n, strings.ReplaceAll(st.name, "_", "-"))
					t.Run(st.name+"/"+command, func(t *testing.T) {
						b.bring(t, name, st)
						if got := b.run(t, name, command, st); got != want {
							t.Errorf("%s in %s: got %s, want %s", command, st.name, got, want)
						}
					})
				}
			}
		})
	}
}
