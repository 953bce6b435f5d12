package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/sunsetops/sunset/client"
)

// reportOptions are the flags of `sunset report`.
type reportOptions struct {
	client     clientFlags
	format     string
	lang       string
	accounts   string
	assessment bool
	out        string
}

func (m *Main) reportCommand() *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report NAME",
		Short: "Write a sunset's impact assessment (before) or its report (after the shutdown)",
		Long: `Report asks the server for the evaluation of a sunset and writes it as JSON, Markdown
or one self-contained HTML file (inline CSS and SVG charts, no script, no network; it
prints well), in English or Chinese.

The report: planned vs actual timeline, consumers at announcement vs at shutdown and the
migration curve, notices by channel and consumer awareness, feedback and survey,
guardrail trips and pauses, runbook step durations, straggler traffic after the shutdown,
the audit chain's verification, and the lessons learned (sunset report lessons).
Writing the report of a shut-down sunset moves it to evaluated.

--assessment answers, before scheduling, "what will this shutdown hit?": consumers and
tiers still active, features in use, the plan's risks with owners, stakeholders and
their sign-off — the document stakeholders sign off on.

--accounts adds the business impact from a CSV (account,consumers,revenue[,status];
consumer ids separated by ";"): revenue at risk, and after the shutdown churned vs
migrated vs retained accounts and revenue lost. The file is sent with the request and
not kept. The fields are documented in docs/report.md.

报告：下线前的影响评估（--assessment）或关停后的评估报告，JSON、Markdown 或单文件 HTML，--lang zh 输出中文。`,
		Example: `  sunset report orders-api-v1 --assessment --accounts accounts.csv --format md
  sunset report orders-api-v1 --format html --lang zh -o report.html
  sunset report orders-api-v1 --format json --server http://sunset.internal:8080`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.report(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	o.client.add(cmd, false)
	f.StringVar(&o.format, "format", "md", "output format: html, md or json")
	f.StringVar(&o.lang, "lang", "en", "language of md and html: en or zh")
	f.StringVar(&o.accounts, "accounts", "", "accounts CSV (account,consumers,revenue[,status]) for the business impact")
	f.BoolVar(&o.assessment, "assessment", false, "write the impact assessment (before scheduling) instead of the report")
	f.StringVarP(&o.out, "output", "o", "", "write to this file instead of standard output")
	cmd.ValidArgsFunction = m.completeSunsets(&o.client)
	cmd.AddCommand(m.reportLessonsCommand())
	return cmd
}

func (m *Main) report(cmd *cobra.Command, name string, o reportOptions) error {
	switch o.format {
	case "html", "md", "json":
	default:
		return &exitError{code: 2, msg: fmt.Sprintf("--format %q: use html, md or json", o.format)}
	}
	if o.lang != "en" && o.lang != "zh" {
		return &exitError{code: 2, msg: fmt.Sprintf("--lang %q: use en or zh", o.lang)}
	}
	req := client.ReportRequest{Format: o.format, Lang: o.lang, Assessment: o.assessment}
	if o.accounts != "" {
		b, err := os.ReadFile(o.accounts)
		if err != nil {
			return fail("--accounts: %v", err)
		}
		req.Accounts = b
	}
	cl, err := m.client(&o.client)
	if err != nil {
		return err
	}
	doc, err := cl.Report(cmd.Context(), name, req)
	if err != nil {
		return clientError(err)
	}
	if o.out == "" {
		_, err := cmd.OutOrStdout().Write(doc)
		return err
	}
	return writeFileAtomic(o.out, doc)
}

// writeFileAtomic writes data to path through a temporary file in the same directory, so that
// a reader never sees half a report.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fail("write %s: %v", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fail("write %s: %v", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fail("write %s: %v", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fail("write %s: %v", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail("write %s: %v", path, err)
	}
	return nil
}

func (m *Main) reportLessonsCommand() *cobra.Command {
	var c clientFlags
	var file string
	cmd := &cobra.Command{
		Use:   "lessons NAME --file FILE",
		Short: "Set the lessons learned shown in a sunset's report",
		Long: `Lessons replaces the lessons learned of a sunset with the text of FILE (Markdown is
kept as written; "-" reads standard input). An empty file clears them.`,
		Example: `  sunset report lessons orders-api-v1 --file lessons.md`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return &exitError{code: 2, msg: "--file is required (the lessons' text, or - for standard input)"}
			}
			var text []byte
			var err error
			if file == "-" {
				text, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
			} else {
				text, err = os.ReadFile(file)
			}
			if err != nil {
				return fail("--file: %v", err)
			}
			cl, err := m.client(&c)
			if err != nil {
				return err
			}
			l, err := cl.PutLessons(cmd.Context(), args[0], string(text))
			if err != nil {
				return clientError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: lessons learned saved (%d characters) by %s\n", args[0], len([]rune(l.Text)), l.UpdatedBy)
			return nil
		},
	}
	c.add(cmd, false)
	cmd.Flags().StringVar(&file, "file", "", "file with the lessons learned (Markdown), or - for standard input")
	cmd.ValidArgsFunction = m.completeSunsets(&c)
	return cmd
}
