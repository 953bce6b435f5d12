package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

// clientFlags are the flags every command that talks to a server shares.
type clientFlags struct {
	server string
	format string
	token  string
}

func (c *clientFlags) add(cmd *cobra.Command, formats bool) {
	cmd.Flags().StringVar(&c.server, "server", "", "Sunset server URL (default $SUNSET_SERVER or http://127.0.0.1:8080)")
	cmd.Flags().StringVar(&c.token, "token", "", "API token for a server with authentication (default $SUNSET_TOKEN)")
	if formats {
		cmd.Flags().StringVar(&c.format, "format", "text", "output format: text or json")
	}
}

func (m *Main) client(c *clientFlags) (*client.Client, error) {
	if c.format != "" && c.format != "text" && c.format != "json" {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("--format %q: use text or json", c.format)}
	}
	base := c.server
	if base == "" {
		base = m.Getenv("SUNSET_SERVER")
	}
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	token := c.token
	if token == "" {
		token = m.Getenv("SUNSET_TOKEN")
	}
	return &client.Client{BaseURL: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 60 * time.Second}, Actor: actorName(m.Getenv), Token: token}, nil
}

// actingClient is the client of c acting as as, when given (--as of the runbook, backup and
// export commands); otherwise as actorName.
func (m *Main) actingClient(c *clientFlags, as string) (*client.Client, error) {
	cl, err := m.client(c)
	if err != nil {
		return nil, err
	}
	if as != "" {
		cl.Actor = as
	}
	return cl, nil
}

// actorName names who runs the CLI, for the audit log: $SUNSET_ACTOR, else user@host.
func actorName(getenv func(string) string) string {
	if a := getenv("SUNSET_ACTOR"); a != "" {
		return a
	}
	name := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		name += "@" + h
	}
	return name
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// clientError turns a client error into a failure, printing every problem line a refused plan
// carries.
func clientError(err error) error {
	return fail("%v", err)
}

func (m *Main) applyCommand() *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Apply a plan to the server: create the sunset, or re-plan it",
		Long: `Apply sends a plan file to the server. A new service name creates a sunset; a plan
for an existing sunset re-plans it: actions that already happened stay, future actions
move to their new dates, and the difference is recorded in the sunset's events.
A plan that names stakeholders stays in draft until each has signed off (sunset signoff).
An invalid plan is refused with every problem listed; nothing is stored.

The plan travels with every file it references (consumers.contacts), read relative to the
plan file's folder on this machine and streamed to the server, which stores them with the
revision: the server never reads its own disk for them. Changing only the contacts file is
an apply too: a new revision, and an event that counts the contacts added, removed and
changed. A missing file, or a contacts file with problems, is refused with its line; nothing
is stored.`,
		Example: `  sunset apply examples/api-v2.yaml        # sends examples/orders-contacts.csv with it
  sunset apply sunset.yaml --server http://sunset.internal:8080`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&c)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fail("read plan: %v", err)
			}
			res, err := applyBundle(cmd.Context(), cl, args[0], data)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if c.format == "json" {
				return writeJSON(out, res)
			}
			for _, w := range res.Warnings {
				fmt.Fprintln(out, w)
			}
			for _, f := range res.Files {
				fmt.Fprintf(out, "%s: %s (%d contacts, %s bytes, sha256 %s…)\n", f.Kind, f.Ref, f.Count, strconv.FormatInt(f.Size, 10), shortHash(f.Hash))
			}
			s := res.Sunset
			switch {
			case res.Created:
				fmt.Fprintf(out, "created sunset %s (revision %d, state %s)\n", s.Name, s.Revision, s.State)
			case !res.Changed:
				fmt.Fprintf(out, "sunset %s unchanged (revision %d, state %s)\n", s.Name, s.Revision, s.State)
			default:
				fmt.Fprintf(out, "re-planned sunset %s (revision %d, state %s): %d moved, %d added, %d removed, %d already done and kept\n",
					s.Name, s.Revision, s.State, len(res.Moved), len(res.Added), len(res.Removed), len(res.Kept))
				for _, mv := range res.Moved {
					fmt.Fprintf(out, "  moved %s: %s → %s\n", mv.Key, mv.From.Format(time.RFC3339), mv.To.Format(time.RFC3339))
				}
			}
			if s.State == engine.StateDraft {
				fmt.Fprintf(out, "waiting for sign-off; each stakeholder runs: sunset signoff %s --as NAME\n", s.Name)
			}
			return nil
		},
	}
	c.add(cmd, true)
	return cmd
}

func (m *Main) statusCommand() *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Show every sunset, or one sunset in detail",
		Example: `  sunset status
  sunset status orders-api-v1
  sunset status orders-api-v1 --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&c)
			if err != nil {
				return err
			}
			clock, err := m.clock()
			if err != nil {
				return err
			}
			now := clock.Now()
			out := cmd.OutOrStdout()
			if len(args) == 0 {
				all, err := cl.List(cmd.Context())
				if err != nil {
					return clientError(err)
				}
				if c.format == "json" {
					return writeJSON(out, all)
				}
				if len(all) == 0 {
					fmt.Fprintln(out, "no sunsets yet; apply a plan: sunset apply sunset.yaml")
					return nil
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tSTATE\tREV\tNEXT")
				for _, s := range all {
					next := nextText(s, now)
					if len(s.Failing) > 0 {
						next = "FAILING " + s.Failing[0].Key + ": " + s.Failing[0].LastError
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", s.Name, s.State, s.Revision, next)
				}
				return tw.Flush()
			}
			s, err := cl.Get(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			if c.format == "json" {
				return writeJSON(out, s)
			}
			writeStatus(out, s, now)
			return nil
		},
	}
	c.add(cmd, true)
	cmd.ValidArgsFunction = m.completeSunsets(&c)
	return cmd
}

// nextText describes a sunset's next action with a countdown from now.
func nextText(s *engine.Status, now time.Time) string {
	if s.Next == nil {
		return "-"
	}
	loc := time.UTC
	if l, err := time.LoadLocation(s.TimeZone); err == nil && s.TimeZone != "" {
		loc = l
	}
	return fmt.Sprintf("%s %s at %s (%s)", s.Next.Kind, s.Next.Name, s.Next.At.In(loc).Format("2006-01-02 15:04 MST"), countdown(s.Next.At.Sub(now)))
}

// countdown writes d as "in 3d 4h" or "4h ago".
func countdown(d time.Duration) string {
	suffix, prefix := "", "in "
	if d < 0 {
		d, suffix, prefix = -d, " ago", ""
	}
	d = d.Round(time.Minute)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	var s string
	switch {
	case days > 0:
		s = fmt.Sprintf("%dd %dh", days, d/time.Hour)
	case d >= time.Hour:
		s = fmt.Sprintf("%dh %dm", d/time.Hour, (d%time.Hour)/time.Minute)
	default:
		s = fmt.Sprintf("%dm", d/time.Minute)
	}
	return prefix + s + suffix
}

func writeStatus(w io.Writer, s *engine.Status, now time.Time) {
	title := s.Title.In("en")
	if zh := s.Title.In("zh"); zh != title {
		title += " / " + zh
	}
	fmt.Fprintf(w, "%s", s.Name)
	if title != "" {
		fmt.Fprintf(w, " (%s)", title)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  state:     %s", s.State)
	if s.PausedFrom != "" {
		fmt.Fprintf(w, " (from %s)", s.PausedFrom)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  revision:  %d (plan %s)\n", s.Revision, shortHash(s.PlanHash))
	if len(s.Signoffs) > 0 {
		fmt.Fprintf(w, "  signed:    %s\n", strings.Join(s.Signoffs, ", "))
	}
	if len(s.Awaiting) > 0 {
		fmt.Fprintf(w, "  awaiting:  %s (sunset signoff %s --as NAME)\n", strings.Join(s.Awaiting, ", "), s.Name)
	}
	fmt.Fprintf(w, "  next:      %s\n", nextText(s, now))
	writeFailing(w, s)
	var counts []string
	for _, st := range []engine.ActionStatus{engine.ActionDone, engine.ActionSkipped, engine.ActionEnqueued, engine.ActionPending, engine.ActionHeld, engine.ActionSuperseded, engine.ActionCancelled} {
		if n := s.Actions[st]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, st))
		}
	}
	fmt.Fprintf(w, "  actions:   %s\n", strings.Join(counts, ", "))
}

// writeFailing writes what holds a sunset back: each failing action with its attempts and last
// error, the due actions waiting behind it, what an operator can do, and the engine's and the
// gateway's phases when they differ.
func writeFailing(w io.Writer, s *engine.Status) {
	loc := time.UTC
	if l, err := time.LoadLocation(s.TimeZone); err == nil && s.TimeZone != "" {
		loc = l
	}
	for _, a := range s.Failing {
		fmt.Fprintf(w, "  FAILING:   %s failed %d of %d times since %s: %s\n", a.Key, a.Attempts,
			s.AttemptsBeforePause, a.FailingSince.In(loc).Format("2006-01-02 15:04:05 MST"), a.LastError)
		if !a.RetryAt.IsZero() {
			fmt.Fprintf(w, "             next try at %s; the sunset pauses after %d failures\n",
				a.RetryAt.In(loc).Format("2006-01-02 15:04:05 MST"), s.AttemptsBeforePause)
		} else {
			fmt.Fprintf(w, "             waiting for an operator: sunset resume %s --reason \"…\" retries it, sunset skip %s --action %s --reason \"…\" skips it\n",
				s.Name, s.Name, a.Key)
		}
		fmt.Fprintln(w, "             动作失败，其后的动作在等待它")
	}
	if len(s.Blocked) > 0 {
		keys := make([]string, 0, len(s.Blocked))
		for _, a := range s.Blocked {
			keys = append(keys, a.Key)
		}
		fmt.Fprintf(w, "  blocked:   %s (due, waiting behind the failing action / 已到期，被阻塞)\n", strings.Join(keys, ", "))
	}
	if s.PhasesDiverge {
		fmt.Fprintf(w, "  phase:     engine %s, gateway %s — they differ (引擎与网关的阶段不一致)\n", s.EnginePhase, s.GatewayPhase)
	}
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// reasonCommand builds pause, resume and cancel, which share their shape.
func (m *Main) reasonCommand(use, short, long, example string, reasonRequired bool,
	call func(cl *client.Client, cmd *cobra.Command, name, reason string) (*engine.Sunset, error)) *cobra.Command {
	var c clientFlags
	var reason string
	cmd := &cobra.Command{
		Use:     use + " NAME",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reasonRequired && strings.TrimSpace(reason) == "" {
				return &exitError{code: 2, msg: use + " needs --reason: say why, it is recorded in the audit log"}
			}
			cl, err := m.client(&c)
			if err != nil {
				return err
			}
			s, err := call(cl, cmd, args[0], reason)
			if err != nil {
				return clientError(err)
			}
			if c.format == "json" {
				return writeJSON(cmd.OutOrStdout(), s)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sunset %s is now %s\n", s.Name, s.State)
			return nil
		},
	}
	c.add(cmd, true)
	cmd.ValidArgsFunction = m.completeSunsets(&c)
	cmd.Flags().StringVar(&reason, "reason", "", "why; recorded in the sunset's events")
	return cmd
}

func (m *Main) pauseCommand() *cobra.Command {
	return m.reasonCommand("pause", "Pause a sunset before its next step",
		`Pause stops a sunset: no milestone, notice, brownout or runbook step happens until an
operator resumes it. A reason is required; the pause and its reason are recorded as an event.
Stakeholders may still sign off a paused draft: their sign-offs count when it resumes.`,
		`  sunset pause orders-api-v1 --reason "Acme asked for two more weeks"`, true,
		func(cl *client.Client, cmd *cobra.Command, name, reason string) (*engine.Sunset, error) {
			return cl.Pause(cmd.Context(), name, reason)
		})
}

func (m *Main) resumeCommand() *cobra.Command {
	return m.reasonCommand("resume", "Resume a paused sunset",
		`Resume returns a paused sunset to where it was, or further: a draft whose stakeholders all
signed off during the pause is scheduled. Actions that fell due while it was paused run next,
in order; to move dates instead, shift them first (sunset replan NAME --shift 14d --reason …).
An action that kept failing and paused the sunset is tried again with fresh attempts (fix its
cause first; or skip it: sunset skip). A reason is required.`,
		`  sunset resume orders-api-v1 --reason "Acme migrated"`, true,
		func(cl *client.Client, cmd *cobra.Command, name, reason string) (*engine.Sunset, error) {
			return cl.Resume(cmd.Context(), name, reason)
		})
}

func (m *Main) skipCommand() *cobra.Command {
	var c clientFlags
	var key, reason string
	cmd := &cobra.Command{
		Use:   "skip NAME --action KEY --reason TEXT",
		Short: "Skip one action of a sunset that keeps failing",
		Long: `Skip marks one timeline action skipped: it never runs, and the actions after it run when
due. It is one of the operator's answers to an action that keeps failing (sunset status NAME
names it, with its error); the others are to retry it (sunset resume) or to fix the cause and
resume. A sunset the engine paused for that action resumes with the skip. The reason is
required and recorded, with the action's last error, in the sunset's events (action.skipped).
A milestone that moves the sunset's state cannot be skipped; re-plan it instead.

跳过：将一个反复失败的动作标记为跳过，其后的动作按时执行；须给出原因，记入审计日志。`,
		Example: `  sunset status orders-api-v1          # names the failing action, e.g. notice/0
  sunset skip orders-api-v1 --action notice/0 --reason "contacts file lost; customers told by phone"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(key) == "" {
				return &exitError{code: 2, msg: "skip needs --action KEY: sunset status " + args[0] + " names the failing action"}
			}
			if strings.TrimSpace(reason) == "" {
				return &exitError{code: 2, msg: "skip needs --reason: say why, it is recorded in the audit log"}
			}
			cl, err := m.client(&c)
			if err != nil {
				return err
			}
			s, err := cl.Skip(cmd.Context(), args[0], key, reason)
			if err != nil {
				return clientError(err)
			}
			if c.format == "json" {
				return writeJSON(cmd.OutOrStdout(), s)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "skipped %s of %s; sunset %s is now %s\n", key, s.Name, s.Name, s.State)
			return nil
		},
	}
	c.add(cmd, true)
	cmd.ValidArgsFunction = m.completeSunsets(&c)
	cmd.Flags().StringVar(&key, "action", "", "the key of the action to skip, e.g. notice/0 (sunset status NAME names it)")
	cmd.Flags().StringVar(&reason, "reason", "", "why it shall not run; recorded in the sunset's events")
	return cmd
}

func (m *Main) cancelCommand() *cobra.Command {
	return m.reasonCommand("cancel", "Cancel a sunset for good",
		`Cancel ends a sunset: nothing further happens and the service stays as it is.
It cannot be undone; to retire the service later, apply a plan under a new name.`,
		`  sunset cancel orders-api-v1 --reason "v1 stays for the China region"`, false,
		func(cl *client.Client, cmd *cobra.Command, name, reason string) (*engine.Sunset, error) {
			return cl.Cancel(cmd.Context(), name, reason)
		})
}

func (m *Main) signoffCommand() *cobra.Command {
	var c clientFlags
	var as string
	cmd := &cobra.Command{
		Use:   "signoff NAME --as STAKEHOLDER",
		Short: "Sign off a sunset's plan as one of its stakeholders",
		Long: `A plan that names stakeholders (support, sales, legal...) stays in draft until each has
signed off. When the last one signs, the sunset is scheduled and its timeline starts.
A draft that is paused takes sign-offs too: they count when it resumes.
Each sign-off is recorded as an event with the plan revision it approves.`,
		Example: `  sunset signoff orders-api-v1 --as legal`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if as == "" {
				return &exitError{code: 2, msg: "signoff needs --as STAKEHOLDER (a name from the plan's stakeholders)"}
			}
			cl, err := m.client(&c)
			if err != nil {
				return err
			}
			s, err := cl.Signoff(cmd.Context(), args[0], as)
			if err != nil {
				return clientError(err)
			}
			if c.format == "json" {
				return writeJSON(cmd.OutOrStdout(), s)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s signed off %s; state %s", as, s.Name, s.State)
			if s.State == engine.StatePaused && s.PausedFrom == engine.StateDraft {
				fmt.Fprint(cmd.OutOrStdout(), " (paused in draft: the sign-off counts when it resumes)")
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	c.add(cmd, true)
	cmd.ValidArgsFunction = m.completeSunsets(&c)
	cmd.Flags().StringVar(&as, "as", "", "the stakeholder you sign for")
	return cmd
}

func (m *Main) eventsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List a sunset's audit events, or verify their hash chain",
		Example: `  sunset events list orders-api-v1
  sunset events verify orders-api-v1`,
	}
	var lc, vc clientFlags
	list := &cobra.Command{
		Use:     "list NAME",
		Short:   "List a sunset's events, oldest first",
		Example: "  sunset events list orders-api-v1 --format json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&lc)
			if err != nil {
				return err
			}
			evs, err := cl.Events(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			out := cmd.OutOrStdout()
			if lc.format == "json" {
				return writeJSON(out, evs)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tAT\tTYPE\tACTOR\tDATA")
			for _, ev := range evs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", ev.Seq, ev.At.Format(time.RFC3339), ev.Type, ev.Actor, truncate(string(ev.Data), 100))
			}
			return tw.Flush()
		},
	}
	lc.add(list, true)
	list.ValidArgsFunction = m.completeSunsets(&lc)
	verify := &cobra.Command{
		Use:   "verify NAME",
		Short: "Check that no event of a sunset was changed or removed",
		Long: `Every event carries the hash of the one before it, and the sunset records the newest.
Verify recomputes the chain and reports each event that was changed or removed.
It exits 0 when the chain is intact and 1 otherwise.`,
		Example: "  sunset events verify orders-api-v1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&vc)
			if err != nil {
				return err
			}
			v, err := cl.VerifyEvents(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			out := cmd.OutOrStdout()
			if vc.format == "json" {
				if err := writeJSON(out, v); err != nil {
					return err
				}
			} else if v.OK {
				fmt.Fprintf(out, "%s: %d events, chain intact (head %s)\n", v.Sunset, v.Events, shortHash(v.Head))
			} else {
				for _, p := range v.Problems {
					fmt.Fprintf(out, "%s: %s\n", v.Sunset, p)
				}
			}
			if !v.OK {
				return fail("the event chain of %s is broken: %d problems", v.Sunset, len(v.Problems))
			}
			return nil
		},
	}
	vc.add(verify, true)
	verify.ValidArgsFunction = m.completeSunsets(&vc)
	cmd.AddCommand(list, verify)
	return cmd
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// completeSunsets completes a sunset name by asking the server for the list.
func (m *Main) completeSunsets(c *clientFlags) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cl, err := m.client(c)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
		defer cancel()
		all, err := cl.List(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
		}
		names := make([]string, 0, len(all))
		for _, s := range all {
			names = append(names, s.Name+"\t"+string(s.State))
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// applyBundle sends the plan in data (read from path) with the files it references, read
// relative to path's folder. A referenced file that is missing is refused here, with the place
// the plan names it, before anything is sent.
func applyBundle(ctx context.Context, cl *client.Client, path string, data []byte) (*engine.ApplyResult, error) {
	p, _ := plan.Parse(path, data)
	refs := p.References()
	if len(refs) == 0 {
		res, err := cl.Apply(ctx, path, data)
		if err != nil {
			return nil, clientError(err)
		}
		return res, nil
	}
	dir := filepath.Dir(path)
	var missing []string
	for _, r := range refs {
		if _, err := os.Stat(plan.LocalPath(dir, r.Name)); err != nil {
			missing = append(missing, fmt.Sprintf("%s:%d:%d: %s: cannot read %s", path, r.Pos.Line, r.Pos.Col, r.Path, (&plan.RefError{Ref: r, Err: err}).Error()))
		}
	}
	if len(missing) > 0 {
		return nil, fail("%s\nnothing was sent", strings.Join(missing, "\n"))
	}
	res, err := cl.ApplyBundle(ctx, path, data, refs, plan.LocalFiles(dir))
	if err != nil {
		return nil, clientError(err)
	}
	return res, nil
}
