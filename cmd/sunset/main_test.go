package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// run executes the CLI in-process and returns its exit status, stdout and stderr.
func run(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "SUNSET_ACTOR" {
			return "tester"
		}
		return ""
	}}
	code := m.Run(ctx, args)
	return code, out.String(), errb.String()
}

func TestPlanValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("valid examples exit 0 with a summary line each", func(t *testing.T) {
		// As of a day before the examples begin: no action is in the past yet.
		code, out, errs := run(t, ctx, "plan", "validate", "--now", "2026-12-01T00:00:00Z", "../../examples/api-v2.yaml", "../../examples/webapp-closing.yaml")
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "api-v2.yaml: ok: orders-api-v1") || !strings.Contains(lines[1], "webapp-closing.yaml: ok: moments-album") {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("actions already past at --now are warnings, not errors", func(t *testing.T) {
		code, out, errs := run(t, ctx, "plan", "validate", "--now", "2027-01-06T00:00:00+08:00", "../../examples/api-v2.yaml")
		if code != 0 {
			t.Fatalf("exit %d, want 0 (warnings only)\n%s%s", code, out, errs)
		}
		for _, want := range []string{
			"api-v2.yaml:", "milestones.announce: warning: milestone announce at 2027-01-05 10:00 CST is before now (2027-01-06 00:00 CST): applied now, it runs at once and the report counts it as skipped (before apply), not late",
			"api-v2.yaml: ok: orders-api-v1",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "shutdown: warning") {
			t.Errorf("the shutdown, still ahead, is warned of:\n%s", out)
		}
	})
	t.Run("an invalid plan exits 1 and prints every problem as FILE:LINE:COL: path: message", func(t *testing.T) {
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.yaml")
		os.WriteFile(bad, []byte("service:\n  nmae: orders\n  timezone: Mars/Olympus\nmilestones:\n  announce: 2027-03-01\n  shutdown: 2027-02-01\n"), 0o644)
		code, out, _ := run(t, ctx, "plan", "validate", bad)
		if code != 1 {
			t.Fatalf("exit %d, want 1\n%s", code, out)
		}
		re := regexp.MustCompile(`^` + regexp.QuoteMeta(bad) + `:\d+:\d+: [a-z_.\[\]0-9]+: .+`)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 3 {
			t.Fatalf("want at least 3 problems (unknown key, time zone, order), got:\n%s", out)
		}
		for _, l := range lines {
			if !re.MatchString(l) {
				t.Errorf("line %q is not FILE:LINE:COL: path: message", l)
			}
		}
		for _, want := range []string{`did you mean "name"`, "Mars/Olympus", "service.name"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("a tier no contact has is refused at its line and column", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte("id,email,tier\nacme,ops@acme.example.com,standard\n"), 0o644)
		f := filepath.Join(dir, "sunset.yaml")
		os.WriteFile(f, []byte(`service: {name: demo-api}
consumers: {contacts: contacts.csv}
milestones: {announce: 2027-01-04T10:00, deprecate: 2027-01-04T10:00, shutdown: 2027-03-01T02:00}
guardrails:
  - {when: "consumers.active{tier=critical} > 0", from: shutdown-3d}
`), 0o644)
		code, out, _ := run(t, ctx, "plan", "validate", f)
		want := f + `:5:12: guardrails[0].when: no contact of contacts.csv has tier "critical", so the guardrail would never see one; they have: standard`
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d, output:\n%s\nwant a line with %q", code, out, want)
		}
	})
	t.Run("a missing file exits 1 with its name", func(t *testing.T) {
		code, out, _ := run(t, ctx, "plan", "validate", "no-such-plan.yaml")
		if code != 1 || !strings.Contains(out, "no-such-plan.yaml") {
			t.Errorf("exit %d, output %q", code, out)
		}
	})
	t.Run("no file is a usage error", func(t *testing.T) {
		if code, _, errs := run(t, ctx, "plan", "validate"); code != 2 || !strings.Contains(errs, "--help") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
	t.Run("json output", func(t *testing.T) {
		code, out, _ := run(t, ctx, "plan", "validate", "--format", "json", "../../examples/api-v2.yaml")
		var res []struct {
			File  string `json:"file"`
			Valid bool   `json:"valid"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res) != 1 || !res[0].Valid {
			t.Errorf("exit %d, output %s", code, out)
		}
	})
}

func TestPlanTimeline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("json has exactly the documented shape", func(t *testing.T) {
		code, out, errs := run(t, ctx, "plan", "timeline", "--format", "json", "../../examples/api-v2.yaml")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc) != 3 || doc["service"] == nil || doc["timezone"] == nil || doc["actions"] == nil {
			t.Fatalf("top-level keys: %v", keys(doc))
		}
		var acts []map[string]string
		if err := json.Unmarshal(doc["actions"], &acts); err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{"milestone": true, "feature": true, "brownout": true, "notice": true, "guardrail": true, "runbook": true, "data": true}
		milestones := map[string]bool{}
		var prev time.Time
		for _, a := range acts {
			if len(a) != 4 {
				t.Errorf("action keys %v, want at, kind, name, detail", a)
			}
			at, err := time.Parse(time.RFC3339, a["at"])
			if err != nil {
				t.Errorf("at %q: %v", a["at"], err)
			}
			if !strings.HasSuffix(a["at"], "+08:00") {
				t.Errorf("at %q is not in the plan's zone (Asia/Shanghai)", a["at"])
			}
			if at.Before(prev) {
				t.Errorf("actions not sorted: %s after %s", a["at"], prev)
			}
			prev = at
			if !kinds[a["kind"]] {
				t.Errorf("kind %q", a["kind"])
			}
			if a["kind"] == "milestone" {
				milestones[a["name"]] = true
			}
		}
		for _, m := range []string{"announce", "deprecate", "read_only", "shutdown", "delete_data"} {
			if !milestones[m] {
				t.Errorf("milestone %s missing", m)
			}
		}
	})
	t.Run("text shows the now marker inside the span", func(t *testing.T) {
		code, out, _ := run(t, ctx, "--now", "2027-02-20T10:00:00+08:00", "plan", "timeline", "../../examples/api-v2.yaml")
		if code != 0 || !strings.Contains(out, "orders-api-v1") || !strings.Contains(out, "2027-02-20 10:00") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
	t.Run("an invalid --now is a usage error", func(t *testing.T) {
		if code, _, _ := run(t, ctx, "--now", "tomorrow", "plan", "timeline", "../../examples/api-v2.yaml"); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPlanSchemaMatchesCommittedCopy(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, context.Background(), "plan", "schema")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	committed, err := os.ReadFile("../../docs/sunset.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(committed), bytes.TrimSpace([]byte(out))) {
		t.Error("docs/sunset.schema.json is stale: go run ./cmd/sunset plan schema > docs/sunset.schema.json")
	}
}

// TestEveryCommandTeaches keeps --help useful: every command has a short description and a
// real example.
func TestEveryCommandTeaches(t *testing.T) {
	t.Parallel()
	m := NewMain()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || strings.HasPrefix(c.CommandPath(), "sunset completion") {
			return
		}
		if c.Short == "" {
			t.Errorf("%s has no short description", c.CommandPath())
		}
		if !strings.Contains(c.Example, "sunset ") {
			t.Errorf("%s --help shows no example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(m.rootCommand())
}

// server runs `sunset serve` in-process on a free loopback port and returns its URL and a stop
// function that waits for it to exit.
func server(t *testing.T, db string, extra ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, ready: ready}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--log-level", "warn"}, extra...))
	}()
	select {
	case addr := <-ready:
		stop := func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d: %s", code, errb.String())
			}
		}
		return "http://" + addr, stop
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d before listening:\n%s%s", code, out.String(), errb.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start in 30s")
	}
	return "", nil
}

func TestServeAndSteerFromTheCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "sunset.db")
	url, stop := server(t, db)
	cli := func(args ...string) (int, string, string) {
		return run(t, ctx, append(args, "--server", url)...)
	}

	code, out, errs := cli("status")
	if code != 0 || !strings.Contains(out, "orders-api-v1") || !strings.Contains(out, "draft") {
		t.Fatalf("status on a fresh server: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := cli("signoff", "orders-api-v1", "--as", "support"); code != 0 || !strings.Contains(out, "draft") {
		t.Errorf("first signoff: exit %d %s", code, out)
	}
	if code, out, _ := cli("signoff", "orders-api-v1", "--as", "legal"); code != 0 || !strings.Contains(out, "scheduled") {
		t.Errorf("last signoff: exit %d %s", code, out)
	}
	if code, _, errs := cli("signoff", "orders-api-v1", "--as", "legal"); code != 1 || !strings.Contains(errs, "already signed off") {
		t.Errorf("double signoff: exit %d %s", code, errs)
	}
	if code, out, _ := cli("pause", "orders-api-v1", "--reason", "Acme asked for time"); code != 0 || !strings.Contains(out, "paused") {
		t.Errorf("pause: exit %d %s", code, out)
	}
	if code, _, _ := cli("resume", "orders-api-v1"); code != 2 {
		t.Errorf("resume without a reason: exit %d, want 2", code)
	}
	if code, out, _ := cli("resume", "orders-api-v1", "--reason", "Acme migrated"); code != 0 || !strings.Contains(out, "scheduled") {
		t.Errorf("resume: exit %d %s", code, out)
	}
	if code, out, errs := cli("apply", "../../examples/webapp-closing.yaml"); code != 0 || !strings.Contains(out, "created sunset moments-album") {
		t.Errorf("apply: exit %d %s%s", code, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("service: {name: broken}\nmilestones: {announce: 2027-05-01, shutdown: 2027-04-01}\nfeatures: [{name: a, routes: ['GET /x/{id']}]\n"), 0o644)
	code, _, errs = cli("apply", bad)
	if code != 1 || strings.Count(errs, bad+":") < 2 {
		t.Errorf("apply of an invalid plan: exit %d, want 1 and every problem with its place:\n%s", code, errs)
	}
	if code, out, errs := cli("replan", "orders-api-v1", "--shift", "14d", "--reason", "Acme needs time"); code != 0 || !strings.Contains(out, "milestones.shutdown") || !strings.Contains(out, "2027-03-29 02:00 +08:00") {
		t.Errorf("replan: exit %d %s%s", code, out, errs)
	}
	if code, _, _ := cli("replan", "orders-api-v1", "--shift", "14d"); code != 2 {
		t.Errorf("replan without a reason: exit %d, want 2", code)
	}
	if code, out, _ := cli("guardrails", "orders-api-v1"); code != 0 || !strings.Contains(out, "feedback.negative_ratio > 0.4 over 24h") || !strings.Contains(out, "no data") {
		t.Errorf("guardrails: exit %d %s", code, out)
	}
	if code, out, _ := cli("events", "verify", "orders-api-v1"); code != 0 || !strings.Contains(out, "chain intact") {
		t.Errorf("events verify: exit %d %s", code, out)
	}
	if code, out, _ := cli("events", "list", "orders-api-v1"); code != 0 || !strings.Contains(out, "stakeholder.signed_off") || !strings.Contains(out, "tester") {
		t.Errorf("events list: exit %d %s", code, out)
	}
	if code, _, errs := cli("status", "no-such-sunset"); code != 1 || !strings.Contains(errs, "no-such-sunset") {
		t.Errorf("status of an unknown sunset: exit %d %s", code, errs)
	}
	stop()

	// After a restart the state is where it was, and the example is not loaded twice.
	url, stop = server(t, db)
	defer stop()
	code, out, _ = run(t, ctx, "status", "--server", url, "--format", "json")
	var all []struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		Revision int    `json:"revision"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &all) != nil || len(all) != 2 {
		t.Fatalf("status after restart: exit %d %s", code, out)
	}
	if all[1].Name != "orders-api-v1" || all[1].State != "scheduled" || all[1].Revision != 2 {
		t.Errorf("after restart: %+v", all)
	}
}

func TestCLIWithoutServerSaysWhatToDo(t *testing.T) {
	t.Parallel()
	code, _, errs := run(t, context.Background(), "status", "--server", "http://127.0.0.1:1")
	if code != 1 || !strings.Contains(errs, "sunset serve") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// TestPauseAndResumeNeedAReason: both are refused before any call when --reason is missing.
func TestPauseAndResumeNeedAReason(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"pause", "resume"} {
		code, _, errs := run(t, context.Background(), cmd, "orders-api-v1", "--reason", " ", "--server", "http://127.0.0.1:1")
		if code != 2 || !strings.Contains(errs, cmd+" needs --reason") {
			t.Errorf("%s without a reason: exit %d: %s", cmd, code, errs)
		}
	}
}

func TestServeRefusesNonLoopbackWithoutAuth(t *testing.T) {
	t.Parallel()
	code, _, errs := run(t, context.Background(), "serve", "--addr", "0.0.0.0:0", "--db", "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if code != 1 || !strings.Contains(errs, "loopback") {
		t.Errorf("exit %d: %s", code, errs)
	}
}
