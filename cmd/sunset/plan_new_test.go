package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// fillTODOs does what a person does with a new plan: names the service and writes its texts.
func fillTODOs(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "name: TODO", "name: billing-v1", 1)
	s = strings.NewReplacer("TODO: ", "", "TODO：", "").Replace(s)
	filled := filepath.Join(t.TempDir(), "filled.yaml")
	if err := os.WriteFile(filled, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return filled
}

// mustRefuseTODOs checks that validate refuses a plan still holding its TODO markers, naming them.
func mustRefuseTODOs(t *testing.T, path string) {
	t.Helper()
	code, out, errs := run(t, context.Background(), "plan", "validate", path)
	if code != 1 || !strings.Contains(out+errs, "service.name") || !strings.Contains(out+errs, "service.title.en: replace the TODO marker") {
		t.Fatalf("validate of an unfilled plan: exit %d\n%s%s", code, out, errs)
	}
}

func TestPlanNewStarter(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "sunset.yaml")
	code, _, errs := run(t, context.Background(), "plan", "new", "--now", "2026-11-26T09:00:00Z", "-o", out)
	if code != 0 {
		t.Fatalf("plan new: exit %d: %s", code, errs)
	}
	mustRefuseTODOs(t, out)
	filled := fillTODOs(t, out)
	code, stdout, errs := run(t, context.Background(), "plan", "validate", filled)
	if code != 0 {
		t.Fatalf("the filled starter plan does not validate: %s%s", stdout, errs)
	}
	p, _ := plan.ParseFile(filled)
	tl, err := p.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if got := milestoneAt(tl, plan.Announce); !got.Equal(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("announce %v, want a week from --now at 10:00", got)
	}
	if code, _, errs := run(t, context.Background(), "plan", "new", "-o", out); code != 1 || !strings.Contains(errs, "exists; pass --force") {
		t.Errorf("overwriting without --force: exit %d %s", code, errs)
	}
}

// TestPlanNewFromPastSunset starts a plan from the example sunset through the server, from an
// empty folder with $SUNSET_SERVER: same structure, dates moved with their offsets kept, TODO
// markers, and the past sunset's figures and lessons at the top. Without --announce the new
// plan is announced a week after the server's today.
func TestPlanNewFromPastSunset(t *testing.T) {
	// Serial: it runs the CLI from an empty folder (t.Chdir), which is the process's.
	example, err := filepath.Abs("../../examples/api-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	url := serveWithEnv(t, dir, nil, "--now", "2026-11-26T09:00:00Z")
	lessons := filepath.Join(dir, "lessons.md")
	if err := os.WriteFile(lessons, []byte("Call critical customers before the first brownout.\n提前一周电话通知关键客户。\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, context.Background(), "report", "lessons", "orders-api-v1", "--file", lessons, "--server", url); code != 0 {
		t.Fatalf("report lessons: exit %d %s%s", code, out, errs)
	}
	folder := emptyFolder(t)
	cli := clientOf(t, url)
	code, nextWeek, errs := cli("plan", "new", "--from", "orders-api-v1")
	if code != 0 {
		t.Fatalf("plan new --from: exit %d: %s", code, errs)
	}
	code, june, errs := cli("plan", "new", "--from", "orders-api-v1", "--announce", "2027-06-01")
	if code != 0 {
		t.Fatalf("plan new --from --announce: exit %d: %s", code, errs)
	}
	assertEmpty(t, folder)
	viaServer, viaAnnounce := filepath.Join(dir, "next-week.yaml"), filepath.Join(dir, "june.yaml")
	for file, text := range map[string]string{viaServer: nextWeek, viaAnnounce: june} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	orig, _ := plan.ParseFile(example)
	origTL, err := orig.Compile()
	if err != nil {
		t.Fatal(err)
	}
	loc := orig.Location()
	for _, tc := range []struct {
		file     string
		announce time.Time
	}{
		{viaServer, time.Date(2026, 12, 3, 10, 0, 0, 0, loc)},
		{viaAnnounce, time.Date(2027, 6, 1, 10, 0, 0, 0, loc)},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			b, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			for _, want := range []string{
				"# New plan started from orders-api-v1",
				"# What orders-api-v1 taught",
				"#   notice period          68 days (announce 2027-01-05 → shutdown 2027-03-15)",
				"#   share migrated ",
				"#   pauses                 0",
				"#   Call critical customers before the first brownout.",
				"#   提前一周电话通知关键客户。",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("the new plan lacks %q:\n%.2000s", want, text)
				}
			}
			mustRefuseTODOs(t, tc.file)
			filled := fillTODOs(t, tc.file)
			p, problems := plan.ParseFile(filled)
			if err := problems.Err(); err != nil {
				t.Fatalf("the filled plan does not validate: %v", err)
			}
			if len(p.Notices) != len(orig.Notices) || len(p.Runbook) != len(orig.Runbook) || len(p.Guardrails) != len(orig.Guardrails) ||
				len(p.Stakeholders) != len(orig.Stakeholders) || p.Channels.Email.SMTP != orig.Channels.Email.SMTP {
				t.Errorf("the structure changed: %d notices, %d steps, %d guardrails", len(p.Notices), len(p.Runbook), len(p.Guardrails))
			}
			tl, err := p.Compile()
			if err != nil {
				t.Fatal(err)
			}
			if got := milestoneAt(tl, plan.Announce); !got.Equal(tc.announce) {
				t.Errorf("announce %v, want %v", got, tc.announce)
			}
			// Every milestone keeps its offset from the announcement.
			for _, m := range []string{plan.ReadOnly, plan.Shutdown, plan.DeleteData} {
				was := milestoneAt(origTL, m).Sub(milestoneAt(origTL, plan.Announce))
				now := milestoneAt(tl, m).Sub(milestoneAt(tl, plan.Announce))
				if was != now {
					t.Errorf("%s is %v after announce, was %v", m, now, was)
				}
			}
		})
	}
}

func TestPlanNewRefusesUnknownSunset(t *testing.T) {
	t.Parallel()
	url := serveWithEnv(t, t.TempDir(), nil, "--example=false")
	code, _, errs := run(t, context.Background(), "plan", "new", "--from", "nope", "--server", url)
	if code != 1 || !strings.Contains(errs, "nope") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, _, errs = run(t, context.Background(), "plan", "new", "--announce", "next tuesday")
	if code != 2 || !strings.Contains(errs, "--announce") {
		t.Fatalf("bad --announce: exit %d: %s", code, errs)
	}
	code, _, errs = run(t, context.Background(), "plan", "new", "--from", "orders-api-v1", "--announce", "next tuesday", "--server", url)
	if code != 2 || !strings.Contains(errs, "--announce") {
		t.Fatalf("bad --announce with --from: exit %d: %s", code, errs)
	}
}

// milestoneAt returns when the milestone named name is due in tl, or the zero time.
func milestoneAt(tl *plan.Timeline, name string) time.Time {
	for _, a := range tl.Actions {
		if a.Kind == plan.KindMilestone && a.Name == name {
			return a.At
		}
	}
	return time.Time{}
}
