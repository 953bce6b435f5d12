package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
)

type runbookFlags struct {
	db   string
	plan string
	as   string
	key  string
}

func (m *Main) runbookCommand() *cobra.Command {
	o := &runbookFlags{}
	cmd := &cobra.Command{
		Use:   "runbook",
		Short: "Run the final shutdown procedure: durable, resumable, with approvals",
		Long: `Runbook carries out a sunset's shutdown procedure step by step: gateway phase switches,
drain, verified backups, commands, HTTP calls, approvals, waits and notices. Every
step's state is saved before and after it, so a run interrupted at any point resumes
where it stopped; a non-idempotent step that was in flight stops for an operator.
No step at or after the point of no return runs before every declared backup has
been verified in the run, unless an operator overrides it (recorded as an Event).

The plan comes from the sunset stored in --db, or from --plan FILE. When the plan
declares no runbook, the default one is used (see --dry-run).`,
		Example: `  sunset runbook run orders-api-v1 --dry-run
  sunset runbook run orders-api-v1 --as li.wei
  sunset runbook status orders-api-v1
  sunset runbook approve orders-api-v1 --step sign-off --as zhang.min --role approver
  sunset runbook resume orders-api-v1
  sunset runbook resume orders-api-v1 --mark-done     # the interrupted step did finish
  sunset runbook resume orders-api-v1 --override-backup-check --reason "backup taken by DBA, ticket 4711"
  sunset runbook abort orders-api-v1 --reason "postponed"`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.db, "db", "sqlite:sunset.db", "database holding sunsets and runs: sqlite:PATH or postgres://…")
	pf.StringVar(&o.plan, "plan", "", "read the plan from this file instead of the stored sunset")
	pf.StringVar(&o.as, "as", os.Getenv("USER"), "who is acting (recorded in events)")
	pf.StringVar(&o.key, "key", "env:SUNSET_BACKUP_KEY", "backup manifest signing key: env:NAME or file:PATH")
	cmd.AddCommand(m.runbookRunCommand(o), m.runbookStatusCommand(o), m.runbookApproveCommand(o),
		m.runbookResumeCommand(o), m.runbookAbortCommand(o))
	return cmd
}

// runbookEnv is what a runbook command works with.
type runbookEnv struct {
	store  *store.DB
	runner *runbook.Runner
	plan   *plan.Plan
}

// eventsAdapter records runbook events in the sunset's log when the sunset is stored.
type eventsAdapter struct{ eng *engine.Engine }

func (a eventsAdapter) Record(ctx context.Context, sunset, typ, actor string, data map[string]any) error {
	return a.eng.RecordEvent(ctx, sunset, typ, actor, data)
}

// errBackuper fails every backup step with the reason no backup service could be built.
type errBackuper struct{ err error }

func (e errBackuper) Backup(context.Context, plan.Backup, bool, io.Writer) (string, error) {
	return "", e.err
}

func (m *Main) openRunbook(ctx context.Context, o *runbookFlags, name string, out io.Writer) (*runbookEnv, error) {
	st, err := openStore(ctx, o.db, nil)
	if err != nil {
		return nil, fail("open database: %v", err)
	}
	env := &runbookEnv{store: st}
	clock, err := m.clock()
	if err != nil {
		st.Close()
		return nil, err
	}
	eng, err := engine.New(engine.Config{Store: st, Clock: clock})
	if err != nil {
		st.Close()
		return nil, err
	}
	var events runbook.Events
	_, err = eng.Get(ctx, name)
	stored := err == nil
	if stored {
		events = eventsAdapter{eng}
	}
	if o.plan != "" {
		p, problems := plan.ParseFile(o.plan)
		if err := problems.Err(); err != nil {
			st.Close()
			return nil, fail("%s: %v", o.plan, err)
		}
		env.plan = p
	} else {
		p, _, err := eng.Plan(ctx, name)
		if err != nil {
			st.Close()
			return nil, fail("sunset %s: %v (or give --plan FILE)", name, err)
		}
		env.plan = p
	}
	var backups runbook.Backuper
	if key, err := backup.LoadKey(o.key, m.Getenv); err != nil {
		backups = errBackuper{err}
	} else {
		backups = &runbook.BackupService{Key: key, Tool: "sunset " + version, Getenv: m.Getenv}
	}
	exports := &export.Service{Store: st, Getenv: m.Getenv, Now: clock.Now,
		Plan: func(context.Context, string) (*plan.Plan, error) { return env.plan, nil }}
	env.runner = &runbook.Runner{Store: st, Events: events, Backups: backups, Out: out, Now: clock.Now, Getenv: m.Getenv,
		Migrator: exports, Exports: exports}
	// The gateway, drain and notify steps act on the stored sunset: its phase override (which
	// `sunset serve` applies to the gateways' policy), its gateways' counters, its notify outbox.
	// A plan given with --plan alone has none of those, and those steps fail saying so.
	if stored {
		runbookCollaborators(env.runner, st, eng, clock.Now)
	}
	return env, nil
}

func (m *Main) runbookRunCommand(o *runbookFlags) *cobra.Command {
	var dry bool
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Start the runbook of a sunset and follow it live",
		Example: `  sunset runbook run orders-api-v1 --dry-run
  sunset runbook run orders-api-v1 --plan sunset.yaml --db sqlite:sunset.db --as li.wei`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, err := m.openRunbook(ctx, o, args[0], cmd.OutOrStdout())
			if err != nil {
				return err
			}
			defer env.store.Close()
			if dry {
				printDryRun(cmd.OutOrStdout(), args[0], env.plan)
				return nil
			}
			run, err := env.runner.Start(ctx, args[0], env.plan, o.as)
			if err != nil {
				return err
			}
			run, err = env.runner.Execute(ctx, run.ID, env.plan)
			return runOutcome(cmd.OutOrStdout(), run, err)
		},
	}
	cmd.Flags().BoolVar(&dry, "dry-run", false, "show the steps, their kinds and the point of no return; run nothing")
	return cmd
}

func printDryRun(w io.Writer, name string, p *plan.Plan) {
	steps := runbook.Steps(p)
	src := "the plan's runbook"
	if len(p.Runbook) == 0 {
		src = "the default runbook (the plan declares none)"
	}
	fmt.Fprintf(w, "Runbook of %s: %s, %d steps\n", name, src, len(steps))
	nr := runbook.NoReturnIndex(steps)
	for i, s := range steps {
		if i == nr {
			var names []string
			for _, b := range p.Data.Backups {
				names = append(names, b.Name)
			}
			fmt.Fprintf(w, "  ── point of no return: needs verified backups of: %s ──\n", orNone(names))
		}
		idem := "idempotent"
		if !runbook.Idempotent(s) {
			idem = "not idempotent: stops for an operator if interrupted"
		}
		extra := []string{idem}
		if s.Timeout > 0 {
			extra = append(extra, "timeout "+s.Timeout.String())
		}
		if s.Retries > 0 {
			extra = append(extra, fmt.Sprintf("%d retries", s.Retries))
		}
		if s.OnFailure != "" {
			extra = append(extra, "on_failure "+s.OnFailure)
		}
		fmt.Fprintf(w, "  %2d. %-22s %-8s %-40s (%s)\n", i+1, s.Name, runbook.Kind(s), describeStep(s), strings.Join(extra, ", "))
	}
	fmt.Fprintln(w, "Dry run: nothing was executed.")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none declared)"
	}
	return strings.Join(s, ", ")
}

func describeStep(s plan.RunbookStep) string {
	switch runbook.Kind(s) {
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

// runOutcome prints where the run stands and turns a run that did not finish into exit 1.
func runOutcome(w io.Writer, run *runbook.Run, err error) error {
	if err != nil {
		return err
	}
	switch run.State {
	case runbook.StateDone:
		fmt.Fprintf(w, "Run %d is done.\n", run.ID)
		return nil
	case runbook.StateWaiting, runbook.StateOperator, runbook.StateBlocked:
		fmt.Fprintf(w, "Run %d is %s: %s\n", run.ID, run.State, run.Message)
		return &exitError{code: 1}
	}
	return fail("run %d is %s: %s", run.ID, run.State, run.Message)
}

func (m *Main) latestRun(ctx context.Context, env *runbookEnv, name string) (*runbook.Run, error) {
	run, err := env.store.LatestRun(ctx, name)
	if errors.Is(err, runbook.ErrNoRun) {
		return nil, fail("sunset %s has no runbook run; start one with: sunset runbook run %s", name, name)
	}
	return run, err
}

func (m *Main) runbookStatusCommand(o *runbookFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "status NAME",
		Short:   "Show the latest run: each step's state, and the run's log",
		Example: `  sunset runbook status orders-api-v1`,
		Args:    cobra.ExactArgs(1),
		RunE: m.withLatestRun(o, false, func(ctx context.Context, cmd *cobra.Command, env *runbookEnv, run *runbook.Run) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Run %d of %s: %s (started by %s at %s)\n", run.ID, run.Sunset, run.State, run.StartedBy, run.Created.Format(time.RFC3339))
			if run.Message != "" {
				fmt.Fprintf(w, "  %s\n", run.Message)
			}
			for i, s := range run.Steps {
				line := fmt.Sprintf("  %2d. %-22s %-8s %-15s attempts %d", i+1, s.Name, s.Kind, s.Status, s.Attempts)
				if s.Error != "" {
					line += "  " + s.Error
				}
				if a := s.Result["archive"]; a != "" {
					line += "  archive " + a
				}
				fmt.Fprintln(w, line)
				if s.Kind == "migrate" && s.Output != "" {
					// The migration report: counts, and every failed user with the reason.
					for _, l := range strings.Split(strings.TrimRight(s.Output, "\n"), "\n") {
						fmt.Fprintf(w, "      %s\n", l)
					}
				}
			}
			for _, ov := range run.Overrides {
				fmt.Fprintf(w, "  override by %s at %s: %s\n", ov.By, ov.At.Format(time.RFC3339), ov.Reason)
			}
			return nil
		}),
	}
}

func (m *Main) runbookApproveCommand(o *runbookFlags) *cobra.Command {
	var step, role string
	cmd := &cobra.Command{
		Use:     "approve NAME --step STEP --as PERSON --role ROLE",
		Short:   "Approve an approval step of the latest run",
		Example: `  sunset runbook approve orders-api-v1 --step sign-off --as zhang.min --role approver`,
		Args:    cobra.ExactArgs(1),
		RunE: m.withLatestRun(o, true, func(ctx context.Context, cmd *cobra.Command, env *runbookEnv, run *runbook.Run) error {
			if err := env.runner.Approve(ctx, run, step, o.as, role); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Continue the run with: sunset runbook resume %s\n", run.Sunset)
			return nil
		}),
	}
	cmd.Flags().StringVar(&step, "step", "", "the approval step")
	cmd.Flags().StringVar(&role, "role", "approver", "the role you approve in")
	_ = cmd.MarkFlagRequired("step")
	return cmd
}

func (m *Main) runbookResumeCommand(o *runbookFlags) *cobra.Command {
	var markDone, retry, override bool
	var reason string
	cmd := &cobra.Command{
		Use:   "resume NAME",
		Short: "Continue the latest run where it stopped (after a crash, an approval or an operator's decision)",
		Example: `  sunset runbook resume orders-api-v1
  sunset runbook resume orders-api-v1 --retry
  sunset runbook resume orders-api-v1 --override-backup-check --reason "DBA took the backup"`,
		Args: cobra.ExactArgs(1),
		RunE: m.withLatestRun(o, true, func(ctx context.Context, cmd *cobra.Command, env *runbookEnv, run *runbook.Run) error {
			var err error
			switch {
			case markDone:
				err = env.runner.Resolve(ctx, run, runbook.MarkDone, o.as)
			case retry:
				err = env.runner.Resolve(ctx, run, runbook.Retry, o.as)
			}
			if err == nil && override {
				err = env.runner.Override(ctx, run, o.as, reason)
			}
			if err != nil {
				return err
			}
			if run.StartedBy == engineActor {
				return handBack(ctx, cmd.OutOrStdout(), env.store, run)
			}
			run, err = env.runner.Execute(ctx, run.ID, env.plan)
			return runOutcome(cmd.OutOrStdout(), run, err)
		}),
	}
	cmd.Flags().BoolVar(&markDone, "mark-done", false, "the interrupted or failed step did complete: mark it done")
	cmd.Flags().BoolVar(&retry, "retry", false, "run the interrupted or failed step again")
	cmd.Flags().BoolVar(&override, "override-backup-check", false, "run past the point of no return without verified backups (recorded as an Event)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (required with --override-backup-check)")
	cmd.MarkFlagsMutuallyExclusive("mark-done", "retry")
	return cmd
}

func (m *Main) runbookAbortCommand(o *runbookFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:     "abort NAME --reason TEXT",
		Short:   "End the latest run; no further step runs",
		Example: `  sunset runbook abort orders-api-v1 --reason "postponed by the product owner"`,
		Args:    cobra.ExactArgs(1),
		RunE: m.withLatestRun(o, true, func(ctx context.Context, cmd *cobra.Command, env *runbookEnv, run *runbook.Run) error {
			return env.runner.Abort(ctx, run, o.as, reason)
		}),
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

// withLatestRun opens the runbook environment of the sunset named by the command's argument and
// hands fn its latest run, closing the store afterwards. live sends the run's step output to the
// command's stdout.
func (m *Main) withLatestRun(o *runbookFlags, live bool, fn func(ctx context.Context, cmd *cobra.Command, env *runbookEnv, run *runbook.Run) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		var out io.Writer
		if live {
			out = cmd.OutOrStdout()
		}
		env, err := m.openRunbook(ctx, o, args[0], out)
		if err != nil {
			return err
		}
		defer env.store.Close()
		run, err := m.latestRun(ctx, env, args[0])
		if err != nil {
			return err
		}
		return fn(ctx, cmd, env, run)
	}
}

// handBack returns a run the timeline started to the servers' runbook workers instead of
// driving it here: one of them holds its lease and drives it, so that a command and a
// replica never run its steps side by side.
func handBack(ctx context.Context, w io.Writer, st *store.DB, run *runbook.Run) error {
	if run.State.Ended() {
		return runOutcome(w, run, nil)
	}
	if run.State != runbook.StateRunning {
		run.State, run.Message, run.Updated = runbook.StateRunning, "", time.Now().UTC()
		if err := st.SaveRun(ctx, run); err != nil {
			return fail("hand run %d back to the server: %v", run.ID, err)
		}
	}
	fmt.Fprintf(w, "Run %d goes on in the server (sunset serve), which drives the runs the timeline started; follow it with: sunset runbook status %s\n", run.ID, run.Sunset)
	return nil
}
