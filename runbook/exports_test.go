package runbook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
)

// seedExports writes a finished export job of n done exports (u0…u{n-1}) for sunset.
func seedExports(t *testing.T, st *store.DB, sunset string, n int) {
	t.Helper()
	now := time.Date(2027, 3, 2, 10, 0, 0, 0, time.UTC)
	job := &export.Job{Sunset: sunset, State: export.JobDone, Source: "outbox", Position: int64(n), Done: int64(n), Started: now, Updated: now}
	var users []export.User
	for i := range n {
		users = append(users, export.User{Sunset: sunset, ID: fmt.Sprintf("u%d", i), Seq: int64(i + 1), Locale: "en",
			State: export.UserDone, Key: export.BlobKey(sunset, fmt.Sprintf("u%d", i)), Bytes: 10, Created: now})
	}
	if err := st.SaveExportBatch(t.Context(), job, users); err != nil {
		t.Fatal(err)
	}
}

// runExportsCheck starts and executes a one-step runbook that checks the exports.
func runExportsCheck(t *testing.T, st *store.DB, sunset string) *runbook.Run {
	t.Helper()
	p := &plan.Plan{Runbook: []plan.RunbookStep{{Name: "exports-complete", Exports: "check"}}}
	r := &runbook.Runner{Store: st, Exports: &export.Service{Store: st}, RetryDelay: time.Millisecond}
	run, err := r.Start(t.Context(), sunset, p, "tester")
	if err != nil {
		t.Fatal(err)
	}
	run, err = r.Execute(t.Context(), run.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestExportsStepFailsWhileExportsAreNeitherDownloadedNorKept(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t).(*store.DB)
	seedExports(t, st, "orders-api-v1", 3)
	if err := st.RecordDownload(t.Context(), "orders-api-v1", "u0", time.Now()); err != nil {
		t.Fatal(err)
	}
	run := runExportsCheck(t, st, "orders-api-v1")
	step := run.Steps[0]
	if run.State != runbook.StateFailed || step.Status != runbook.StepFailed {
		t.Fatalf("run %s, step %s; want failed", run.State, step.Status)
	}
	if !strings.Contains(step.Error, "2 exports were neither downloaded nor kept in a backup") {
		t.Errorf("step error %q does not name the outstanding exports", step.Error)
	}
	if !strings.Contains(step.Output, "u1, u2") || step.Result["outstanding"] != "2" || step.Result["downloaded"] != "1" {
		t.Errorf("step output %q, result %v; want u1 and u2 outstanding, 1 downloaded", step.Output, step.Result)
	}
}

func TestExportsStepFailsWhenNoExportJobHasRun(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t).(*store.DB)
	run := runExportsCheck(t, st, "orders-api-v1")
	if step := run.Steps[0]; step.Status != runbook.StepFailed || !strings.Contains(step.Error, "no export job has run") {
		t.Fatalf("step %s: %q; want failed because no export job has run", step.Status, step.Error)
	}
}

func TestExportsStepPassesWhenEveryExportIsDownloadedOrKept(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t).(*store.DB)
	seedExports(t, st, "orders-api-v1", 3)
	if err := st.RecordDownload(t.Context(), "orders-api-v1", "u0", time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := st.KeepExports(t.Context(), "orders-api-v1", 1, 3, "archive-1"); err != nil || n != 2 {
		t.Fatalf("KeepExports = %d, %v", n, err)
	}
	run := runExportsCheck(t, st, "orders-api-v1")
	step := run.Steps[0]
	if run.State != runbook.StateDone || step.Status != runbook.StepDone {
		t.Fatalf("run %s, step %s (%s); want done", run.State, step.Status, step.Error)
	}
	if step.Result["kept"] != "2" || step.Result["downloaded"] != "1" || step.Result["outstanding"] != "0" {
		t.Errorf("result %v; want 1 downloaded, 2 kept, 0 outstanding", step.Result)
	}
}

func TestExportsStepFailsWithoutAnExportService(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t).(*store.DB)
	p := &plan.Plan{Runbook: []plan.RunbookStep{{Name: "exports-complete", Exports: "check"}}}
	r := &runbook.Runner{Store: st}
	run, err := r.Start(t.Context(), "orders-api-v1", p, "tester")
	if err != nil {
		t.Fatal(err)
	}
	if run, err = r.Execute(context.Background(), run.ID, p); err != nil {
		t.Fatal(err)
	}
	if step := run.Steps[0]; step.Status != runbook.StepFailed || !strings.Contains(step.Error, "no export service is wired") {
		t.Fatalf("step %s: %q; want failed saying no export service is wired", step.Status, step.Error)
	}
}

func TestDefaultRunbookChecksExportsAfterTheFinalBackupsWhenThePlanExports(t *testing.T) {
	t.Parallel()
	p := &plan.Plan{Data: plan.Data{Backups: []plan.Backup{{Name: "main-db"}}}}
	names := func() []string {
		var out []string
		for _, s := range runbook.DefaultSteps(p) {
			out = append(out, s.Name)
		}
		return out
	}
	if got := strings.Join(names(), " "); strings.Contains(got, "exports-complete") {
		t.Errorf("default runbook without data.export checks exports: %s", got)
	}
	p.Data.Export = &plan.Export{}
	got := strings.Join(names(), " ")
	if !strings.Contains(got, "final-backup-main-db exports-complete sign-off gone") {
		t.Errorf("default runbook = %s; want exports-complete after final-backup-main-db and before gone", got)
	}
	for _, s := range runbook.DefaultSteps(p) {
		if s.Name == "exports-complete" && runbook.Kind(s) != "exports" {
			t.Errorf("exports-complete has kind %q", runbook.Kind(s))
		}
	}
}
