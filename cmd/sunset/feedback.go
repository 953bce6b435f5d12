package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/feedback"
)

func (m *Main) feedbackCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "feedback",
		Short: "Read what users say during the phase-out, or import it from a support tool",
		Long: `Users send feedback through the public form (/feedback/NAME on the server, in English
and Chinese), the API (POST /api/v1/sunsets/NAME/feedback) or a CSV export from a support
tool. Guardrails such as "feedback.negative_ratio > 0.4 over 24h" read it.`,
		Example: `  sunset feedback summary orders-api-v1
  sunset feedback import orders-api-v1 zendesk-export.csv`,
	}
	var sc, ic clientFlags
	summary := &cobra.Command{
		Use:   "summary NAME",
		Short: "Summarise a sunset's feedback: moods, categories, days, themes",
		Long: `Summary prints the feedback counts by mood and category, the negative ratio, the
extension requests, the days, the consumers who wrote, and the themes of the free text
(key phrases in English and Chinese; Chinese is segmented into words).`,
		Example: `  sunset feedback summary orders-api-v1
  sunset feedback summary orders-api-v1 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&sc)
			if err != nil {
				return err
			}
			s, err := cl.FeedbackSummary(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			if sc.format == "json" {
				return writeJSON(cmd.OutOrStdout(), s)
			}
			writeFeedbackSummary(cmd.OutOrStdout(), s)
			return nil
		},
	}
	sc.add(summary, true)
	summary.ValidArgsFunction = m.completeSunsets(&sc)
	imp := &cobra.Command{
		Use:   "import NAME FILE.csv",
		Short: "Import feedback from a CSV export of a support tool",
		Long: `Import reads a CSV file whose header names columns among at, mood, rating,
category, text, contact, consumer and locale (other columns are ignored). Valid rows are
stored; the others are listed with their line number, and nothing else is lost.`,
		Example: `  sunset feedback import orders-api-v1 tickets.csv`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&ic)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[1])
			if err != nil {
				return fail("read %s: %v", args[1], err)
			}
			res, err := cl.ImportFeedback(cmd.Context(), args[0], data)
			if err != nil {
				return clientError(err)
			}
			out := cmd.OutOrStdout()
			if ic.format == "json" {
				return writeJSON(out, res)
			}
			for _, p := range res.Problems {
				fmt.Fprintf(out, "%s:%d: %s\n", args[1], p.Line, p.Message)
			}
			fmt.Fprintf(out, "imported %d messages into %s\n", res.Imported, args[0])
			return nil
		},
	}
	ic.add(imp, true)
	cmd.AddCommand(summary, imp)
	return cmd
}

func writeFeedbackSummary(w io.Writer, s *feedback.Summary) {
	fmt.Fprintf(w, "%s: %d messages, %.0f%% negative, %d extension requests\n", s.Sunset, s.Total, s.NegativeRatio*100, s.ExtensionRequests)
	if s.Total == 0 {
		return
	}
	fmt.Fprintf(w, "  mood:      positive %d · neutral %d · negative %d\n", s.ByMood[feedback.Positive], s.ByMood[feedback.Neutral], s.ByMood[feedback.Negative])
	var cats []string
	for _, c := range feedback.Categories {
		if n := s.ByCategory[c]; n > 0 {
			cats = append(cats, fmt.Sprintf("%s %d", c, n))
		}
	}
	fmt.Fprintf(w, "  category:  %s\n", strings.Join(cats, " · "))
	if len(s.Themes) > 0 {
		var th []string
		for _, t := range s.Themes {
			th = append(th, fmt.Sprintf("%s (%d)", t.Phrase, t.Count))
		}
		fmt.Fprintf(w, "  themes:    %s\n", strings.Join(th, ", "))
	}
	if len(s.ByTier) > 0 {
		tiers := make([]string, 0, len(s.ByTier))
		for t := range s.ByTier {
			tiers = append(tiers, t)
		}
		sort.Strings(tiers)
		for _, t := range tiers {
			fmt.Fprintf(w, "  tier %-8s negative %d of %d\n", t+":", s.ByTier[t][feedback.Negative], s.ByTier[t][feedback.Positive]+s.ByTier[t][feedback.Neutral]+s.ByTier[t][feedback.Negative])
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tTOTAL\tNEGATIVE\tNEUTRAL\tPOSITIVE\tMORE TIME")
	for _, d := range s.Daily {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", d.Date, d.Total, d.Negative, d.Neutral, d.Positive, d.ExtensionRequests)
	}
	tw.Flush()
	if len(s.Consumers) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CONSUMER\tTIER\tMESSAGES\tNEGATIVE")
		for i, c := range s.Consumers {
			if i == 10 {
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", c.Consumer, c.Tier, c.Total, c.Negative)
		}
		tw.Flush()
	}
}
