package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
)

// TestARunGoesOnByItselfWhenItsLastApprovalArrives starts a run through the runbook's control
// (what POST .../runbook/runs does) on a running worker that looks for work only when woken:
// the run waits for two approvals, the first leaves it waiting, the second lets it finish with
// nobody calling resume. An operator's decision (abort) ends the next run.
func TestARunGoesOnByItselfWhenItsLastApprovalArrives(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mark := filepath.Join(t.TempDir(), "stopped.log")
		p, problems := plan.Parse("plan.yaml", []byte(`service: {name: orders}
milestones: {announce: 2027-01-04T10:00, shutdown: 2027-03-01T02:00}
runbook:
  - {name: sign-off, approval: {role: approver, count: 2}}
  - {name: stop, exec: [sh, -c, 'echo stopped >> `+mark+`']}
`))
		if err := problems.Err(); err != nil {
			t.Fatal(err)
		}
		plans := func(_ context.Context, name string) (*plan.Plan, error) {
			if name != "orders" {
				return nil, sunset.Errorf(sunset.ENOTFOUND, "No sunset %s.", name)
			}
			return p, nil
		}
		runner := &runbook.Runner{Store: db}
		// The worker's own tick is an hour away: only Control's wake-ups make it drive the run.
		w := &runbook.Worker{Runner: runner, Runs: db.RunningRuns, Plan: plans, Every: time.Hour, Lease: db, Owner: "replica-1"}
		c := &runbook.Control{Runner: runner, Log: db, Plan: plans, Wake: w.Wake}
		if err := w.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		waitState := func(want runbook.State) *runbook.RunView {
			t.Helper()
			deadline := time.After(10 * time.Second)
			for {
				v, err := c.Status(ctx, "orders")
				if err != nil {
					t.Fatal(err)
				}
				if v.State == want {
					return v
				}
				select {
				case <-deadline:
					t.Fatalf("run %d is %s after 10s, want %s: %s", v.ID, v.State, want, v.Message)
				case <-time.After(10 * time.Millisecond):
				}
			}
		}

		if _, err := c.Status(ctx, "orders"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
			t.Fatalf("status before any run: %v, want not found", err)
		}
		if _, err := c.Start(ctx, "nope", "li.wei"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
			t.Fatalf("start of an unknown sunset: %v, want not found", err)
		}
		if _, err := c.Start(ctx, "orders", "li.wei"); err != nil {
			t.Fatal(err)
		}
		waitState(runbook.StateWaiting)
		if _, err := c.Start(ctx, "orders", "li.wei"); sunset.ErrorCode(err) != sunset.ECONFLICT {
			t.Fatalf("a second run while the first waits: %v, want conflict", err)
		}
		if _, err := c.Approve(ctx, "orders", "sign-off", "zhang.min", "approver"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Approve(ctx, "orders", "sign-off", "zhang.min", "approver"); sunset.ErrorCode(err) != sunset.ECONFLICT {
			t.Fatalf("the same person approving twice: %v, want conflict", err)
		}
		// One approval of two: the worker looks again and the run still waits.
		waitState(runbook.StateWaiting)
		if _, err := os.Stat(mark); !os.IsNotExist(err) {
			t.Fatalf("the stop step ran after one approval of two: %v", err)
		}
		if _, err := c.Approve(ctx, "orders", "sign-off", "wang.fang", "approver"); err != nil {
			t.Fatal(err)
		}
		v := waitState(runbook.StateDone)
		if len(v.Approvals) != 2 || len(v.Log) == 0 {
			t.Errorf("the done run shows %d approvals and %d log lines, want 2 and its log", len(v.Approvals), len(v.Log))
		}
		if b, err := os.ReadFile(mark); err != nil || string(b) != "stopped\n" {
			t.Errorf("the stop step ran %q, %v; want once", b, err)
		}
		if _, err := c.Resume(ctx, "orders", "li.wei", runbook.ResumeRequest{Retry: true}); sunset.ErrorCode(err) != sunset.ECONFLICT {
			t.Errorf("resume of a done run: %v, want conflict", err)
		}

		// The next run waits for its approvals; an operator aborts it.
		if _, err := c.Start(ctx, "orders", "li.wei"); err != nil {
			t.Fatal(err)
		}
		waitState(runbook.StateWaiting)
		if _, err := c.Abort(ctx, "orders", "li.wei", " "); sunset.ErrorCode(err) != sunset.EINVALID {
			t.Errorf("abort without a reason: %v, want invalid", err)
		}
		if _, err := c.Resume(ctx, "orders", "li.wei", runbook.ResumeRequest{MarkDone: true, Retry: true}); sunset.ErrorCode(err) != sunset.EINVALID {
			t.Errorf("mark-done and retry at once: %v, want invalid", err)
		}
		v, err := c.Abort(ctx, "orders", "li.wei", "postponed")
		if err != nil || v.State != runbook.StateAborted || v.Message != "aborted by li.wei: postponed" {
			t.Fatalf("abort: %+v %v", v, err)
		}
		if _, err := c.Approve(ctx, "orders", "sign-off", "wang.fang", "approver"); sunset.ErrorCode(err) != sunset.ECONFLICT {
			t.Errorf("an approval of an aborted run: %v, want conflict", err)
		}
	})
}

// lateApprovals is a run store whose first read of a step's approvals lets another approval
// arrive right after it: the approval the step did not see, arriving before the run is parked.
type lateApprovals struct {
	*store.DB
	late runbook.Approval
	sent bool
}

func (s *lateApprovals) Approvals(ctx context.Context, runID int64, step string) ([]runbook.Approval, error) {
	list, err := s.DB.Approvals(ctx, runID, step)
	if err == nil && !s.sent {
		s.sent = true
		err = s.DB.AddApproval(ctx, runID, s.late)
	}
	return list, err
}

// TestAnApprovalArrivingWhileTheStepChecksIsNotLost: the approval step reads the approvals, the
// last one arrives before the run is parked (so the API found the run running and handed
// nothing back); the runner looks once more after parking and goes on.
func TestAnApprovalArrivingWhileTheStepChecksIsNotLost(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mark := filepath.Join(t.TempDir(), "stopped.log")
		p, problems := plan.Parse("plan.yaml", []byte(`service: {name: orders}
milestones: {announce: 2027-01-04T10:00, shutdown: 2027-03-01T02:00}
runbook:
  - {name: sign-off, approval: {role: approver, count: 1}}
  - {name: stop, exec: [sh, -c, 'echo stopped >> `+mark+`']}
`))
		if err := problems.Err(); err != nil {
			t.Fatal(err)
		}
		st := &lateApprovals{DB: db, late: runbook.Approval{Step: "sign-off", Person: "zhang.min", Role: "approver", At: time.Now()}}
		r := &runbook.Runner{Store: st}
		run, err := r.Start(ctx, "orders", p, "li.wei")
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Execute(ctx, run.ID, p)
		if err != nil || got.State != runbook.StateDone {
			t.Fatalf("run %+v %v, want done: the approval that arrived during the check was lost", got, err)
		}
		if b, err := os.ReadFile(mark); err != nil || string(b) != "stopped\n" {
			t.Errorf("the stop step ran %q, %v; want once", b, err)
		}
	})
}
