package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/engine"
)

func (m *Main) replanCommand() *cobra.Command {
	var c clientFlags
	var shift, reason string
	cmd := &cobra.Command{
		Use:   "replan NAME --shift DURATION --reason TEXT",
		Short: "Move every date of a sunset that still lies ahead",
		Long: `Replan shifts every instant of the sunset's plan that has not passed yet by --shift
(days and weeks are calendar days in the plan's time zone; a leading - brings dates
forward). What already happened stays. Future actions move, users already told get the
"schedule changed" notice where notify is configured, and the shift with its reason is
recorded in the sunset's events. The shifted plan becomes the sunset's next revision.`,
		Example: `  sunset replan orders-api-v1 --shift 14d --reason "Acme needs two more weeks"
  sunset replan orders-api-v1 --shift -1w --reason "migration finished early"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if shift == "" || strings.TrimSpace(reason) == "" {
				return &exitError{code: 2, msg: "replan needs --shift (e.g. 14d) and --reason"}
			}
			cl, err := m.client(&c)
			if err != nil {
				return err
			}
			res, err := cl.Replan(cmd.Context(), args[0], shift, reason)
			if err != nil {
				return clientError(err)
			}
			out := cmd.OutOrStdout()
			if c.format == "json" {
				return writeJSON(out, res)
			}
			fmt.Fprintf(out, "shifted sunset %s by %s (revision %d, state %s)\n", res.Sunset.Name, shift, res.Sunset.Revision, res.Sunset.State)
			for _, s := range res.Shifted {
				fmt.Fprintf(out, "  %-28s %s → %s\n", s.Path, s.From.Format("2006-01-02 15:04 Z07:00"), s.To.Format("2006-01-02 15:04 Z07:00"))
			}
			fmt.Fprintf(out, "%d actions moved, %d already done and kept\n", len(res.Moved), len(res.Kept))
			return nil
		},
	}
	c.add(cmd, true)
	cmd.ValidArgsFunction = m.completeSunsets(&c)
	cmd.Flags().StringVar(&shift, "shift", "", "how far to move the dates still ahead: 14d, 2w, -1w")
	cmd.Flags().StringVar(&reason, "reason", "", "why; recorded in the sunset's events")
	return cmd
}

func (m *Main) guardrailsCommand() *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "guardrails NAME",
		Short: "Show each guardrail of a sunset with its current value",
		Long: `Guardrails evaluates the sunset's guardrails now, as the engine does before every step:
each condition, the live value of its signal, and whether it has tripped. A guardrail
whose signal has no data yet shows "no data"; a ratio measured over fewer messages,
consumers or answers than its min_sample (default 20) shows "not enough data (n of 20)"
and does not trip; before the announcement a guardrail is not armed, and one whose
condition holds shows "would trip — not armed until announce".`,
		Example: `  sunset guardrails orders-api-v1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&c)
			if err != nil {
				return err
			}
			res, err := cl.Guardrails(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			out := cmd.OutOrStdout()
			if c.format == "json" {
				return writeJSON(out, res)
			}
			if len(res) == 0 {
				fmt.Fprintln(out, "no guardrail applies now")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "GUARDRAIL\tCONDITION\tVALUE\tTHEN\tSTATUS")
			for _, g := range res {
				value, status := "no data", "-"
				if g.Measured {
					value = fmt.Sprintf("%g", g.Value)
					switch g.Status {
					case engine.GuardTripped:
						status = "TRIPPED"
					case engine.GuardWouldTrip:
						status = "would trip — not armed until announce"
					case engine.GuardNotEnoughData:
						status = fmt.Sprintf("not enough data (%d of %d)", g.Sample, g.MinSample)
					default:
						status = "ok"
					}
					if sp := g.Suspect; sp != nil {
						status += fmt.Sprintf(" — SUSPECT: %d of %d messages from senders never seen before %s", sp.New, sp.Driving, sp.Since.Format(time.RFC3339))
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Name, g.Condition, value, g.Then, status)
			}
			return tw.Flush()
		},
	}
	c.add(cmd, true)
	cmd.ValidArgsFunction = m.completeSunsets(&c)
	return cmd
}
