package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/plan"
)

func (m *Main) planCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Check a plan file, show its timeline, print its JSON Schema",
		Long: `A plan (sunset.yaml) declares how one service is retired: its owners, alternatives,
consumers, milestones, features, brownouts, notices, guardrails, data and runbook.
These commands work on the file alone; no server is needed.`,
		Example: `  sunset plan validate sunset.yaml
  sunset plan timeline sunset.yaml --format json
  sunset plan schema > sunset.schema.json`,
	}
	cmd.AddCommand(m.planValidateCommand(), m.planTimelineCommand(), m.planSchemaCommand(), m.planNewCommand())
	return cmd
}

func (m *Main) planValidateCommand() *cobra.Command {
	var format, usageFile string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check plan files and report every problem with its place",
		Long: `Validate checks each plan file and prints every problem, one per line, as

  FILE:LINE:COL: field.path: message

The files a plan references (consumers.contacts) are read relative to the plan's folder,
as apply sends them: a missing file, or a contacts file with a wrong header, a duplicate
id, a bad email, an unknown locale or tier, text that is not UTF-8, or a cell a
spreadsheet would run as a formula (=, +, -, @), is a problem naming the plan's line and
the file's:

  sunset.yaml:12:13: consumers.contacts: contacts.csv:4:17: "ops(at)acme" is not an email address

It exits 0 when every file is valid (printing a one-line summary per file and any
warnings), and 1 when any file has a problem. An action whose instant is already past (now,
or --now) is a warning: applied now it runs at once, and the report counts it as skipped
(before apply), not late.`,
		Example: `  sunset plan validate examples/api-v2.yaml
  sunset plan validate plans/*.yaml
  sunset plan validate --format json sunset.yaml
  # As of a date: warn of actions that would already be past then
  sunset plan validate --now 2027-01-10 sunset.yaml
  # Warn when steps fall into the busiest hours seen in the logs
  sunset usage analyze --output json access.log > usage.json
  sunset plan validate --usage usage.json sunset.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if format != "text" && format != "json" {
				return &exitError{code: 2, msg: fmt.Sprintf("--format %q: use text or json", format)}
			}
			out := cmd.OutOrStdout()
			type fileResult struct {
				File     string        `json:"file"`
				Valid    bool          `json:"valid"`
				Summary  string        `json:"summary,omitempty"`
				Problems []problemJSON `json:"problems"`
			}
			var results []fileResult
			invalid := 0
			for _, f := range files {
				p, problems := parseBundle(f)
				r := fileResult{File: f, Valid: problems.Err() == nil, Problems: []problemJSON{}}
				for _, pr := range problems {
					r.Problems = append(r.Problems, toProblemJSON(pr))
				}
				if r.Valid {
					r.Summary = summarize(p)
					ws, err := usageWarnings(p, usageFile)
					if err != nil {
						return err
					}
					// Actions before now would run at once on apply: a warning, --now aware.
					if tl, err := p.Compile(); err == nil {
						clock, err := m.clock()
						if err != nil {
							return err
						}
						ws = append(ws, p.PastWarnings(tl, clock.Now())...)
					}
					problems = append(problems, ws...)
					for _, w := range ws {
						r.Problems = append(r.Problems, toProblemJSON(w))
					}
				} else {
					invalid++
				}
				results = append(results, r)
				if format == "text" {
					for _, pr := range problems {
						fmt.Fprintln(out, pr.String())
					}
					if r.Valid {
						fmt.Fprintf(out, "%s: ok: %s\n", f, r.Summary)
					}
				}
			}
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(results); err != nil {
					return err
				}
			}
			if invalid > 0 {
				if format == "text" && len(files) > 1 {
					return fail("%d of %d plans are invalid", invalid, len(files))
				}
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&usageFile, "usage", "", "a 'sunset usage analyze --output json' result: warn when milestones, brownouts or the runbook fall into the busiest hours")
	return cmd
}

type problemJSON struct {
	Line     int    `json:"line,omitempty"`
	Col      int    `json:"col,omitempty"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
	Severity string `json:"severity"`
}

func toProblemJSON(p plan.Problem) problemJSON {
	sev := "error"
	if p.Severity == plan.Warning {
		sev = "warning"
	}
	return problemJSON{Line: p.Pos.Line, Col: p.Pos.Col, Path: p.Path, Message: p.Message, Severity: sev}
}

// summarize describes a valid plan in one line.
func summarize(p *plan.Plan) string {
	var parts []string
	count := func(n int, one, many string) {
		if n == 1 {
			parts = append(parts, "1 "+one)
		} else if n > 1 {
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	count(len(p.Milestones), "milestone", "milestones")
	count(len(p.Features), "feature", "features")
	count(len(p.Brownouts), "brownout", "brownouts")
	count(len(p.Notices), "notice", "notices")
	count(len(p.Guardrails), "guardrail", "guardrails")
	count(len(p.Runbook), "runbook step", "runbook steps")
	s := p.Service.Name
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if ms, err := p.MilestoneTimes(); err == nil {
		if t, ok := ms[plan.Shutdown]; ok {
			s += "; shutdown " + t.In(p.Location()).Format("2006-01-02 15:04 MST")
		}
	}
	return s
}

func (m *Main) planTimelineCommand() *cobra.Command {
	var format string
	var width int
	cmd := &cobra.Command{
		Use:   "timeline FILE",
		Short: "Show every action a plan implies, in order, in the plan's time zone",
		Long: `Timeline compiles the plan and lists every action it implies: milestones, feature
phase changes, brownout windows, notices, guardrail checks, the runbook start and data
deletion, with absolute instants in the plan's time zone.

The text format is a terminal Gantt chart with a marker at the current time (pin it with
--now). The JSON format is:

  {"service": "...", "timezone": "...",
   "actions": [{"at": "<RFC 3339>", "kind": "...", "name": "...", "detail": "..."}]}

where kind is one of milestone, feature, brownout, notice, guardrail, runbook, data.`,
		Example: `  sunset plan timeline examples/api-v2.yaml
  sunset plan timeline examples/api-v2.yaml --now 2027-02-20T10:00:00+08:00
  sunset plan timeline examples/api-v2.yaml --format json | jq '.actions[] | select(.kind=="milestone")'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return &exitError{code: 2, msg: fmt.Sprintf("--format %q: use text or json", format)}
			}
			clock, err := m.clock()
			if err != nil {
				return err
			}
			tl, err := compileFile(cmd.OutOrStdout(), args[0])
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(tl)
			}
			return tl.WriteText(cmd.OutOrStdout(), clock.Now(), width)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().IntVar(&width, "width", 100, "width of the text chart in columns")
	return cmd
}

// parseBundle parses and validates a plan file and reads every file it references relative to
// the plan's folder, as apply would send them: a missing file or a contacts file with problems
// is a problem at the place the plan names it.
func parseBundle(file string) (*plan.Plan, plan.Problems) {
	p, problems := plan.ParseFile(file)
	if p == nil {
		return p, problems
	}
	return p, append(problems, p.CheckReferences(plan.LocalFiles(filepath.Dir(file)))...)
}

// compileFile parses, validates and compiles a plan file, printing its problems to w when it is
// invalid.
func compileFile(w io.Writer, file string) (*plan.Timeline, error) {
	p, problems := parseBundle(file)
	if problems.Err() != nil {
		for _, pr := range problems {
			fmt.Fprintln(w, pr.String())
		}
		return nil, fail("%s is invalid; fix the problems above", file)
	}
	tl, err := p.Compile()
	if err != nil {
		return nil, fail("%s: %v", file, err)
	}
	return tl, nil
}

func (m *Main) planSchemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of plan files, for editors",
		Long: `Schema prints a JSON Schema (draft 2020-12) generated from Sunset's plan types.
Point your editor's YAML language server at it for completion and checks while you type.
A copy is kept in the repository at docs/sunset.schema.json.`,
		Example: `  sunset plan schema > sunset.schema.json
  # VS Code (YAML extension), first line of sunset.yaml:
  # yaml-language-server: $schema=./sunset.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := plan.Schema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
}
