package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stallPlan's announcement reads a contacts file that is not there: its fan-out fails.
const stallPlan = `
min_notice: 3d
service:
  name: orders-v1
  timezone: UTC
consumers:
  contacts: CONTACTS
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

// TestStatusNamesTheFailingActionAndSkipLetsTheRestRun: against a real server past the
// shutdown instant, `sunset status` names the announcement that cannot read its contacts, with
// its error, the shutdown runbook blocked behind it and the two phases; `sunset skip` with a
// reason lets the timeline run on to shut_down.
func TestStatusNamesTheFailingActionAndSkipLetsTheRestRun(t *testing.T) {
	dir := t.TempDir()
	api := serveWithEnv(t, dir, nil, "--now", "2027-01-07T11:00:00Z")
	cli := clientOf(t, api)
	planFile := filepath.Join(dir, "plan.yaml")
	src := strings.Replace(stallPlan, "CONTACTS", filepath.Join(dir, "missing-contacts.csv"), 1)
	if err := os.WriteFile(planFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := cli("apply", planFile); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	var out string
	status := func(want string) func() bool {
		return func() bool {
			_, out, _ = cli("status", "orders-v1")
			return strings.Contains(out, want)
		}
	}
	eventually(t, "status names the failing action", status("FAILING:"), &out)
	for _, want := range []string{
		"FAILING:   notice/0 failed 1 of 5 times since 2027-01-07 11:00",
		"missing-contacts.csv: no such file or directory",
		"next try at 2027-01-07 11:00",
		"blocked:   milestone/deprecate, milestone/read_only, milestone/shutdown, runbook/start",
		"phase:     engine active, gateway gone — they differ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if _, list, _ := cli("status"); !strings.Contains(list, "FAILING notice/0: ") {
		t.Errorf("the list does not flag the failing action:\n%s", list)
	}
	if code, _, errs := cli("skip", "orders-v1", "--action", "notice/0"); code != 2 || !strings.Contains(errs, "skip needs --reason") {
		t.Errorf("skip without a reason: exit %d: %s", code, errs)
	}
	code, out, errs := cli("skip", "orders-v1", "--action", "notice/0", "--reason", "contacts file lost; customers told by phone")
	if code != 0 || !strings.Contains(out, "skipped notice/0 of orders-v1") {
		t.Fatalf("skip: exit %d\n%s%s", code, out, errs)
	}
	eventually(t, "the sunset shuts down after the skip", status("state:     shut_down"), &out)
	if strings.Contains(out, "FAILING") || strings.Contains(out, "phase:") || !strings.Contains(out, "1 skipped") {
		t.Errorf("after the skip:\n%s", out)
	}
	if _, events, _ := cli("events", "list", "orders-v1"); !strings.Contains(events, "action.skipped") {
		t.Errorf("events lack action.skipped:\n%s", events)
	}
}
