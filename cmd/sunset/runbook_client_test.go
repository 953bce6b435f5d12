package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// clientIn runs CLI commands with the working directory dir and $SUNSET_SERVER set to server, as
// an operator does from any folder; after each command it checks that dir is still empty.
func clientIn(t *testing.T, dir, server string) func(args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(dir)
	env := map[string]string{"SUNSET_SERVER": server, "SUNSET_ACTOR": "li.wei"}
	return func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
		code := m.Run(context.Background(), args)
		if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("%v left files in the folder it ran in: %v %v", args, names, err)
		}
		return code, out.String(), errb.String()
	}
}

// clientPlan writes a plan whose runbook takes a verified backup of a directory, waits for one
// approval and then runs a command that leaves a mark; it returns the plan's path and the mark.
func clientPlan(t *testing.T) (path, mark string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o700)
	os.WriteFile(filepath.Join(src, "orders.csv"), []byte("id,total\n1,20\n2,35\n"), 0o600)
	mark = filepath.Join(dir, "stopped.log")
	path = filepath.Join(dir, "sunset.yaml")
	os.WriteFile(path, fmt.Appendf(nil, `service:
  name: files-v1
milestones:
  announce: 2030-01-07T10:00
  deprecate: 2030-01-07T10:00
  shutdown: 2030-03-04T02:00
data:
  backups: [{name: files, source: {dir: %s}, to: "file://%s/backups"}]
runbook:
  - {name: final-backup, backup: files, verify: true}
  - {name: sign-off, approval: {role: approver, count: 1}}
  - {name: stop, exec: [sh, -c, "echo stopped >> %s"]}
`, src, dir, mark), 0o600)
	return path, mark
}

// TestRunbookAndBackupCommandsAreClientsOfTheServer runs every runbook and backup command from an
// empty folder with $SUNSET_SERVER set: each answers from the server (where the sunset, its keys
// and its data are), the run goes on by itself after its last approval, and the folder stays
// empty.
func TestRunbookAndBackupCommandsAreClientsOfTheServer(t *testing.T) {
	// Serial: it runs the CLI from an empty folder (t.Chdir), which is the process's.
	serverDir := t.TempDir()
	api := serveWithEnv(t, serverDir, map[string]string{"SUNSET_BACKUP_KEY": "0123456789abcdef-client-test"}, "--example=false")
	planPath, mark := clientPlan(t)
	if code, out, errs := run(t, context.Background(), "apply", planPath, "--server", api); code != 0 {
		t.Fatalf("apply: exit %d %s%s", code, out, errs)
	}
	cli := clientIn(t, t.TempDir(), api)

	code, out, errs := cli("runbook", "status", "files-v1")
	if code != 1 || !strings.Contains(errs, "Sunset files-v1 has no runbook run; start one with: sunset runbook run files-v1") {
		t.Fatalf("status before any run: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs = cli("runbook", "status", "nope"); code != 1 || !strings.Contains(errs, "nope") || strings.Contains(errs, "cannot reach") {
		t.Fatalf("status of an unknown sunset: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = cli("runbook", "run", "files-v1", "--dry-run")
	if code != 0 || !strings.Contains(out, "Runbook of files-v1: the plan's runbook, 3 steps") ||
		!strings.Contains(out, "back up files and verify by restoring") || !strings.Contains(out, "Dry run: nothing was executed.") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}

	// The run: the server takes the verified backup, then the run waits for the approval.
	code, out, errs = cli("runbook", "run", "files-v1")
	if code != 1 || !strings.Contains(out, "run 1 of the files-v1 runbook started by li.wei (3 steps)") ||
		!strings.Contains(out, "[final-backup] done") || !strings.Contains(out, "Run 1 is waiting_approval: step sign-off waits for approval") {
		t.Fatalf("runbook run: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs = cli("runbook", "run", "files-v1"); code != 1 || !strings.Contains(errs, "already has run 1, which is waiting_approval") {
		t.Fatalf("a second run while the first waits: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = cli("runbook", "status", "files-v1")
	if code != 0 || !strings.Contains(out, "Run 1 of files-v1: waiting_approval (started by li.wei") ||
		!regexpMatch(out, `final-backup\s+backup\s+done\s+attempts 1\s+archive files-`) {
		t.Fatalf("runbook status: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(mark); !os.IsNotExist(err) {
		t.Fatalf("the stop step ran before the approval: %v", err)
	}

	// The last approval arrives and the run goes on by itself: no resume.
	// approve follows the run (only what comes after the approval) until it is done.
	code, out, errs = cli("runbook", "approve", "files-v1", "--step", "sign-off", "--as", "zhang.min")
	if code != 0 || !strings.Contains(out, "Approved step sign-off of run 1 of files-v1.") || !strings.Contains(out, "[stop] done") ||
		!strings.HasSuffix(out, "Run 1 is done.\n") || strings.Contains(out, "started by") {
		t.Fatalf("approve: exit %d\n%s%s", code, out, errs)
	}
	_, last, _ := cli("runbook", "status", "files-v1")
	if !strings.HasPrefix(last, "Run 1 of files-v1: done") {
		t.Fatalf("status after the approval:\n%s", last)
	}
	if !strings.Contains(last, "approved sign-off by zhang.min (approver)") {
		t.Errorf("status does not show the approval:\n%s", last)
	}
	if b, err := os.ReadFile(mark); err != nil || string(b) != "stopped\n" {
		t.Errorf("the stop step ran %q, %v; want once", b, err)
	}
	if code, out, errs = cli("runbook", "resume", "files-v1", "--retry"); code != 1 || !strings.Contains(errs, "Run 1 of files-v1 has ended (done)") {
		t.Errorf("resume of a done run: exit %d\n%s%s", code, out, errs)
	}

	// Backups: the server takes the declared one with its key, and lists what is there.
	code, out, errs = cli("backup", "create", "files-v1", "--verify")
	if code != 0 || !regexpMatch(out, `(?m)^files: files-\S+, verified`) {
		t.Fatalf("backup create: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs = cli("backup", "create", "files-v1", "--backup", "nope"); code != 1 || !strings.Contains(errs, `declares no backup "nope"; its backups are: files`) {
		t.Errorf("backup create of an undeclared backup: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = cli("backup", "list", "files-v1")
	if code != 0 || !strings.Contains(out, "files → file://") || !strings.Contains(out, ": 2 archives") ||
		!strings.Contains(out, "last backup job: done, started by li.wei") {
		t.Fatalf("backup list: exit %d\n%s%s", code, out, errs)
	}

	// A second run, aborted while it goes on.
	if code, out, errs = cli("runbook", "run", "files-v1", "--detach"); code != 0 && code != 1 {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs = cli("runbook", "abort", "files-v1"); code != 2 || !strings.Contains(errs, "abort needs --reason") {
		t.Errorf("abort without a reason: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = cli("runbook", "abort", "files-v1", "--reason", "postponed")
	if code != 0 || !strings.Contains(out, "Run 2 of files-v1 is aborted: aborted by li.wei: postponed") {
		t.Fatalf("abort: exit %d\n%s%s", code, out, errs)
	}

	// A third run, approved with the operator UI's approve button: it goes on by itself too.
	if code, out, errs = cli("runbook", "run", "files-v1"); code != 1 || !strings.Contains(out, "Run 3 is waiting_approval") {
		t.Fatalf("third run: exit %d\n%s%s", code, out, errs)
	}
	resp, err := http.PostForm(api+"/s/files-v1/approvals", url.Values{"step": {"sign-off"}, "actor": {"wang.fang"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.RawQuery, "done=approved") {
		t.Fatalf("the approve form answered %d at %s", resp.StatusCode, resp.Request.URL)
	}
	eventually(t, "the third run is done without a resume", func() bool {
		_, last, _ = cli("runbook", "status", "files-v1")
		return strings.HasPrefix(last, "Run 3 of files-v1: done")
	}, &last)
	if b, err := os.ReadFile(mark); err != nil || string(b) != "stopped\nstopped\n" {
		t.Errorf("the stop step ran %q, %v; want once per finished run (twice)", b, err)
	}

	// Everything is on the sunset's record.
	code, out, errs = cli("events", "list", "files-v1")
	for _, typ := range []string{"runbook.started", "runbook.approved", "runbook.done", "backup.created", "runbook.aborted"} {
		if code != 0 || !strings.Contains(out, typ) {
			t.Errorf("events: exit %d, no %s event:\n%s%s", code, typ, out, errs)
		}
	}
}

// TestRunbookAndBackupCommandsAgainstADeadServer: each client command says the one
// unreachable-server sentence and creates nothing.
func TestRunbookAndBackupCommandsAgainstADeadServer(t *testing.T) {
	// Serial: it runs the CLI from an empty folder (t.Chdir), which is the process's.
	dead := "http://127.0.0.1:1"
	cli := clientIn(t, t.TempDir(), dead)
	for _, args := range [][]string{
		{"runbook", "run", "files-v1"},
		{"runbook", "run", "files-v1", "--dry-run"},
		{"runbook", "status", "files-v1"},
		{"runbook", "approve", "files-v1", "--step", "sign-off"},
		{"runbook", "resume", "files-v1", "--mark-done"},
		{"runbook", "abort", "files-v1", "--reason", "postponed"},
		{"backup", "create", "files-v1"},
		{"backup", "list", "files-v1"},
	} {
		code, out, errs := cli(args...)
		want := "cannot reach the Sunset server at " + dead + ": is `sunset serve` running? (use --server to point elsewhere)"
		if code != 1 || !strings.Contains(errs, want) || out != "" {
			t.Errorf("%v: exit %d\nstdout: %s\nstderr: %s\nwant exit 1 and %q", args, code, out, errs, want)
		}
	}
}

// regexpMatch reports whether s matches the regular expression re.
func regexpMatch(s, re string) bool {
	return regexp.MustCompile(re).MatchString(s)
}
