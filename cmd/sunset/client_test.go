package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// emptyFolder makes the test run in a new empty folder (the working directory of a user who
// runs client commands away from the server) and returns it.
func emptyFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

// assertEmpty fails when a command left a file in dir: client commands create no database, no
// cache, nothing.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("a client command left %s in its working folder", e.Name())
	}
}

// serveWithEnv runs `sunset serve` in-process on a free loopback port, on a database in dir,
// with env as its environment (the keys it holds), and returns its URL; it stops with the test.
func serveWithEnv(t *testing.T, dir string, env map[string]string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out, errb syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, ready: ready}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(dir, "sunset.db"), "--log-level", "warn"}, extra...))
	}()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d: %s", code, errb.String())
			}
		})
		return "http://" + addr
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d before listening:\n%s%s", code, out.String(), errb.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start in 30s")
	}
	return ""
}

// clientOf returns a function that runs a command of the CLI with $SUNSET_SERVER set to api (and
// $SUNSET_ACTOR to tester), as a user's shell would, and returns its exit code, stdout and stderr.
func clientOf(t *testing.T, api string) func(args ...string) (int, string, string) {
	return func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
			switch k {
			case "SUNSET_SERVER":
				return api
			case "SUNSET_ACTOR":
				return "tester"
			}
			return ""
		}}
		code := m.Run(context.Background(), args)
		return code, out.String(), errb.String()
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use: a server logs while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// clientCommands are the arguments of one call of every client command of the CLI, by command
// path: TestEveryClientCommandSaysWhenTheServerIsUnreachable runs each against a dead server.
// FILE stands for a CSV or text file outside the working folder, LOG for an access log, PLAN for
// the example plan. A
// command that gains --server needs a row here.
var clientCommands = map[string][]string{
	"sunset apply":                 {"apply", "PLAN"},
	"sunset status":                {"status"},
	"sunset pause":                 {"pause", "orders-api-v1", "--reason", "Acme asked for time"},
	"sunset resume":                {"resume", "orders-api-v1", "--reason", "Acme migrated"},
	"sunset skip":                  {"skip", "orders-api-v1", "--action", "notice/0", "--reason", "told by phone"},
	"sunset cancel":                {"cancel", "orders-api-v1", "--reason", "kept after all"},
	"sunset signoff":               {"signoff", "orders-api-v1", "--as", "legal"},
	"sunset replan":                {"replan", "orders-api-v1", "--shift", "7d", "--reason", "Acme needs time"},
	"sunset guardrails":            {"guardrails", "orders-api-v1"},
	"sunset events list":           {"events", "list", "orders-api-v1"},
	"sunset events verify":         {"events", "verify", "orders-api-v1"},
	"sunset feedback summary":      {"feedback", "summary", "orders-api-v1"},
	"sunset feedback import":       {"feedback", "import", "orders-api-v1", "FILE"},
	"sunset notify status":         {"notify", "status", "orders-api-v1"},
	"sunset notify tasks":          {"notify", "tasks", "orders-api-v1"},
	"sunset report":                {"report", "orders-api-v1"},
	"sunset report lessons":        {"report", "lessons", "orders-api-v1", "--file", "FILE"},
	"sunset plan new":              {"plan", "new", "--from", "orders-api-v1"},
	"sunset usage analyze":         {"usage", "analyze", "LOG", "--sunset", "orders-api-v1", "--server", "SERVER"},
	"sunset export run":            {"export", "run", "orders-api-v1"},
	"sunset export status":         {"export", "status", "orders-api-v1"},
	"sunset export check":          {"export", "check", "orders-api-v1"},
	"sunset export keep":           {"export", "keep", "orders-api-v1"},
	"sunset export link":           {"export", "link", "orders-api-v1", "acme-prod"},
	"sunset export approve-delete": {"export", "approve-delete", "orders-api-v1", "--as", "li.wei"},
	"sunset export delete":         {"export", "delete", "orders-api-v1", "--as", "li.wei"},
	"sunset runbook run":           {"runbook", "run", "orders-api-v1"},
	"sunset runbook status":        {"runbook", "status", "orders-api-v1"},
	"sunset runbook approve":       {"runbook", "approve", "orders-api-v1", "--step", "sign-off", "--as", "li.wei", "--role", "approver"},
	"sunset runbook resume":        {"runbook", "resume", "orders-api-v1"},
	"sunset runbook abort":         {"runbook", "abort", "orders-api-v1", "--reason", "wrong day"},
	"sunset backup create":         {"backup", "create", "orders-api-v1", "--backup", "main-db", "--verify"},
	"sunset backup list":           {"backup", "list", "orders-api-v1"},
	"sunset contacts list":         {"contacts", "list", "orders-api-v1"},
	"sunset contacts erase":        {"contacts", "erase", "orders-api-v1", "acme-prod"},
}

// notClients are the commands with a --server flag that are no clients of the Sunset server.
var notClients = map[string]string{
	"sunset gateway": "a reverse proxy that keeps enforcing its last policy while the control plane is down",
}

// TestEveryClientCommandSaysWhenTheServerIsUnreachable runs every client command of the CLI (every
// command with --server) against a dead server named by $SUNSET_SERVER, from an empty folder:
// each says the one unreachable-server sentence, exits 1, and leaves no file behind (no
// database is opened in its stead).
func TestEveryClientCommandSaysWhenTheServerIsUnreachable(t *testing.T) {
	// Serial: it runs the CLI from an empty folder (t.Chdir), which is the process's.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	inputs := t.TempDir()
	file, log := filepath.Join(inputs, "input.csv"), filepath.Join(inputs, "access.log")
	if err := os.WriteFile(file, []byte("received_at,text\n2026-12-01T08:00:00Z,We still need the export\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(log, []byte("127.0.0.1 - - [10/Oct/2026:13:55:36 +0000] \"GET /v1/orders HTTP/1.1\" 200 2326 \"-\" \"curl/8\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	example, err := filepath.Abs("../../examples/api-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	folder := emptyFolder(t)
	want := "sunset: cannot reach the Sunset server at " + dead + ": is `sunset serve` running? (use --server to point elsewhere)\n"

	var paths []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && (c.Flags().Lookup("server") != nil || c.InheritedFlags().Lookup("server") != nil) {
			paths = append(paths, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewMain().rootCommand())
	ran := 0
	for _, path := range paths {
		if _, ok := notClients[path]; ok {
			continue
		}
		args, ok := clientCommands[path]
		if !ok {
			t.Errorf("%s is a client command (it has --server) without a row in clientCommands", path)
			continue
		}
		ran++
		t.Run(path, func(t *testing.T) {
			args = slices.Clone(args)
			for i, a := range args {
				switch a {
				case "FILE":
					args[i] = file
				case "LOG":
					args[i] = log
				case "PLAN":
					args[i] = example
				case "SERVER":
					args[i] = dead
				}
			}
			code, _, errs := clientOf(t, dead)(args...)
			if code != 1 || !strings.HasSuffix(errs, want) || strings.Count(errs, "cannot reach") != 1 {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and the last line %q", code, errs, want)
			}
			assertEmpty(t, folder)
		})
	}
	if ran < 20 {
		t.Errorf("only %d client commands found; the walk misses some", ran)
	}
}

// TestClientCommandsAnswerFromAnEmptyFolder runs the reading and feedback commands against a
// real server from an empty folder with $SUNSET_SERVER: they answer from the server's database
// and leave the folder empty.
func TestClientCommandsAnswerFromAnEmptyFolder(t *testing.T) {
	// Serial: it runs the CLI from an empty folder (t.Chdir), which is the process's.
	api := serveWithEnv(t, t.TempDir(), nil, "--now", "2027-01-06T12:00:00+08:00")
	csv := filepath.Join(t.TempDir(), "feedback.csv")
	if err := os.WriteFile(csv, []byte("received_at,text,rating\n2027-01-06T08:00:00Z,We still need the export,2\n2027-01-06T09:00:00Z,我们需要更多时间迁移,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := emptyFolder(t)
	cli := clientOf(t, api)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status"}, "orders-api-v1"},
		{[]string{"signoff", "orders-api-v1", "--as", "support"}, "draft"},
		{[]string{"events", "list", "orders-api-v1"}, "stakeholder.signed_off"},
		{[]string{"events", "verify", "orders-api-v1"}, "chain intact"},
		{[]string{"feedback", "import", "orders-api-v1", csv}, "imported 2 messages into orders-api-v1"},
		{[]string{"feedback", "summary", "orders-api-v1"}, "orders-api-v1: 2 messages, 100% negative"},
		{[]string{"guardrails", "orders-api-v1"}, "feedback.negative_ratio > 0.4 over 24h"},
		{[]string{"notify", "status", "orders-api-v1"}, "Notices of orders-api-v1"},
		{[]string{"notify", "tasks", "orders-api-v1", "--now", "2026-12-01"}, "milestone/shutdown"},
		{[]string{"report", "orders-api-v1", "--assessment"}, "# Impact assessment: Orders API v1"},
		{[]string{"export", "status", "orders-api-v1"}, "No export job for orders-api-v1 yet"},
		{[]string{"export", "check", "orders-api-v1"}, "no export job has run"},
	} {
		code, out, errs := cli(tc.args...)
		wantCode := 0
		if tc.args[0] == "export" && tc.args[1] == "check" {
			wantCode = 1 // nothing exported yet
		}
		if code != wantCode || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, want %d with %q:\n%s%s", strings.Join(tc.args, " "), code, wantCode, tc.want, out, errs)
		}
	}
	assertEmpty(t, folder)
}
