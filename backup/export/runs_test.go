package export_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/plan"
)

// TestRunsRunAJobInTheBackgroundOnceAndRefuseWhatCannotRun: a run exports every user in the
// background and is not started twice while it goes on; a plan without data.export, a missing
// link key and a stopped server are refused before anything runs.
func TestRunsRunAJobInTheBackgroundOnceAndRefuseWhatCannotRun(t *testing.T) {
	t.Parallel()
	srv, fetches := exportServer(t, nil)
	b := setup(t, openSQLite(t), 30, `{http: "`+srv.URL+`/export/{id}"}`)
	runs := export.NewRuns(b.svc)
	defer runs.Stop()
	ctx := context.Background()
	if err := runs.Start(ctx, "orders-api-v1", export.RunOptions{Batch: 5, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	if err := runs.Start(ctx, "orders-api-v1", export.RunOptions{}); err != nil {
		t.Fatalf("a second start while running: %v", err)
	}
	testenv.Eventually(t, 10*time.Second, "the run to end", func() error {
		running, lastErr := runs.State("orders-api-v1")
		if lastErr != "" {
			t.Fatalf("the run stopped: %s", lastErr)
		}
		if running {
			return errors.New("still running")
		}
		return nil
	})
	st, err := b.svc.Status(ctx, "orders-api-v1")
	if err != nil || st.Job == nil || st.Job.State != export.JobDone || st.Counts.Done != 30 {
		t.Fatalf("status %+v %v", st, err)
	}
	if n := fetches.Load(); n != 30 {
		t.Errorf("%d fetches, want 30: one run, each user once", n)
	}

	noExport := *b.plan
	noExport.Data.Export = nil
	bare := &export.Service{Store: b.store, Plan: func(context.Context, string) (*plan.Plan, error) { return &noExport, nil }}
	if err := export.NewRuns(bare).Start(ctx, "orders-api-v1", export.RunOptions{}); sunset.ErrorCode(err) != sunset.ENOTFOUND {
		t.Errorf("no data.export: %v", err)
	}
	keyless := &export.Service{Store: b.store, Plan: b.svc.Plan, Getenv: func(string) string { return "" }}
	if err := export.NewRuns(keyless).Start(ctx, "orders-api-v1", export.RunOptions{}); sunset.ErrorCode(err) != sunset.EINVALID {
		t.Errorf("no link key: %v", err)
	}
	runs.Stop()
	if err := runs.Start(ctx, "orders-api-v1", export.RunOptions{}); sunset.ErrorCode(err) != sunset.ECONFLICT {
		t.Errorf("after Stop: %v", err)
	}
}
