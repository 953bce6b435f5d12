package runbook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// Control carries out what people ask of a sunset's runbook through the API: start a run, show
// it, approve a step, resume it after an operator's decision, abort it, and take or list the
// plan's declared backups (backups.go). It changes the stored run only; the server's Worker
// drives every run that is running, so a run goes on by itself when its last approval arrives.
// Its errors are *sunset.Error values: ENOTFOUND (no such sunset, no run), EINVALID (bad input),
// ECONFLICT (the run's state does not allow it).
type Control struct {
	// Runner keeps the runs (its Store), records Events and makes backups (its Backups).
	Runner *Runner
	// Log reads a run's output; nil shows runs without their log.
	Log LogReader
	// Plan returns a sunset's current plan; ENOTFOUND for an unknown sunset.
	Plan func(ctx context.Context, sunset string) (*plan.Plan, error)
	// Wake, when set, tells the worker that a run is ready to be driven now (Worker.Wake),
	// rather than on its next look.
	Wake func()
	// Jobs keeps the backup jobs where every replica sees them; nil keeps them in this process.
	Jobs BackupJobs
	// Owner names this replica in the backup jobs it takes.
	Owner string
	// BackupStale is how long a running backup job may go without a heartbeat before it
	// counts as abandoned (default 1 minute); the heartbeat comes every quarter of it.
	BackupStale time.Duration

	backups backupJobs
}

// LogReader reads the lines a run printed after seq after. store.DB implements it.
type LogReader interface {
	RunLog(ctx context.Context, runID, after int64) ([]LogLine, error)
}

// plan returns the sunset's plan.
func (c *Control) plan(ctx context.Context, name string) (*plan.Plan, error) {
	if c.Plan == nil {
		return nil, sunset.Errorf(sunset.EINTERNAL, "runbook control has no plans")
	}
	return c.Plan(ctx, name)
}

func (c *Control) wake() {
	if c.Wake != nil {
		c.Wake()
	}
}

// latest returns the sunset's newest run; ENOTFOUND when the sunset is unknown or has none.
func (c *Control) latest(ctx context.Context, name string) (*Run, error) {
	if _, err := c.plan(ctx, name); err != nil {
		return nil, err
	}
	run, err := c.Runner.Store.LatestRun(ctx, name)
	if errors.Is(err, ErrNoRun) {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "Sunset %s has no runbook run; start one with: sunset runbook run %s", name, name)
	}
	return run, err
}

// view adds the run's approvals and log.
func (c *Control) view(ctx context.Context, run *Run) (*RunView, error) {
	v := &RunView{Run: *run, Approvals: []Approval{}, Log: []LogLine{}}
	for _, s := range run.Steps {
		if s.Kind != "approval" {
			continue
		}
		list, err := c.Runner.Store.Approvals(ctx, run.ID, s.Name)
		if err != nil {
			return nil, err
		}
		v.Approvals = append(v.Approvals, list...)
	}
	if c.Log != nil {
		log, err := c.Log.RunLog(ctx, run.ID, 0)
		if err != nil {
			return nil, err
		}
		if log != nil {
			v.Log = log
		}
	}
	return v, nil
}

// Status returns the sunset's latest run with its approvals and log.
func (c *Control) Status(ctx context.Context, name string) (*RunView, error) {
	run, err := c.latest(ctx, name)
	if err != nil {
		return nil, err
	}
	return c.view(ctx, run)
}

// DryRun describes the runbook a run of the sunset would carry out.
func (c *Control) DryRun(ctx context.Context, name string) (*DryRun, error) {
	p, err := c.plan(ctx, name)
	if err != nil {
		return nil, err
	}
	return Describe(name, p), nil
}

// Describe describes the runbook of p (the default one when p declares none).
func Describe(name string, p *plan.Plan) *DryRun {
	steps := Steps(p)
	d := &DryRun{Sunset: name, Default: len(p.Runbook) == 0, NoReturn: NoReturnIndex(steps), Backups: []string{}}
	for _, b := range p.Data.Backups {
		d.Backups = append(d.Backups, b.Name)
	}
	for _, s := range steps {
		ds := DryStep{Name: s.Name, Kind: Kind(s), Description: DescribeStep(s), Idempotent: Idempotent(s), Retries: s.Retries, OnFailure: s.OnFailure}
		if s.Timeout > 0 {
			ds.Timeout = s.Timeout.String()
		}
		d.Steps = append(d.Steps, ds)
	}
	return d
}

// DescribeStep says in a few words what a step does.
func DescribeStep(s plan.RunbookStep) string {
	switch Kind(s) {
	case "gateway":
		return "switch the gateway to " + s.Gateway
	case "drain":
		return fmt.Sprintf("wait for ≤ %g req/s within %s", s.Drain.MaxRPS, s.Drain.Within)
	case "backup":
		if s.Verify {
			return "back up " + s.Backup + " and verify by restoring"
		}
		return "back up " + s.Backup
	case "approval":
		return fmt.Sprintf("%d approval(s) by role %s", max(s.Approval.Count, 1), s.Approval.Role)
	case "exec":
		return "$ " + strings.Join(s.Exec, " ")
	case "http":
		return s.HTTP.Method + " " + s.HTTP.URL
	case "wait":
		return "wait " + s.Wait.String()
	case "notify":
		return "send notice " + s.Notify
	case "migrate":
		return "send each user's export to " + s.Migrate.URL
	}
	return ""
}

// Start creates a run of the sunset's runbook, started by actor, and wakes the worker, which
// drives it. A sunset whose latest run has not ended cannot start another (ECONFLICT).
func (c *Control) Start(ctx context.Context, name, actor string) (*RunView, error) {
	p, err := c.plan(ctx, name)
	if err != nil {
		return nil, err
	}
	run, err := c.Runner.Start(ctx, name, p, actor)
	if errors.Is(err, ErrActive) {
		msg := fmt.Sprintf("Sunset %s already has a run that has not ended", name)
		if cur, lerr := c.Runner.Store.LatestRun(ctx, name); lerr == nil {
			msg = fmt.Sprintf("Sunset %s already has run %d, which is %s", name, cur.ID, cur.State)
		}
		return nil, sunset.Errorf(sunset.ECONFLICT, "%s; follow it with: sunset runbook status %s, or end it with: sunset runbook abort %s --reason TEXT", msg, name, name)
	}
	if err != nil {
		return nil, err
	}
	c.wake()
	return c.view(ctx, run)
}

// Approve records person's approval of step in role on the latest run. A run that waited for
// approvals is handed back to the worker, which goes on when the step has all it needs.
func (c *Control) Approve(ctx context.Context, name, step, person, role string) (*RunView, error) {
	run, err := c.latest(ctx, name)
	if err != nil {
		return nil, err
	}
	if run.State.Ended() {
		return nil, sunset.Errorf(sunset.ECONFLICT, "Run %d of %s has ended (%s); there is nothing left to approve.", run.ID, name, run.State)
	}
	switch err := c.Runner.Approve(ctx, run, step, person, role); {
	case errors.Is(err, ErrDuplicate):
		return nil, sunset.Errorf(sunset.ECONFLICT, "%s has already approved step %s.", person, step)
	case err != nil:
		return nil, sunset.Errorf(sunset.EINVALID, "%s", err.Error())
	}
	// Read the run again: the worker may have parked it since it was read above. A run it
	// parks after this read finds the approval itself (Runner.Execute looks once more).
	now, err := c.Runner.Store.GetRun(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	if now.State == StateWaiting {
		if err := c.handBack(ctx, now); err != nil {
			return nil, err
		}
	}
	return c.Status(ctx, name)
}

// handBack returns a parked run to state running, so that the worker drives it, and wakes the
// worker. A run another writer changed meanwhile is left to that writer.
func (c *Control) handBack(ctx context.Context, run *Run) error {
	if run.State != StateRunning {
		run.State, run.Message, run.Updated = StateRunning, "", c.Runner.now()
		if err := c.Runner.Store.SaveRun(ctx, run); err != nil && !errors.Is(err, ErrStale) {
			return err
		}
	}
	c.wake()
	return nil
}

// Resume applies an operator's decision to the latest run and hands it back to the worker.
func (c *Control) Resume(ctx context.Context, name, actor string, req ResumeRequest) (*RunView, error) {
	if req.MarkDone && req.Retry {
		return nil, sunset.Errorf(sunset.EINVALID, "Choose one of mark_done and retry: the step either did complete or runs again.")
	}
	if req.OverrideBackupCheck && strings.TrimSpace(req.Reason) == "" {
		return nil, sunset.Errorf(sunset.EINVALID, "An override of the backup check needs a reason; it is recorded in the sunset's events.")
	}
	run, err := c.latest(ctx, name)
	if err != nil {
		return nil, err
	}
	if run.State.Ended() && !(run.State == StateFailed && (req.MarkDone || req.Retry)) {
		return nil, sunset.Errorf(sunset.ECONFLICT, "Run %d of %s has ended (%s); start a new one with: sunset runbook run %s", run.ID, name, run.State, name)
	}
	if req.MarkDone || req.Retry {
		res := MarkDone
		if req.Retry {
			res = Retry
		}
		if err := c.Runner.Resolve(ctx, run, res, actor); err != nil {
			return nil, c.conflict(err, run)
		}
	}
	if req.OverrideBackupCheck {
		if err := c.Runner.Override(ctx, run, actor, req.Reason); err != nil {
			return nil, c.conflict(err, run)
		}
	}
	if run.State.Ended() {
		return nil, sunset.Errorf(sunset.ECONFLICT, "Run %d of %s has ended (%s); start a new one with: sunset runbook run %s", run.ID, name, run.State, name)
	}
	if err := c.handBack(ctx, run); err != nil {
		return nil, err
	}
	return c.Status(ctx, name)
}

// conflict turns a refusal of the runner into ECONFLICT, and a stale save into a request to try
// again.
func (c *Control) conflict(err error, run *Run) error {
	if errors.Is(err, ErrStale) {
		return sunset.Errorf(sunset.ECONFLICT, "Run %d changed while your request was handled (a step moved on); look at it again and retry.", run.ID)
	}
	var se *sunset.Error
	if errors.As(err, &se) {
		return err
	}
	return sunset.Errorf(sunset.ECONFLICT, "%s", err.Error())
}

// Abort ends the latest run; no further step runs. A step in flight is stopped by the worker,
// which sees that the run left state running.
func (c *Control) Abort(ctx context.Context, name, actor, reason string) (*RunView, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, sunset.Errorf(sunset.EINVALID, "An abort needs a reason; it is recorded in the sunset's events.")
	}
	// The worker may save the run between our read and our write: read again and retry.
	for attempt := 0; ; attempt++ {
		run, err := c.latest(ctx, name)
		if err != nil {
			return nil, err
		}
		if run.State.Ended() {
			return nil, sunset.Errorf(sunset.ECONFLICT, "Run %d of %s has already ended (%s).", run.ID, name, run.State)
		}
		err = c.Runner.Abort(ctx, run, actor, reason)
		if errors.Is(err, ErrStale) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, c.conflict(err, run)
		}
		return c.view(ctx, run)
	}
}
