package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
)

// skipPlan announces with a notice and shuts down with a runbook.
const skipPlan = `
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
  - {name: stop, exec: ["true"]}
`

// TestSkipRecordsTheReasonAndTheTimelineGoesOn: against a real server, `sunset skip` needs an
// action and a reason, refuses the shutdown milestone, skips the announcement's notice with the
// reason (Event action.skipped), and status counts the skipped action. (The engine's tests run
// the timeline on after a skip, on both databases.)
func TestSkipRecordsTheReasonAndTheTimelineGoesOn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	api := serveWithEnv(t, dir, nil, "--now", "2027-01-01T00:00:00Z")
	cli := clientOf(t, api)
	planFile := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(planFile, []byte(skipPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := cli("apply", planFile); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := cli("skip", "orders-v1", "--action", "notice/0"); code != 2 || !strings.Contains(errs, "skip needs --reason") {
		t.Errorf("skip without a reason: exit %d: %s", code, errs)
	}
	if code, _, errs := cli("skip", "orders-v1", "--reason", "x"); code != 2 || !strings.Contains(errs, "skip needs --action KEY") {
		t.Errorf("skip without an action: exit %d: %s", code, errs)
	}
	if code, _, errs := cli("skip", "orders-v1", "--action", "milestone/shutdown", "--reason", "x"); code != 1 || !strings.Contains(errs, "cannot be skipped; re-plan instead") {
		t.Errorf("skip of the shutdown: exit %d: %s", code, errs)
	}
	code, out, errs := cli("skip", "orders-v1", "--action", "notice/0", "--reason", "customers told by phone")
	if code != 0 || !strings.Contains(out, "skipped notice/0 of orders-v1; sunset orders-v1 is now scheduled") {
		t.Fatalf("skip: exit %d\n%s%s", code, out, errs)
	}
	if _, events, _ := cli("events", "list", "orders-v1", "--format", "json"); !strings.Contains(events, "action.skipped") || !strings.Contains(events, "customers told by phone") {
		t.Errorf("events lack the skip and its reason:\n%s", events)
	}
	if _, out, _ := cli("status", "orders-v1"); !strings.Contains(out, "1 skipped") {
		t.Errorf("status does not count the skipped action:\n%s", out)
	}
}

// TestStatusNamesTheFailingActionTheBlockedOnesAndBothPhases: what `sunset status NAME` prints
// for a sunset held back by a failing action, while it retries and once it waits for an
// operator.
func TestStatusNamesTheFailingActionTheBlockedOnesAndBothPhases(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	failing := engine.Action{Key: "notice/0", Kind: "notice", Name: "announce", Status: engine.ActionPending, Attempts: 2,
		LastError: "notify: contacts of orders-v1: permission denied", FailingSince: at("2027-01-07T11:00:03Z"), RetryAt: at("2027-01-07T11:00:33Z")}
	s := &engine.Status{Sunset: &engine.Sunset{Name: "orders-v1", State: engine.StateAnnounced, Revision: 1, Signoffs: []string{}},
		TimeZone: "UTC", Actions: map[engine.ActionStatus]int{engine.ActionDone: 1, engine.ActionPending: 5},
		Failing: []engine.Action{failing}, AttemptsBeforePause: 5,
		Blocked:     []engine.Action{{Key: "milestone/deprecate"}, {Key: "runbook/start"}},
		EnginePhase: "active", GatewayPhase: "gone", PhasesDiverge: true}
	var b bytes.Buffer
	writeStatus(&b, s, at("2027-01-07T11:01:00Z"))
	for _, want := range []string{
		"  FAILING:   notice/0 failed 2 of 5 times since 2027-01-07 11:00:03 UTC: notify: contacts of orders-v1: permission denied\n",
		"             next try at 2027-01-07 11:00:33 UTC; the sunset pauses after 5 failures\n",
		"  blocked:   milestone/deprecate, runbook/start (due, waiting behind the failing action / 已到期，被阻塞)\n",
		"  phase:     engine active, gateway gone — they differ (引擎与网关的阶段不一致)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	// Paused after the last attempt: the operator's choices.
	failing.Status, failing.Attempts, failing.RetryAt = engine.ActionHeld, 5, time.Time{}
	s.Failing, s.State, s.PausedFrom = []engine.Action{failing}, engine.StatePaused, engine.StateAnnounced
	b.Reset()
	writeStatus(&b, s, at("2027-01-07T11:05:00Z"))
	want := `waiting for an operator: sunset resume orders-v1 --reason "…" retries it, sunset skip orders-v1 --action notice/0 --reason "…" skips it`
	if !strings.Contains(b.String(), "failed 5 of 5 times") || !strings.Contains(b.String(), want) {
		t.Errorf("paused status lacks the operator's choices:\n%s", b.String())
	}
}
