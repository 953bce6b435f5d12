package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/runbook"
)

// runbookPollEvery is how often a runbook or backup command asks the server how the work goes.
const runbookPollEvery = 300 * time.Millisecond

// runbookFlags are the flags every runbook subcommand shares: the server, and who acts.
type runbookFlags struct {
	client clientFlags
	as     string
	detach bool
}

// add adds the client flags and --as to cmd; follow adds --detach for commands that follow a run.
func (o *runbookFlags) add(cmd *cobra.Command, follow bool) {
	o.client.add(cmd, true)
	cmd.Flags().StringVar(&o.as, "as", "", "who acts, recorded in the events (default $SUNSET_ACTOR or USER@HOST; a server with authentication records the token's name)")
	if follow {
		cmd.Flags().BoolVar(&o.detach, "detach", false, "return at once; the server goes on (follow it with: sunset runbook status NAME)")
	}
}

func (m *Main) runbookCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runbook",
		Short: "Run the final shutdown procedure on the server: durable, resumable, with approvals",
		Long: `Runbook carries out a sunset's shutdown procedure step by step: gateway phase switches,
drain, verified backups, commands, HTTP calls, approvals, waits and notices. The server
(sunset serve) runs every step, with its own keys and access; these commands are its
clients (--server, default $SUNSET_SERVER, else http://127.0.0.1:8080; --token or
$SUNSET_TOKEN) and never open a database themselves.

Every step's state is saved before and after it, so a run interrupted at any point goes
on where it stopped; a non-idempotent step that was in flight stops for an operator. A
run waiting for approvals goes on by itself when the last one arrives. No step at or
after the point of no return runs before every declared backup has been verified in
the run, unless an operator overrides it (recorded as an Event).

run, approve and resume follow the run and print its steps until it ends or waits for a
person; --detach returns at once. They exit 0 when the run is done, 1 when it waits for a
person (approve exits 0 when the run still waits for other approvals).`,
		Example: `  export SUNSET_SERVER=http://sunset.internal:8080
  sunset runbook run orders-api-v1 --dry-run
  sunset runbook run orders-api-v1
  sunset runbook status orders-api-v1
  sunset runbook approve orders-api-v1 --step sign-off --as zhang.min
  sunset runbook resume orders-api-v1 --mark-done     # the interrupted step did finish
  sunset runbook resume orders-api-v1 --override-backup-check --reason "backup taken by DBA, ticket 4711"
  sunset runbook abort orders-api-v1 --reason "postponed"`,
	}
	cmd.AddCommand(m.runbookRunCommand(), m.runbookStatusCommand(), m.runbookApproveCommand(),
		m.runbookResumeCommand(), m.runbookAbortCommand())
	return cmd
}

func (m *Main) runbookRunCommand() *cobra.Command {
	o := &runbookFlags{}
	var dry bool
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Start the runbook of a sunset on the server and follow it",
		Long: `Run asks the server to start a run of the sunset's runbook (the plan's, or the default
one when the plan declares none), then prints each step's progress until the run ends
or waits for a person. --dry-run shows the steps, their kinds and the point of no return
without running anything. A sunset whose latest run has not ended cannot start another.`,
		Example: `  sunset runbook run orders-api-v1 --dry-run
  sunset runbook run orders-api-v1 --as li.wei
  sunset runbook run orders-api-v1 --detach --server http://sunset.internal:8080`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			if dry {
				d, err := cl.RunbookDryRun(ctx, args[0])
				if err != nil {
					return clientError(err)
				}
				if o.client.format == "json" {
					return writeJSON(out, d)
				}
				printDryRun(out, d)
				return nil
			}
			v, err := cl.StartRunbook(ctx, args[0])
			if err != nil {
				return clientError(err)
			}
			return m.followRun(ctx, out, cl, o, v, 0, false)
		},
	}
	o.add(cmd, true)
	cmd.Flags().BoolVar(&dry, "dry-run", false, "show the steps, their kinds and the point of no return; run nothing")
	cmd.ValidArgsFunction = m.completeSunsets(&o.client)
	return cmd
}

// printDryRun prints what a run would do.
func printDryRun(w io.Writer, d *runbook.DryRun) {
	src := "the plan's runbook"
	if d.Default {
		src = "the default runbook (the plan declares none)"
	}
	fmt.Fprintf(w, "Runbook of %s: %s, %d steps\n", d.Sunset, src, len(d.Steps))
	for i, s := range d.Steps {
		if i == d.NoReturn {
			fmt.Fprintf(w, "  ── point of no return: needs verified backups of: %s ──\n", orNone(d.Backups))
		}
		idem := "idempotent"
		if !s.Idempotent {
			idem = "not idempotent: stops for an operator if interrupted"
		}
		extra := []string{idem}
		if s.Timeout != "" {
			extra = append(extra, "timeout "+s.Timeout)
		}
		if s.Retries > 0 {
			extra = append(extra, fmt.Sprintf("%d retries", s.Retries))
		}
		if s.OnFailure != "" {
			extra = append(extra, "on_failure "+s.OnFailure)
		}
		fmt.Fprintf(w, "  %2d. %-22s %-8s %-40s (%s)\n", i+1, s.Name, s.Kind, s.Description, strings.Join(extra, ", "))
	}
	fmt.Fprintln(w, "Dry run: nothing was executed.")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none declared)"
	}
	return strings.Join(s, ", ")
}

// followRun prints the run's log lines after seq seen as the server writes them until the run
// ends or waits for a person, then where it stands (runOutcome). With --detach it prints where
// the run stands now and returns; with --format json it prints the run.
func (m *Main) followRun(ctx context.Context, w io.Writer, cl *client.Client, o *runbookFlags, v *runbook.RunView, seen int64, waitingOK bool) error {
	if o.client.format == "json" {
		return writeJSON(w, v)
	}
	printLog := func(v *runbook.RunView) {
		for _, l := range v.Log {
			if l.Seq > seen {
				fmt.Fprintf(w, "%s %s%s\n", l.At.Format("15:04:05"), stepPrefix(l.Step), l.Line)
				seen = l.Seq
			}
		}
	}
	if o.detach {
		printLog(v)
		if v.State == runbook.StateRunning {
			fmt.Fprintf(w, "Run %d of %s goes on in the server; follow it with: sunset runbook status %s\n", v.ID, v.Sunset, v.Sunset)
			return nil
		}
		return runOutcome(w, v, waitingOK)
	}
	for {
		printLog(v)
		if v.State != runbook.StateRunning {
			return runOutcome(w, v, waitingOK)
		}
		select {
		case <-ctx.Done():
			return fail("stopped following run %d of %s; it goes on in the server (sunset runbook status %s)", v.ID, v.Sunset, v.Sunset)
		case <-time.After(runbookPollEvery):
		}
		next, err := cl.RunbookStatus(ctx, v.Sunset)
		if err != nil {
			return clientError(err)
		}
		v = next
	}
}

// lastLogSeq is the sequence number of the latest log line of the sunset's latest run, so that
// following the run after an approval or a decision prints only what comes next. A sunset
// without a run is 0: the action itself then says what is wrong.
func lastLogSeq(ctx context.Context, cl *client.Client, name string) (int64, error) {
	v, err := cl.RunbookStatus(ctx, name)
	if sunset.ErrorCode(err) == sunset.ENOTFOUND {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var seq int64
	for _, l := range v.Log {
		seq = max(seq, l.Seq)
	}
	return seq, nil
}

// stepPrefix is "[step] " for a step's log line.
func stepPrefix(step string) string {
	if step == "" {
		return ""
	}
	return "[" + step + "] "
}

// runOutcome prints where the run stands and turns a run that did not finish into exit 1 — but
// a run still waiting for approvals after an approval (waitingOK) is what approving leaves.
func runOutcome(w io.Writer, v *runbook.RunView, waitingOK bool) error {
	switch v.State {
	case runbook.StateDone:
		fmt.Fprintf(w, "Run %d is done.\n", v.ID)
		return nil
	case runbook.StateWaiting:
		fmt.Fprintf(w, "Run %d is %s: %s\n", v.ID, v.State, v.Message)
		if waitingOK {
			return nil
		}
		return &exitError{code: 1}
	case runbook.StateOperator, runbook.StateBlocked:
		fmt.Fprintf(w, "Run %d is %s: %s\n", v.ID, v.State, v.Message)
		return &exitError{code: 1}
	}
	return fail("run %d is %s: %s", v.ID, v.State, v.Message)
}

func (m *Main) runbookStatusCommand() *cobra.Command {
	o := &runbookFlags{}
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show the latest run: each step's state, approvals and overrides",
		Long: `Status asks the server for the sunset's latest run: its state, each step's status,
attempts, error and archive, the report of a migrate step, the approvals given and the
overrides made. --format json prints the run with its whole log.`,
		Example: `  sunset runbook status orders-api-v1
  sunset runbook status orders-api-v1 --format json
  SUNSET_SERVER=http://sunset.internal:8080 sunset runbook status orders-api-v1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			run, err := cl.RunbookStatus(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			w := cmd.OutOrStdout()
			if o.client.format == "json" {
				return writeJSON(w, run)
			}
			writeRunStatus(w, run)
			return nil
		},
	}
	o.client.add(cmd, true)
	cmd.ValidArgsFunction = m.completeSunsets(&o.client)
	return cmd
}

// writeRunStatus prints a run: its state, its steps, its approvals and overrides.
func writeRunStatus(w io.Writer, run *runbook.RunView) {
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
	for _, a := range run.Approvals {
		fmt.Fprintf(w, "  approved %s by %s (%s) at %s\n", a.Step, a.Person, a.Role, a.At.Format(time.RFC3339))
	}
	for _, ov := range run.Overrides {
		fmt.Fprintf(w, "  override by %s at %s: %s\n", ov.By, ov.At.Format(time.RFC3339), ov.Reason)
	}
}

func (m *Main) runbookApproveCommand() *cobra.Command {
	o := &runbookFlags{}
	var step, role string
	cmd := &cobra.Command{
		Use:   "approve NAME --step STEP",
		Short: "Approve an approval step of the latest run; the run goes on by itself",
		Long: `Approve records your approval of an approval step of the sunset's latest run, in a
role. Approvals come from distinct people. When the step has every approval it needs,
the run goes on in the server by itself (no resume needed); approve then follows it
like run does, unless --detach.`,
		Example: `  sunset runbook approve orders-api-v1 --step sign-off --as zhang.min
  sunset runbook approve orders-api-v1 --step sign-off --role approver --token "$APPROVER_TOKEN"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(step) == "" {
				return &exitError{code: 2, msg: "approve needs --step STEP (an approval step of the run; see sunset runbook status " + args[0] + ")"}
			}
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			seen, err := lastLogSeq(cmd.Context(), cl, args[0])
			if err != nil {
				return clientError(err)
			}
			v, err := cl.ApproveRunbook(cmd.Context(), args[0], step, role)
			if err != nil {
				return clientError(err)
			}
			if o.client.format != "json" {
				fmt.Fprintf(cmd.OutOrStdout(), "Approved step %s of run %d of %s.\n", step, v.ID, v.Sunset)
			}
			return m.followRun(cmd.Context(), cmd.OutOrStdout(), cl, o, v, seen, true)
		},
	}
	o.add(cmd, true)
	cmd.Flags().StringVar(&step, "step", "", "the approval step")
	cmd.Flags().StringVar(&role, "role", "approver", "the role you approve in")
	cmd.ValidArgsFunction = m.completeSunsets(&o.client)
	return cmd
}

func (m *Main) runbookResumeCommand() *cobra.Command {
	o := &runbookFlags{}
	var req runbook.ResumeRequest
	cmd := &cobra.Command{
		Use:   "resume NAME",
		Short: "An operator's decision about a run that stopped, after which it goes on",
		Long: `Resume is for a run that stopped for an operator: a non-idempotent step interrupted
mid-way (--mark-done if it did complete, --retry to run it again), a failed step, or the
point of no return reached without verified backups (--override-backup-check with a
--reason, recorded as an Event). Without flags it hands a stopped run back to the
server, which checks again what it waited for. Approvals need no resume: the run goes
on by itself when the last one arrives.`,
		Example: `  sunset runbook resume orders-api-v1 --mark-done     # the interrupted step did finish
  sunset runbook resume orders-api-v1 --retry
  sunset runbook resume orders-api-v1 --override-backup-check --reason "DBA took the backup, ticket 4711"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if req.OverrideBackupCheck && strings.TrimSpace(req.Reason) == "" {
				return &exitError{code: 2, msg: "--override-backup-check needs --reason: say why, it is recorded in the audit log"}
			}
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			seen, err := lastLogSeq(cmd.Context(), cl, args[0])
			if err != nil {
				return clientError(err)
			}
			v, err := cl.ResumeRunbook(cmd.Context(), args[0], req)
			if err != nil {
				return clientError(err)
			}
			return m.followRun(cmd.Context(), cmd.OutOrStdout(), cl, o, v, seen, false)
		},
	}
	o.add(cmd, true)
	cmd.Flags().BoolVar(&req.MarkDone, "mark-done", false, "the interrupted or failed step did complete: mark it done")
	cmd.Flags().BoolVar(&req.Retry, "retry", false, "run the interrupted or failed step again")
	cmd.Flags().BoolVar(&req.OverrideBackupCheck, "override-backup-check", false, "run past the point of no return without verified backups (recorded as an Event)")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why (required with --override-backup-check)")
	cmd.MarkFlagsMutuallyExclusive("mark-done", "retry")
	cmd.ValidArgsFunction = m.completeSunsets(&o.client)
	return cmd
}

func (m *Main) runbookAbortCommand() *cobra.Command {
	o := &runbookFlags{}
	var reason string
	cmd := &cobra.Command{
		Use:   "abort NAME --reason TEXT",
		Short: "End the latest run; no further step runs",
		Long: `Abort ends the sunset's latest run on the server: no further step runs, and a step in
flight is stopped. The reason is recorded in the runbook.aborted Event. A new run can
then be started with sunset runbook run.`,
		Example: `  sunset runbook abort orders-api-v1 --reason "postponed by the product owner"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return &exitError{code: 2, msg: "abort needs --reason: say why, it is recorded in the audit log"}
			}
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			v, err := cl.AbortRunbook(cmd.Context(), args[0], reason)
			if err != nil {
				return clientError(err)
			}
			if o.client.format == "json" {
				return writeJSON(cmd.OutOrStdout(), v)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Run %d of %s is %s: %s\n", v.ID, v.Sunset, v.State, v.Message)
			return nil
		},
	}
	o.add(cmd, false)
	cmd.Flags().StringVar(&reason, "reason", "", "why; recorded in the sunset's events")
	cmd.ValidArgsFunction = m.completeSunsets(&o.client)
	return cmd
}
