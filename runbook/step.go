package runbook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/plan"
)

// Step is one kind of runbook step: it does its work once, reporting lines through sc.Out.
// Returning ErrWait parks the step (an approval not yet given); the run continues on resume.
type Step interface {
	Run(ctx context.Context, sc *StepContext) error
}

// StepFunc adapts a function to Step.
type StepFunc func(ctx context.Context, sc *StepContext) error

// Run calls f.
func (f StepFunc) Run(ctx context.Context, sc *StepContext) error { return f(ctx, sc) }

// ErrWait parks a step until the run is resumed.
var ErrWait = errors.New("waiting")

// StepContext is what a step is given.
type StepContext struct {
	Run   *Run
	State *StepState
	Def   plan.RunbookStep
	Plan  *plan.Plan
	// Out prints one line of live output (and keeps it in the run's log).
	Out func(format string, args ...any)
	r   *Runner
}

// Now tells the time on the runner's clock, in UTC.
func (sc *StepContext) Now() time.Time { return sc.r.now() }

// PhaseSwitcher switches the gateway's phase for a sunset (read_only, gone…).
type PhaseSwitcher interface {
	SetPhase(ctx context.Context, sunset, phase string) error
}

// TrafficMeter tells the current requests per second reaching a sunset's service, from the
// gateway's counters.
type TrafficMeter interface {
	RPS(ctx context.Context, sunset string) (float64, error)
}

// Notifier queues a notice template to the plan's audience for it, exactly once however often it
// is called, and says what it queued (a line for the step's output).
type Notifier interface {
	Notify(ctx context.Context, sunset string, p *plan.Plan, template string) (summary string, err error)
}

// Backuper archives one data.backups entry and, when verify is set, verifies the archive by
// restoring it. It returns the archive's id.
type Backuper interface {
	Backup(ctx context.Context, b plan.Backup, verify bool, progress io.Writer) (id string, err error)
}

// Migrator sends every user's export to the alternative (export.Service implements it).
type Migrator interface {
	Migrate(ctx context.Context, sunset string, m plan.Migrate, o export.MigrateOptions) (*export.MigrateReport, error)
}

// ExportChecker checks that every user's export was downloaded or is kept in a backup
// (export.Service implements it).
type ExportChecker interface {
	Check(ctx context.Context, sunset string) (*export.CheckReport, error)
}

// Kind returns the kind of a plan step: the name of its one kind field.
func Kind(s plan.RunbookStep) string {
	switch {
	case s.Gateway != "":
		return "gateway"
	case s.Drain != nil:
		return "drain"
	case s.Backup != "":
		return "backup"
	case s.Approval != nil:
		return "approval"
	case s.Exec != nil:
		return "exec"
	case s.HTTP != nil:
		return "http"
	case s.Wait != 0:
		return "wait"
	case s.Notify != "":
		return "notify"
	case s.Migrate != nil:
		return "migrate"
	case s.Exports != "":
		return "exports"
	}
	return ""
}

// Idempotent says whether a step may run again after a crash mid-way: the plan's word, or by
// kind (exec and http are not, unless the plan says so).
func Idempotent(s plan.RunbookStep) bool {
	if s.Idempotent != nil {
		return *s.Idempotent
	}
	switch Kind(s) {
	case "exec", "http", "notify":
		return false
	}
	return true
}

func (r *Runner) stepFor(kind string) (Step, error) {
	switch kind {
	case "gateway":
		return StepFunc(r.gateway), nil
	case "drain":
		return StepFunc(r.drain), nil
	case "backup":
		return StepFunc(r.backup), nil
	case "approval":
		return StepFunc(r.approval), nil
	case "exec":
		return StepFunc(r.exec), nil
	case "http":
		return StepFunc(r.http), nil
	case "wait":
		return StepFunc(r.wait), nil
	case "notify":
		return StepFunc(r.notify), nil
	case "migrate":
		return StepFunc(r.migrate), nil
	case "exports":
		return StepFunc(r.exports), nil
	}
	return nil, fmt.Errorf("unknown step kind %q", kind)
}

func (r *Runner) gateway(ctx context.Context, sc *StepContext) error {
	if r.Phases == nil {
		return errors.New("no gateway phase switcher is wired into this runner; switch the phase by hand, then mark the step done")
	}
	sc.Out("switching the gateway to %s", sc.Def.Gateway)
	return r.Phases.SetPhase(ctx, sc.Run.Sunset, sc.Def.Gateway)
}

func (r *Runner) drain(ctx context.Context, sc *StepContext) error {
	if r.Traffic == nil {
		return errors.New("no traffic meter is wired into this runner; check traffic by hand, then mark the step done")
	}
	d := sc.Def.Drain
	deadline := sc.Now().Add(time.Duration(d.Within))
	for {
		rps, err := r.Traffic.RPS(ctx, sc.Run.Sunset)
		if err != nil {
			return err
		}
		sc.Out("traffic %.2f req/s (want ≤ %.2f)", rps, d.MaxRPS)
		if rps <= d.MaxRPS {
			return nil
		}
		if !sc.Now().Before(deadline) {
			return fmt.Errorf("traffic is still %.2f req/s after %s", rps, d.Within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.pollEvery()):
		}
	}
}

func (r *Runner) backup(ctx context.Context, sc *StepContext) error {
	if r.Backups == nil {
		return errors.New("no backup service is wired into this runner")
	}
	var b *plan.Backup
	for i := range sc.Plan.Data.Backups {
		if sc.Plan.Data.Backups[i].Name == sc.Def.Backup {
			b = &sc.Plan.Data.Backups[i]
		}
	}
	if b == nil {
		return fmt.Errorf("the plan declares no backup %q", sc.Def.Backup)
	}
	sc.Out("backing up %s to %s", b.Name, b.To)
	id, err := r.Backups.Backup(ctx, *b, sc.Def.Verify, &lineWriter{out: sc.Out})
	if err != nil {
		return err
	}
	sc.State.Result = map[string]string{"archive": id}
	if sc.Def.Verify {
		if sc.Run.Verified == nil {
			sc.Run.Verified = map[string]string{}
		}
		sc.Run.Verified[b.Name] = id
		sc.Out("archive %s verified (re-hashed and restored to a scratch place)", id)
	} else {
		sc.Out("archive %s written (not verified: add verify: true)", id)
	}
	return nil
}

func (r *Runner) approval(ctx context.Context, sc *StepContext) error {
	a := sc.Def.Approval
	list, err := r.Store.Approvals(ctx, sc.Run.ID, sc.Def.Name)
	if err != nil {
		return err
	}
	people, ok := approved(list, a, sc.Run.StartedBy)
	if ok {
		sc.Out("approved by %s", strings.Join(people, ", "))
		sc.State.Result = map[string]string{"approved_by": strings.Join(people, ",")}
		return nil
	}
	need := max(a.Count, 1)
	msg := fmt.Sprintf("waiting for %d approval(s) with role %s (have: %s)", need, a.Role, strings.Join(people, ", "))
	if len(people) >= need {
		msg = fmt.Sprintf("waiting for an approver other than %s, who started the run", sc.Run.StartedBy)
	}
	sc.Out("%s; approve with: sunset runbook approve %s --step %s --as NAME --role %s", msg, sc.Run.Sunset, sc.Def.Name, a.Role)
	return ErrWait
}

// approved applies an approval step's rule to its approvals: enough distinct people in the
// role, and whoever started the run is not the only one. people are the distinct approvers.
func approved(list []Approval, a *plan.Approval, startedBy string) (people []string, ok bool) {
	for _, ap := range list {
		if ap.Role == a.Role && !slices.Contains(people, ap.Person) {
			people = append(people, ap.Person)
		}
	}
	others := slices.DeleteFunc(slices.Clone(people), func(p string) bool { return p == startedBy })
	return people, len(people) >= max(a.Count, 1) && len(others) >= 1
}

func (r *Runner) exec(ctx context.Context, sc *StepContext) error {
	var cmd *exec.Cmd
	if sc.Def.Shell {
		cmd = exec.CommandContext(ctx, "sh", "-c", sc.Def.Exec[0])
	} else {
		cmd = exec.CommandContext(ctx, sc.Def.Exec[0], sc.Def.Exec[1:]...)
	}
	bindToRunner(cmd)
	cmd.Dir = sc.Def.Dir
	cmd.Env = os.Environ()
	for k, v := range sc.Def.Env {
		val, err := resolve(v, r.getenv)
		if err != nil {
			return fmt.Errorf("env %s: %w", k, err)
		}
		cmd.Env = append(cmd.Env, k+"="+val)
	}
	cmd.WaitDelay = 5 * time.Second
	var tail tailBuffer
	lw := &lineWriter{out: sc.Out, also: &tail}
	cmd.Stdout, cmd.Stderr = lw, lw
	sc.Out("$ %s", strings.Join(sc.Def.Exec, " "))
	err := cmd.Run()
	lw.flush()
	sc.State.Output = tail.String()
	if err != nil {
		return fmt.Errorf("%s: %w", sc.Def.Exec[0], err)
	}
	return nil
}

func (r *Runner) http(ctx context.Context, sc *StepContext) error {
	h := sc.Def.HTTP
	method := h.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, h.URL, nil)
	if err != nil {
		return err
	}
	c := r.HTTPClient
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	sc.State.Output = string(body)
	sc.Out("%s %s → %s", method, h.URL, resp.Status)
	if h.Expect != 0 && resp.StatusCode != h.Expect || h.Expect == 0 && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		return fmt.Errorf("%s %s answered %s", method, h.URL, resp.Status)
	}
	return nil
}

func (r *Runner) wait(ctx context.Context, sc *StepContext) error {
	// The deadline is saved with the step, so a resumed run waits only for what is left.
	until, err := time.Parse(time.RFC3339Nano, sc.State.Result["until"])
	if err != nil {
		until = sc.Now().Add(time.Duration(sc.Def.Wait))
		sc.State.Result = map[string]string{"until": until.Format(time.RFC3339Nano)}
		if err := r.save(ctx, sc.Run); err != nil {
			return err
		}
	}
	sc.Out("waiting until %s", until.Format(time.RFC3339))
	for sc.Now().Before(until) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(until.Sub(sc.Now()), r.pollEvery())):
		}
	}
	return nil
}

func (r *Runner) notify(ctx context.Context, sc *StepContext) error {
	if r.Notifier == nil {
		return errors.New("no notifier is wired into this runner; send the notice by hand, then mark the step done")
	}
	sc.Out("sending notice %s", sc.Def.Notify)
	summary, err := r.Notifier.Notify(ctx, sc.Run.Sunset, sc.Plan, sc.Def.Notify)
	if err != nil {
		return err
	}
	sc.Out("%s", summary)
	sc.State.Result = map[string]string{"notice": summary}
	return nil
}

// migrate posts every user's export to the alternative. Users already migrated are skipped, so
// the step may run again after a crash. The report (counts, and each failed user with the
// reason) is kept in the step's result and output; the step fails when any user failed.
func (r *Runner) migrate(ctx context.Context, sc *StepContext) error {
	if r.Migrator == nil {
		return errors.New("no export service is wired into this runner; exports cannot be sent")
	}
	m := *sc.Def.Migrate
	sc.Out("sending each user's export to %s", m.URL)
	rep, err := r.Migrator.Migrate(ctx, sc.Run.Sunset, m, export.MigrateOptions{Backoff: r.RetryDelay, Out: sc.Out})
	if rep != nil {
		sc.State.Result = map[string]string{"sent": fmt.Sprint(rep.Sent), "already": fmt.Sprint(rep.Already),
			"failed": fmt.Sprint(rep.Failed), "skipped": fmt.Sprint(rep.Skipped)}
		var b strings.Builder
		fmt.Fprintf(&b, "migration: %d sent, %d already migrated, %d failed, %d without an export\n", rep.Sent, rep.Already, rep.Failed, rep.Skipped)
		for _, f := range rep.Failures {
			fmt.Fprintf(&b, "  %s: %s (%d attempts)\n", f.User, f.Error, f.Attempts)
		}
		if int64(len(rep.Failures)) < rep.Failed {
			fmt.Fprintf(&b, "  … and %d more (sunset export status)\n", rep.Failed-int64(len(rep.Failures)))
		}
		sc.State.Output = b.String()
		sc.Out("%d sent, %d already migrated, %d failed", rep.Sent, rep.Already, rep.Failed)
	}
	if err != nil {
		return err
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%d users' exports did not reach the alternative; see sunset runbook status", rep.Failed)
	}
	return nil
}

// exports passes when the export check does: the export job is done, none failed, and every
// export was downloaded or is kept in a backup. Otherwise it fails with the check's problems.
func (r *Runner) exports(ctx context.Context, sc *StepContext) error {
	if r.Exports == nil {
		return errors.New("no export service is wired into this runner; check the exports with sunset export check, then mark the step done")
	}
	sc.Out("checking that every export was downloaded or is kept in a backup")
	rep, err := r.Exports.Check(ctx, sc.Run.Sunset)
	if err != nil {
		return err
	}
	c := rep.Counts
	sc.State.Result = map[string]string{"users": fmt.Sprint(c.Users), "downloaded": fmt.Sprint(c.Downloaded),
		"kept": fmt.Sprint(c.Kept), "failed": fmt.Sprint(c.Failed), "outstanding": fmt.Sprint(c.Outstanding)}
	sc.Out("%d users: %d downloaded, %d kept in a backup, %d failed, %d outstanding", c.Users, c.Downloaded, c.Kept, c.Failed, c.Outstanding)
	if rep.OK {
		return nil
	}
	var b strings.Builder
	for _, p := range rep.Problems {
		fmt.Fprintf(&b, "%s\n", p)
	}
	if len(rep.Outstanding) > 0 {
		fmt.Fprintf(&b, "outstanding: %s", strings.Join(rep.Outstanding, ", "))
		if int64(len(rep.Outstanding)) < c.Outstanding {
			fmt.Fprintf(&b, " … and %d more", c.Outstanding-int64(len(rep.Outstanding)))
		}
		b.WriteString("\n")
	}
	sc.State.Output = b.String()
	return rep.Err()
}

// resolve reads env:NAME and file:PATH references; other values are literal.
func resolve(v string, getenv func(string) string) (string, error) {
	switch {
	case strings.HasPrefix(v, "env:"):
		return getenv(strings.TrimPrefix(v, "env:")), nil
	case strings.HasPrefix(v, "file:"):
		b, err := os.ReadFile(strings.TrimPrefix(v, "file:"))
		return strings.TrimSpace(string(b)), err
	}
	return v, nil
}

// lineWriter splits written bytes into lines for out.
type lineWriter struct {
	mu   sync.Mutex
	out  func(string, ...any)
	also io.Writer
	buf  bytes.Buffer
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.also != nil {
		w.also.Write(p)
	}
	w.buf.Write(p)
	for {
		i := bytes.IndexAny(w.buf.Bytes(), "\n\r")
		if i < 0 {
			break
		}
		line := string(w.buf.Next(i + 1))
		if line = strings.TrimRight(line, "\r\n"); strings.TrimSpace(line) != "" {
			w.out("  %s", line)
		}
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := strings.TrimSpace(w.buf.String()); s != "" {
		w.out("  %s", s)
	}
	w.buf.Reset()
}

// tailBuffer keeps the last 4 KiB written.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
