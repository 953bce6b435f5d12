package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/report"
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

// TestPlanNewFromPastSunset starts a plan from the example sunset, through the server and
// straight from its database: same structure, dates moved with their offsets kept, TODO
// markers, and the past sunset's figures and lessons at the top.
func TestPlanNewFromPastSunset(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "sunset.db")
	url, stop := server(t, db)
	lessons := filepath.Join(dir, "lessons.md")
	if err := os.WriteFile(lessons, []byte("Call critical customers before the first brownout.\n提前一周电话通知关键客户。\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, context.Background(), "report", "lessons", "orders-api-v1", "--file", lessons, "--server", url); code != 0 {
		t.Fatalf("report lessons: exit %d %s%s", code, out, errs)
	}
	viaServer := filepath.Join(dir, "via-server.yaml")
	code, _, errs := run(t, context.Background(), "plan", "new", "--from", "orders-api-v1", "--server", url, "--now", "2026-11-26T09:00:00Z", "-o", viaServer)
	stop()
	if code != 0 {
		t.Fatalf("plan new --from --server: exit %d: %s", code, errs)
	}
	viaDB := filepath.Join(dir, "via-db.yaml")
	code, _, errs = run(t, context.Background(), "plan", "new", "--from", "orders-api-v1", "--db", db, "--announce", "2027-06-01", "-o", viaDB)
	if code != 0 {
		t.Fatalf("plan new --from --db: exit %d: %s", code, errs)
	}
	orig, _ := plan.ParseFile("../../examples/api-v2.yaml")
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
		{viaDB, time.Date(2027, 6, 1, 10, 0, 0, 0, loc)},
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
	db := "sqlite:" + filepath.Join(t.TempDir(), "empty.db")
	code, _, errs := run(t, context.Background(), "plan", "new", "--from", "nope", "--db", db)
	if code != 1 || !strings.Contains(errs, "nope") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, _, errs = run(t, context.Background(), "plan", "new", "--announce", "next tuesday")
	if code != 2 || !strings.Contains(errs, "--announce") {
		t.Fatalf("bad --announce: exit %d: %s", code, errs)
	}
}

// TestPlanFromPastRefusesMalformedPlans: a stored plan that no longer parses, or has no service,
// is an error that says so, never a panic or a half-written plan.
func TestPlanFromPastRefusesMalformedPlans(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for name, doc := range map[string]string{
		"empty":          "",
		"not a mapping":  "- a\n- b\n",
		"broken yaml":    "service: {name: [\n",
		"no milestones":  "service: {name: x}\n",
		"invalid plan":   "service: {name: Bad Name}\nmilestones: {announce: 2027-01-01, shutdown: 2027-03-01}\n",
		"unknown fields": "service: {name: x, nmae: y}\nmilestones: {announce: 2027-01-01, shutdown: 2027-03-01}\n",
	} {
		t.Run(name, func(t *testing.T) {
			out, err := planFromPast("x", []byte(doc), &report.Report{}, now, "")
			if err == nil {
				t.Fatalf("planFromPast accepted %q:\n%s", doc, out)
			}
		})
	}
}

// FuzzBlankService: any document is blanked or refused without panicking, and a blanked one
// holds the TODO marker as the service's name.
func FuzzBlankService(f *testing.F) {
	if raw, err := os.ReadFile("../../examples/api-v2.yaml"); err == nil {
		f.Add(string(raw))
	}
	f.Add("service: {name: a, title: {en: b}}\n")
	f.Add("service: [1]\n")
	f.Fuzz(func(t *testing.T, doc string) {
		out, err := blankService([]byte(doc))
		if err != nil {
			return
		}
		if !strings.Contains(string(out), "TODO") {
			t.Fatalf("no TODO marker in:\n%s", out)
		}
	})
}
