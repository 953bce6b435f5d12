package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/notify"
)

// notifyStatusCommand prints the ledger of who was told about a sunset, from a server.
func (m *Main) notifyStatusCommand() *cobra.Command {
	var o clientFlags
	cmd := &cobra.Command{
		Use:   "status NAME [--server URL]",
		Short: "Show who was told: deliveries per notice and channel, failures, awareness per consumer",
		Long: `Status reads the ledger of a sunset from the server (GET /api/v1/sunsets/NAME/notices):
for each notice and channel endpoint how many messages are queued, sent (handed to the channel,
outcome not yet recorded), delivered (SMTP accepted, HTTP 2xx), failed, suppressed
(unsubscribed) or held (their links point at a loopback address because the server runs without
--public-url: restarting it with --public-url sends them); the latest failures with their reasons; and each consumer's awareness — the
channels that reached it and when a gateway first served it a Deprecation header. A consumer
is aware when at least one of them reached it; the unaware ones are listed first.`,
		Example: `  sunset notify status orders-api-v1
  sunset notify status orders-api-v1 --server http://127.0.0.1:8080 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&o)
			if err != nil {
				return err
			}
			l, err := cl.Notices(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			if o.format == "json" {
				return writeJSON(cmd.OutOrStdout(), l)
			}
			writeLedger(cmd.OutOrStdout(), l)
			return nil
		},
	}
	o.add(cmd, true)
	cmd.ValidArgsFunction = m.completeSunsets(&o)
	return cmd
}

// writeLedger prints a ledger as tables.
func writeLedger(out io.Writer, l *notify.Ledger) {
	fmt.Fprintf(out, "Notices of %s\n\n", l.Sunset)
	if len(l.Lines) == 0 {
		fmt.Fprintln(out, "No notice has been sent yet.")
	} else {
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NOTICE\tTEMPLATE\tCHANNEL\tQUEUED\tRETRYING\tSENT\tDELIVERED\tFAILED\tSUPPRESSED\tHELD")
		for _, x := range l.Lines {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", x.Notice, x.Template, x.Channel, x.Queued, x.Retrying, x.Sent, x.Delivered, x.Failed, x.Suppressed, x.Held)
		}
		tw.Flush()
	}
	if l.Held > 0 {
		fmt.Fprintf(out, "\n%d held, not sent: %s\n", l.Held, strings.TrimPrefix(l.HeldReason, "held: "))
	}
	fmt.Fprintf(out, "\nRecipients: %d, reached by at least one delivery: %d\n", l.Recipients, l.Aware)
	fmt.Fprintf(out, "Consumers: %d known, %d aware (%d told in-band by a gateway)\n", l.ConsumersKnown, l.ConsumersAware, l.InBand)
	if len(l.Consumers) > 0 {
		fmt.Fprintln(out)
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CONSUMER\tAWARE\tREACHED BY\tFAILED\tIN-BAND SINCE")
		// The unaware first: they are whom someone must still reach.
		for _, aware := range []bool{false, true} {
			for _, c := range l.Consumers {
				if c.Aware != aware {
					continue
				}
				inBand := "-"
				if !c.InBand.IsZero() {
					inBand = c.InBand.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, map[bool]string{true: "yes", false: "NO"}[c.Aware],
					orDash(strings.Join(c.Reached, ", ")), orDash(strings.Join(c.Failed, ", ")), inBand)
			}
		}
		tw.Flush()
		if l.Truncated {
			fmt.Fprintf(out, "(the first %d consumers by id; --format json has the same list)\n", len(l.Consumers))
		}
	}
	for _, b := range l.Breakers {
		switch {
		case b.Open:
			fmt.Fprintf(out, "\nChannel %s is DOWN: circuit breaker open since %s after %d failures; next try %s. Last error: %s\n",
				b.Channel, b.OpenedAt.UTC().Format(time.RFC3339), b.Failures, b.OpenUntil.UTC().Format(time.RFC3339), b.LastError)
		case b.Failures > 0:
			fmt.Fprintf(out, "\nChannel %s is failing: %d failure(s) in a row. Last error: %s\n", b.Channel, b.Failures, b.LastError)
		}
	}
	if len(l.Retrying) > 0 {
		fmt.Fprintln(out, "\nRetrying (latest):")
		for _, f := range l.Retrying {
			fmt.Fprintf(out, "  %s %s to %s: attempt %d failed, next attempt %s: %s\n", f.Notice, f.Channel, recipientText(f),
				f.Attempts, f.NextAt.UTC().Format(time.RFC3339), f.LastError)
		}
	}
	if len(l.Failures) > 0 {
		fmt.Fprintln(out, "\nLatest failures (given up):")
		for _, f := range l.Failures {
			fmt.Fprintf(out, "  %s %s to %s after %d attempt(s): %s\n", f.Notice, f.Channel, recipientText(f), f.Attempts, f.LastError)
		}
	}
}

// recipientText names a delivery's recipient: "acme <ops@acme.example.com>".
func recipientText(d notify.Delivery) string {
	if d.Recipient.Email != "" {
		return d.Recipient.ID + " <" + d.Recipient.Email + ">"
	}
	return d.Recipient.ID
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
