package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/report"
)

// TestRehearseExamplePlan plays the example plan end to end in a few seconds and reads the
// report it wrote: every milestone reached, notices delivered to the local sinks, consumers
// migrated, 410s after the shutdown, the runbook done with its approvals granted by rehearsal
// approvers, and no real endpoint named in the plan left in place.
func TestRehearseExamplePlan(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := run(t, context.Background(), "rehearse", "../../examples/api-v2.yaml",
		"--duration", "4s", "--format", "json", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("the report is not JSON: %v", err)
	}
	done := map[string]bool{}
	for _, e := range rep.Timeline.Entries {
		if e.Kind == "milestone" && e.Status == "done" {
			done[e.Name] = true
		}
	}
	for _, m := range []string{"announce", "deprecate", "read_only", "shutdown", "delete_data"} {
		if !done[m] {
			t.Errorf("milestone %s not reached; done: %v", m, done)
		}
	}
	if rep.Notices.Total.Delivered == 0 {
		t.Errorf("no notice delivered: %+v", rep.Notices.Total)
	}
	if rep.Consumers.Migrated == 0 {
		t.Errorf("no consumer migrated: %+v", rep.Consumers)
	}
	if rep.Stragglers.Requests == 0 {
		t.Errorf("nobody knocked after the shutdown: %+v", rep.Stragglers)
	}
	if rep.Runbook.State != "done" {
		t.Errorf("runbook %s, want done: %+v", rep.Runbook.State, rep.Runbook.Steps)
	}
	if !strings.Contains(rep.Lessons.Text, "This report comes from a rehearsal") || !strings.Contains(rep.Lessons.Text, "runbook: done") {
		t.Errorf("the report does not say it comes from a rehearsal: %q", rep.Lessons.Text)
	}
	if rep.Feedback.Total == 0 {
		t.Errorf("no feedback arrived through the API")
	}
	// The live progress: a line per milestone, 410s counted after the shutdown, approvals by
	// named rehearsal approvers, and the list of what was replaced.
	for _, want := range []string{
		"shutdown    answers while read_only",
		"approved by rehearsal approver 1 (rehearsal)",
		"runbook stop                     exec systemctl stop orders-api → POST",
		"channels.webhooks.partners       https://hooks.example.com/sunset → http://127.0.0.1:",
		"milestones reached   announce, deprecate, read_only, shutdown, delete_data",
		"requests to the alternative's stand-in",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
	}
	if gone := shutDownGone(stderr); gone == 0 {
		t.Errorf("no 410 counted while shut down:\n%s", stderr)
	}
}

// shutDownGone reads the 410 count of the shut_down row of the summary.
func shutDownGone(stderr string) int {
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && f[0] == "shut_down" {
			var n int
			if err := json.Unmarshal([]byte(f[3]), &n); err == nil {
				return n
			}
		}
	}
	return 0
}

// TestRehearseRefusesABadPlan says what is wrong and plays nothing.
func TestRehearseRefusesABadPlan(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("service: {name: x}\nmilestones: {shutdown: not-a-date}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, context.Background(), "rehearse", bad, "--out", filepath.Join(t.TempDir(), "r.html"))
	if code != 1 || !strings.Contains(stderr, "is not a valid plan; nothing was rehearsed") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestRehearseStopsCleanlyOnInterrupt: Ctrl-C (the context ending) stops the play, says where
// it stopped, and still writes the report of what was played — here in Chinese, progress and
// report alike.
func TestRehearseStopsCleanlyOnInterrupt(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "report.md")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	code, _, stderr := run(t, ctx, "rehearse", "../../examples/api-v2.yaml", "--duration", "60s", "--format", "md", "--lang", "zh", "--out", out)
	if code != 1 || !strings.Contains(stderr, "演练在 2027-") || !strings.Contains(stderr, "不会触碰任何真实端点") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no report after an interrupt: %v", err)
	}
	if !strings.Contains(string(b), "# 下线评估报告: 订单 API v1") {
		t.Errorf("report:\n%.500s", b)
	}
}

// TestRehearseUsageErrors: wrong flags are usage errors (exit 2) that say what to write.
func TestRehearseUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "pdf"}, `--format "pdf": use html, md or json`},
		{[]string{"--lang", "fr"}, `--lang "fr": use en or zh`},
		{[]string{"--speed", "-3"}, "--speed must be positive"},
		{[]string{"--duration", "0s"}, "--duration longer than zero"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			args := append([]string{"rehearse", "../../examples/api-v2.yaml"}, tc.args...)
			code, _, stderr := run(t, context.Background(), args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr: %s", code, stderr)
			}
		})
	}
}

// TestRehearseFailsWhenTheRunbookFails: a runbook that cannot finish (here an exports check
// with no export run) is reported on the way and makes the rehearsal exit 1, report written.
func TestRehearseFailsWhenTheRunbookFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	raw, err := os.ReadFile("../../examples/api-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	contacts, err := os.ReadFile("../../examples/orders-contacts.csv")
	if err != nil {
		t.Fatal(err)
	}
	planText := strings.Replace(string(raw), "  - {name: sign-off,", "  - {name: exports-done, exports: check}\n  - {name: sign-off,", 1)
	for name, data := range map[string]string{"plan.yaml": planText, "orders-contacts.csv": string(contacts)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "report.md")
	code, _, stderr := run(t, context.Background(), "rehearse", filepath.Join(dir, "plan.yaml"), "--duration", "3s", "--format", "md", "--out", out)
	if code != 1 || !strings.Contains(stderr, "runbook     exports-done: failed") || !strings.Contains(stderr, "the runbook ended failed") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatalf("no report: %v", err)
	}
}
