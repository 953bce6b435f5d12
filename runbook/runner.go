package runbook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// Runner drives runs of a plan's runbook. Set Store and the collaborators the plan's steps need;
// a step whose collaborator is missing fails with a sentence that says so.
type Runner struct {
	Store  Store
	Events Events // optional: without it, overrides and transitions are only in the run's log
	// Collaborators of step kinds.
	Phases     PhaseSwitcher
	Traffic    TrafficMeter
	Notifier   Notifier
	Backups    Backuper
	Migrator   Migrator
	Exports    ExportChecker
	HTTPClient *http.Client
	// Runtime tells the time of runs and steps (the sunset's clock, pinned in a rehearsal).
	Runtime sunset.Runtime
	// Out receives live step output; Getenv reads env: references.
	Out    io.Writer
	Getenv func(string) string
	// PollEvery is how often drain and wait look again (default 1s); RetryDelay the pause
	// before a retry (default 1s, doubling).
	PollEvery  time.Duration
	RetryDelay time.Duration
}

// now is the runtime's instant in UTC, as runs store it.
func (r *Runner) now() time.Time { return r.Runtime.Now().UTC() }

func (r *Runner) getenv(k string) string {
	if r.Getenv != nil {
		return r.Getenv(k)
	}
	return os.Getenv(k)
}

func (r *Runner) pollEvery() time.Duration {
	if r.PollEvery > 0 {
		return r.PollEvery
	}
	return time.Second
}

func (r *Runner) printf(run *Run, step, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	at := r.now()
	if r.Out != nil {
		prefix := ""
		if step != "" {
			prefix = "[" + step + "] "
		}
		fmt.Fprintf(r.Out, "%s %s%s\n", at.Format("15:04:05"), prefix, line)
	}
	_ = r.Store.AppendLog(context.WithoutCancel(context.Background()), run.ID, step, line, at)
}

func (r *Runner) record(ctx context.Context, run *Run, typ, actor string, data map[string]any) {
	if r.Events == nil {
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	data["run"] = run.ID
	if err := r.Events.Record(ctx, run.Sunset, typ, actor, data); err != nil {
		r.printf(run, "", "could not record event %s: %v", typ, err)
	}
}

func (r *Runner) save(ctx context.Context, run *Run) error {
	run.Updated = r.now()
	return r.Store.SaveRun(context.WithoutCancel(ctx), run)
}

// Steps returns the plan's runbook, or the default runbook when it declares none.
func Steps(p *plan.Plan) []plan.RunbookStep {
	if len(p.Runbook) > 0 {
		return p.Runbook
	}
	return DefaultSteps(p)
}

// DefaultSteps is the runbook for the common case: read-only, drain, a verified backup of every
// declared source, a check that every export is complete (when the plan declares data.export),
// a sign-off, gone, confirmation that the service is stopped, the done notice.
func DefaultSteps(p *plan.Plan) []plan.RunbookStep {
	steps := []plan.RunbookStep{
		{Name: "read-only", Gateway: "read_only"},
		{Name: "drain", Drain: &plan.Drain{MaxRPS: 0, Within: plan.Duration(10 * time.Minute)}},
	}
	for _, b := range p.Data.Backups {
		steps = append(steps, plan.RunbookStep{Name: "final-backup-" + b.Name, Backup: b.Name, Verify: true, Retries: 1})
	}
	if p.Data.Export != nil {
		steps = append(steps, plan.RunbookStep{Name: "exports-complete", Exports: "check"})
	}
	steps = append(steps,
		plan.RunbookStep{Name: "sign-off", Approval: &plan.Approval{Role: "approver", Count: 1}},
		plan.RunbookStep{Name: "gone", Gateway: "gone", NoReturn: true},
		plan.RunbookStep{Name: "service-stopped", Approval: &plan.Approval{Role: "operator", Count: 1}},
		plan.RunbookStep{Name: "notify-done", Notify: "done"},
	)
	return steps
}

// NoReturnIndex returns the index of the point of no return: the first step marked no_return,
// else the first gateway: gone step, else the first exec step; len(steps) when none.
func NoReturnIndex(steps []plan.RunbookStep) int {
	for i, s := range steps {
		if s.NoReturn {
			return i
		}
	}
	for i, s := range steps {
		if s.Gateway == "gone" {
			return i
		}
	}
	for i, s := range steps {
		if s.Exec != nil {
			return i
		}
	}
	return len(steps)
}

// NewRun returns a new run of p's runbook for sunset, started by actor at now, not yet stored.
func NewRun(sunset string, p *plan.Plan, actor string, now time.Time) *Run {
	run := &Run{Sunset: sunset, State: StateRunning, StartedBy: actor, Created: now, Updated: now}
	for _, s := range Steps(p) {
		run.Steps = append(run.Steps, &StepState{Name: s.Name, Kind: Kind(s), Status: StepPending, Idempotent: Idempotent(s)})
	}
	return run
}

// Start creates a run of p's runbook for sunset, started by actor. It does not execute it.
func (r *Runner) Start(ctx context.Context, sunset string, p *plan.Plan, actor string) (*Run, error) {
	run := NewRun(sunset, p, actor, r.now())
	if err := r.Store.CreateRun(ctx, run); err != nil {
		return nil, err
	}
	r.record(ctx, run, "runbook.started", actor, map[string]any{"steps": len(run.Steps)})
	r.printf(run, "", "run %d of the %s runbook started by %s (%d steps)", run.ID, sunset, actor, len(run.Steps))
	return run, nil
}

// Execute drives the run until it ends or must wait (approval, operator, backup override). It
// returns the run as saved. It is safe to call again at any time, including after a crash.
func (r *Runner) Execute(ctx context.Context, runID int64, p *plan.Plan) (*Run, error) {
	run, err := r.Store.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	steps := Steps(p)
	if len(steps) != len(run.Steps) {
		return run, fmt.Errorf("the plan's runbook has %d steps, the run %d: the plan changed during the run; abort it and start again", len(steps), len(run.Steps))
	}
	if run.State.Ended() {
		return run, nil
	}
	if run.State != StateRunning {
		run.State, run.Message = StateRunning, ""
		if err := r.save(ctx, run); err != nil {
			return run, err
		}
	}
	noReturn := NoReturnIndex(steps)
	for i := 0; i < len(steps); i++ {
		def, st := steps[i], run.Steps[i]
		switch st.Status {
		case StepDone, StepFailed, StepSkipped, StepRolledBack:
			continue
		case StepOperator:
			return r.park(ctx, run, StateOperator, fmt.Sprintf("step %s was interrupted and is not idempotent: mark it done, retry it, or abort", st.Name))
		case StepRunning:
			// A runner died while the step was in flight.
			if !st.Idempotent {
				st.Status, st.Error = StepOperator, "interrupted while running; it may have had an effect"
				r.printf(run, st.Name, "was in flight when the runner stopped and is not idempotent: stopping for an operator (sunset runbook resume %s --mark-done|--retry, or abort)", run.Sunset)
				r.record(ctx, run, "runbook.step_interrupted", "sunset", map[string]any{"step": st.Name})
				return r.park(ctx, run, StateOperator, "step "+st.Name+" was interrupted and is not idempotent")
			}
			r.printf(run, st.Name, "was in flight when the runner stopped; it is idempotent, so it runs again")
		}
		if i >= noReturn && len(run.Overrides) == 0 {
			if missing := missingBackups(p, run); len(missing) > 0 {
				msg := fmt.Sprintf("step %s is at or after the point of no return, and these backups have not been verified in this run: %s; add verified backup steps, or override with: sunset runbook resume %s --override-backup-check --reason TEXT",
					st.Name, strings.Join(missing, ", "), run.Sunset)
				r.printf(run, st.Name, "%s", msg)
				return r.park(ctx, run, StateBlocked, msg)
			}
		}
		if err := preconditions(def, run); err != nil {
			r.printf(run, st.Name, "precondition failed: %v", err)
			st.Status, st.Error = StepFailed, "precondition: "+err.Error()
			if stop, err := r.afterFailure(ctx, run, steps, i, def); stop {
				return run, err
			}
			continue
		}
		err := r.runStep(ctx, run, p, def, st)
		switch {
		case errors.Is(err, ErrWait):
			again, err := r.waitForApproval(ctx, run, def, st)
			if !again {
				return run, err
			}
			i-- // the approval step again: it now finds its approvals
		case ctx.Err() != nil:
			// Stopped from outside (Ctrl-C): the step stays running and is handled on resume.
			return run, ctx.Err()
		case err != nil:
			st.Status, st.Error, st.Ended = StepFailed, err.Error(), r.now()
			r.printf(run, st.Name, "failed: %v", err)
			r.record(ctx, run, "runbook.step_failed", "sunset", map[string]any{"step": st.Name, "error": err.Error()})
			if stop, err := r.afterFailure(ctx, run, steps, i, def); stop {
				return run, err
			}
		default:
			st.Status, st.Error, st.Ended = StepDone, "", r.now()
			if err := r.save(ctx, run); err != nil {
				return run, err
			}
			r.printf(run, st.Name, "done")
			r.record(ctx, run, "runbook.step_done", "sunset", map[string]any{"step": st.Name, "kind": st.Kind, "attempts": st.Attempts, "result": st.Result})
		}
	}
	run.State, run.Message = StateDone, ""
	if err := r.save(ctx, run); err != nil {
		return run, err
	}
	r.printf(run, "", "run %d done", run.ID)
	r.record(ctx, run, "runbook.done", "sunset", nil)
	return run, nil
}

// waitForApproval parks the run until step st is approved. An approval that arrived between
// the step's check and the park found the run still running, so nobody handed it back: it looks
// once more, now that the run is parked, and answers again when the step may run now.
func (r *Runner) waitForApproval(ctx context.Context, run *Run, def plan.RunbookStep, st *StepState) (again bool, err error) {
	st.Status = StepWaiting
	if _, err := r.park(ctx, run, StateWaiting, "step "+st.Name+" waits for approval"); err != nil {
		return false, err
	}
	if def.Approval == nil {
		return false, nil
	}
	list, err := r.Store.Approvals(ctx, run.ID, st.Name)
	if _, ok := approved(list, def.Approval, run.StartedBy); err != nil || !ok {
		return false, err
	}
	run.State, run.Message = StateRunning, ""
	if err := r.save(ctx, run); err != nil {
		return false, err
	}
	return true, nil
}

// runStep runs one step with its timeout and retries. The step's state is saved as running
// before each attempt, so a crash during it is seen on resume.
func (r *Runner) runStep(ctx context.Context, run *Run, p *plan.Plan, def plan.RunbookStep, st *StepState) error {
	step, err := r.stepFor(st.Kind)
	if err != nil {
		return err
	}
	delay := r.RetryDelay
	if delay <= 0 {
		delay = time.Second
	}
	var last error
	for attempt := 0; attempt <= def.Retries; attempt++ {
		if attempt > 0 {
			r.printf(run, st.Name, "retrying in %s (attempt %d of %d)", delay, attempt+1, def.Retries+1)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
			delay *= 2
		}
		st.Status, st.Attempts, st.Started, st.Error = StepRunning, st.Attempts+1, r.now(), ""
		if err := r.save(ctx, run); err != nil {
			return err
		}
		if st.Attempts == 1 || attempt == 0 {
			r.printf(run, st.Name, "running (%s%s)", st.Kind, map[bool]string{true: ", idempotent", false: ""}[st.Idempotent])
		}
		sctx, cancel := ctx, context.CancelFunc(func() {})
		if def.Timeout > 0 {
			sctx, cancel = context.WithTimeout(ctx, time.Duration(def.Timeout))
		}
		sc := &StepContext{Run: run, State: st, Def: def, Plan: p, r: r,
			Out: func(format string, args ...any) { r.printf(run, st.Name, format, args...) }}
		last = step.Run(sctx, sc)
		timedOut := sctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if timedOut {
			last = fmt.Errorf("timed out after %s: %w", def.Timeout, last)
		}
		if last == nil || errors.Is(last, ErrWait) || ctx.Err() != nil {
			return last
		}
		r.printf(run, st.Name, "attempt %d failed: %v", attempt+1, last)
	}
	return last
}

// afterFailure applies the step's on_failure rule. stop is true when the run ends here.
func (r *Runner) afterFailure(ctx context.Context, run *Run, steps []plan.RunbookStep, i int, def plan.RunbookStep) (stop bool, err error) {
	switch def.OnFailure {
	case "continue":
		r.printf(run, def.Name, "on_failure: continue")
		return false, r.save(ctx, run)
	case "rollback":
		r.rollback(ctx, run, steps, i)
		run.State, run.Message = StateRolledBack, "step "+def.Name+" failed; done steps were rolled back"
		r.record(ctx, run, "runbook.rolled_back", "sunset", map[string]any{"step": def.Name})
		return true, r.save(ctx, run)
	}
	run.State, run.Message = StateFailed, "step "+def.Name+" failed: "+run.Steps[i].Error
	r.record(ctx, run, "runbook.failed", "sunset", map[string]any{"step": def.Name})
	return true, r.save(ctx, run)
}

// rollback runs the rollback commands of the failed step and of every done step before it, newest
// first.
func (r *Runner) rollback(ctx context.Context, run *Run, steps []plan.RunbookStep, failed int) {
	for j := failed; j >= 0; j-- {
		def, st := steps[j], run.Steps[j]
		if len(def.Rollback) == 0 || (j != failed && st.Status != StepDone) {
			continue
		}
		r.printf(run, def.Name, "rolling back: %s", strings.Join(def.Rollback, " "))
		rb := def
		rb.Exec, rb.Shell = def.Rollback, false
		sc := &StepContext{Run: run, State: &StepState{}, Def: rb, r: r,
			Out: func(format string, args ...any) { r.printf(run, def.Name, format, args...) }}
		if err := r.exec(ctx, sc); err != nil {
			r.printf(run, def.Name, "rollback failed: %v", err)
			continue
		}
		if j != failed {
			st.Status = StepRolledBack
		}
	}
}

func (r *Runner) park(ctx context.Context, run *Run, state State, msg string) (*Run, error) {
	run.State, run.Message = state, msg
	return run, r.save(ctx, run)
}

func missingBackups(p *plan.Plan, run *Run) []string {
	var missing []string
	for _, b := range p.Data.Backups {
		if run.Verified[b.Name] == "" {
			missing = append(missing, b.Name)
		}
	}
	return missing
}

func preconditions(def plan.RunbookStep, run *Run) error {
	for _, pre := range def.Preconditions {
		kind, name, _ := strings.Cut(pre, ":")
		switch kind {
		case "backup":
			if run.Verified[name] == "" {
				return fmt.Errorf("backup %s has not been verified in this run", name)
			}
		case "step":
			ok := false
			for _, s := range run.Steps {
				if s.Name == name && s.Status == StepDone {
					ok = true
				}
			}
			if !ok {
				return fmt.Errorf("step %s is not done", name)
			}
		default:
			return fmt.Errorf("unknown precondition %q", pre)
		}
	}
	return nil
}

// Approve records person's approval of an approval step of the run. The run continues on the
// next Execute: Control.Approve hands a waiting run back to the server's Worker, so it goes on
// by itself once the step has every approval it needs.
func (r *Runner) Approve(ctx context.Context, run *Run, step, person, role string) error {
	var st *StepState
	for _, s := range run.Steps {
		if s.Name == step {
			st = s
		}
	}
	if st == nil || st.Kind != "approval" {
		return fmt.Errorf("the run has no approval step %q", step)
	}
	if person == "" {
		return errors.New("say who approves (--as NAME)")
	}
	if err := r.Store.AddApproval(ctx, run.ID, Approval{Step: step, Person: person, Role: role, At: r.now()}); err != nil {
		return err
	}
	r.printf(run, step, "approved by %s (%s)", person, role)
	r.record(ctx, run, "runbook.approved", person, map[string]any{"step": step, "role": role})
	return nil
}

// Resolution is an operator's decision about a step that stopped for a human.
type Resolution string

// Resolutions.
const (
	MarkDone Resolution = "mark_done"
	Retry    Resolution = "retry"
)

// Resolve applies an operator's decision to the step waiting for one.
func (r *Runner) Resolve(ctx context.Context, run *Run, res Resolution, actor string) error {
	for _, st := range run.Steps {
		if st.Status != StepOperator && !(st.Status == StepFailed && run.State == StateFailed) {
			continue
		}
		switch res {
		case MarkDone:
			st.Status, st.Error = StepDone, ""
		case Retry:
			st.Status, st.Error = StepPending, ""
		}
		if run.State == StateFailed {
			run.State = StateRunning
		}
		r.printf(run, st.Name, "operator %s: %s", actor, res)
		r.record(ctx, run, "runbook.step_resolved", actor, map[string]any{"step": st.Name, "resolution": string(res)})
		return r.save(ctx, run)
	}
	return errors.New("no step is waiting for an operator")
}

// Override lets the run pass the point of no return without verified backups. It is recorded as
// an Event.
func (r *Runner) Override(ctx context.Context, run *Run, actor, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return errors.New("an override needs a reason (--reason)")
	}
	run.Overrides = append(run.Overrides, Override{By: actor, Reason: reason, At: r.now()})
	r.printf(run, "", "OVERRIDE by %s: running past the point of no return without verified backups (%s)", actor, reason)
	r.record(ctx, run, "runbook.backup_check_overridden", actor, map[string]any{"reason": reason})
	return r.save(ctx, run)
}

// Abort ends the run; no further step runs.
func (r *Runner) Abort(ctx context.Context, run *Run, actor, reason string) error {
	if run.State.Ended() {
		return fmt.Errorf("run %d has already ended (%s)", run.ID, run.State)
	}
	run.State, run.Message = StateAborted, "aborted by "+actor+": "+reason
	r.printf(run, "", "aborted by %s: %s", actor, reason)
	r.record(ctx, run, "runbook.aborted", actor, map[string]any{"reason": reason})
	return r.save(ctx, run)
}
