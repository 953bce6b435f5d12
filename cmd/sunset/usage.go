package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/usage"
)

func (m *Main) usageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Find who still uses the service, which features, and when it is quiet, from access logs",
		Long: `Usage reads the retiring service's access logs and answers who still calls it, which
features and endpoints they use, whether usage is declining, and which weekly windows
are quiet enough for the shutdown steps.`,
		Example: `  sunset usage analyze /var/log/nginx/access.log*
  sunset usage analyze --plan sunset.yaml --output html access.log.gz > usage.html`,
	}
	cmd.AddCommand(m.usageAnalyzeCommand())
	return cmd
}

// usageAnalyzeLong is the help text of `sunset usage analyze`.
const usageAnalyzeLong = `Analyze reads access logs and prints who uses the service and when.

Inputs are files (plain, .gz or .zst), glob patterns (quote them), or - for standard
input. The format is detected from the first lines of each input (combined, common,
JSON lines) unless --format names it; custom formats are given as the server writes
them (an nginx log_format or Apache LogFormat string). Timestamps keep the offsets in
the log: days are the log's own calendar days; the heatmap and quiet windows use the
plan's time zone, or --tz (UTC by default).

With --plan, routes are mapped to the plan's features (Go ServeMux patterns), consumers
are identified as the plan says (consumers.identify) and joined with its contacts file
(names, tiers), and the heatmap uses the plan's time zone.

With --alternative, the alternative service's logs are read too, and consumers are
sorted into moved, using both, and not moved yet.

Where there are no logs, --prometheus URL --query PROMQL reads the requests from a
Prometheus server instead: a range query (over --since, one sample every --step) whose
series carry the route and the consumer as labels (--route-label, --consumer-label) and
whose values are request counts per step, e.g.
sum by (route, client) (increase(http_requests_total[1h])) with --step 1h.

Where a gateway ran standalone, its counter files (sunset gateway --usage-file, JSON
lines of flushes) are inputs too: they are recognised by their first line, or named by
--format gateway. They count features, not paths: endpoints read "feature:NAME", and a
flush found twice (overlapping copies) is counted once.

With --server, the requests per feature, consumer and hour go to the control plane for
the sunset named by --sunset (or the plan's service), as a gateway's counts do: notices
to active consumers and consumers.* guardrails then see them. The batches carry an id
derived from the analysis, so sending the same logs again adds nothing.

Output: a terminal summary (text), json (field names are stable, see docs/usage.md),
csv (all tables in one stream, first column names the table), or html (one
self-contained file with charts). Counts are exact, except distinct consumers per
endpoint above 1,024 (a HyperLogLog estimate, 1.6% standard error); parsed + malformed
= lines.
The exit status is 1 when an input could not be read (the others are still analysed).`

// usageAnalyzeExample is the examples of `sunset usage analyze`.
const usageAnalyzeExample = `  # The summary of a day of nginx logs, compressed or not
  sunset usage analyze /var/log/nginx/access.log /var/log/nginx/access.log.1.gz

  # With the plan: features, contacts and tiers, the plan's time zone, 3h windows
  sunset usage analyze --plan sunset.yaml --window 3h 'logs/*.log.zst'

  # A custom nginx format that logs the API key, consumers named by it
  sunset usage analyze --identify header:X-API-Key \
    --format 'nginx:$remote_addr [$time_local] "$request" $status $body_bytes_sent "$http_user_agent" $http_x_api_key' access.log

  # JSON lines with their own field names, from standard input
  zcat app.json.gz | sunset usage analyze --format json:time=ts,ip=client,path=uri -

  # Who moved to v2 already
  sunset usage analyze --plan sunset.yaml v1-access.log --alternative v2-access.log

  # Machine-readable and shareable
  sunset usage analyze --output json access.log > usage.json
  sunset plan validate --usage usage.json sunset.yaml
  sunset usage analyze --output html access.log > usage.html

  # No logs, but a standalone gateway's counters
  sunset usage analyze --plan sunset.yaml sunset-usage.jsonl

  # No logs: requests per route and client from Prometheus, hourly over the last 7 days
  sunset usage analyze --plan sunset.yaml --prometheus http://127.0.0.1:9090 \
    --query 'sum by (route, client) (increase(http_requests_total{job="orders"}[1h]))' --step 1h --since 7d

  # Tell the control plane who still calls the service
  sunset usage analyze --plan sunset.yaml --server http://127.0.0.1:8080 access.log*`

// usageAnalyzeFlags are the flags of `sunset usage analyze`.
type usageAnalyzeFlags struct {
	planFile, format, identify, tz, window, output string
	top, windows                                   int
	alternatives                                   []string
	server, token, sunsetName                      string
	prom                                           usagePromFlags
}

// add registers the flags on f.
func (u *usageAnalyzeFlags) add(f *pflag.FlagSet) {
	f.StringVar(&u.planFile, "plan", "", "plan file: map routes to features, consumers to contacts and tiers, use its time zone")
	f.StringVar(&u.format, "format", "auto", "log format: auto, combined, common, json[:key=NAME,...], nginx:'LOG_FORMAT', apache:'LOGFORMAT', or gateway (counter files)")
	f.StringVar(&u.identify, "identify", "", "how to name consumers: ip (default), ip+ua, user, header:NAME, field:NAME (default from --plan)")
	f.StringVar(&u.tz, "tz", "", "time zone of the heatmap and quiet windows (default: the plan's, else UTC)")
	f.StringVar(&u.window, "window", "2h", "length of the recommended shutdown windows, whole hours")
	f.IntVar(&u.windows, "windows", 3, "how many shutdown windows to recommend")
	f.IntVar(&u.top, "top", 10, "how many consumers to list")
	f.StringSliceVar(&u.alternatives, "alternative", nil, "the alternative service's logs (repeat or comma-separate): track who moved")
	f.StringVarP(&u.output, "output", "o", "text", "output: text, json, csv or html")
	u.prom.add(f)
	f.StringVar(&u.server, "server", "", "send the requests per feature, consumer and hour to this Sunset server (re-sending the same analysis adds nothing)")
	f.StringVar(&u.token, "token", "", "with --server: API token for a server with authentication (default $SUNSET_TOKEN)")
	f.StringVar(&u.sunsetName, "sunset", "", "the sunset the results belong to (default: the --plan's service name)")
}

func (m *Main) usageAnalyzeCommand() *cobra.Command {
	var u usageAnalyzeFlags
	cmd := &cobra.Command{
		Use:     "analyze [flags] FILE...|-",
		Short:   "Analyse access logs: consumers, features, endpoints, daily trend, heatmap, quiet windows",
		Long:    usageAnalyzeLong,
		Example: usageAnalyzeExample,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case u.prom.url == "" && len(args) == 0:
				return &exitError{code: 2, msg: "name the logs to read (FILE..., or - for standard input), or a --prometheus server"}
			case u.prom.url != "" && len(args) > 0:
				return &exitError{code: 2, msg: "--prometheus reads a Prometheus server instead of logs: give no FILE arguments with it"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.usageAnalyze(cmd, args, &u)
		},
	}
	u.add(cmd.Flags())
	return cmd
}

// usageAnalyze runs `sunset usage analyze`: it checks the flags, analyses the logs (or the
// Prometheus series, or the counter files) and the alternative's, writes the result in the
// chosen output and sends it to the control plane when --server says so. An input that could
// not be read fails the command after everything else is done.
func (m *Main) usageAnalyze(cmd *cobra.Command, args []string, u *usageAnalyzeFlags) error {
	opts, p, err := m.usageAnalyzeOptions(u)
	if err != nil {
		return err
	}
	res, err := m.usageAnalyzeInputs(cmd, args, u, &opts)
	if err != nil {
		return err
	}
	failed := inputErrors(m.Stderr, res.Inputs, "")
	if len(u.alternatives) > 0 {
		n, err := m.usageTrackAlternative(cmd, u, opts, res)
		if err != nil {
			return err
		}
		failed += n
	}
	if err := writeUsage(cmd.OutOrStdout(), res, u.output, p); err != nil {
		return err
	}
	if u.server != "" {
		cl, err := m.client(&clientFlags{server: u.server, token: u.token})
		if err != nil {
			return err
		}
		if err := sendUsage(cmd.Context(), cl, u.sunsetName, res, m.Stderr); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fail("%d of %d inputs could not be read", failed, len(res.Inputs)+len(u.alternatives))
	}
	return nil
}

// usageAnalyzeOptions checks the flags and turns them, with the plan when --plan names one,
// into the analysis's options. It fills u.identify and u.sunsetName from the Prometheus
// labels and the plan where they were not given.
func (m *Main) usageAnalyzeOptions(u *usageAnalyzeFlags) (usage.Options, *plan.Plan, error) {
	switch u.output {
	case "text", "json", "csv", "html":
	default:
		return usage.Options{}, nil, &exitError{code: 2, msg: fmt.Sprintf("--output %q: use text, json, csv or html", u.output)}
	}
	if u.sunsetName != "" && u.server == "" {
		return usage.Options{}, nil, &exitError{code: 2, msg: "--sunset needs --server: the control plane to send the results to"}
	}
	if u.prom.url != "" && u.identify == "" {
		// The series name the consumers by a label, whatever the plan's logs carry.
		u.identify = "field:" + u.prom.consumerLabel
	}
	opts := usage.Options{Top: u.top, Windows: u.windows, Hourly: u.server != ""}
	var p *plan.Plan
	if u.planFile != "" {
		var problems plan.Problems
		p, problems = plan.ParseFile(u.planFile)
		if problems.Err() != nil {
			for _, pr := range problems {
				fmt.Fprintln(m.Stderr, pr.String())
			}
			return opts, nil, fail("%s is invalid; fix the problems above", u.planFile)
		}
		var err error
		if u.identify, err = opts.ApplyPlan(p, filepath.Dir(u.planFile), u.identify); err != nil {
			return opts, nil, fail("%v", err)
		}
	}
	if u.server != "" && u.sunsetName == "" {
		if p == nil {
			return opts, nil, &exitError{code: 2, msg: "--server needs --sunset NAME (or --plan, whose service names the sunset)"}
		}
		u.sunsetName = p.Service.Name
	}
	id, err := usage.ParseIdentity(u.identify)
	if err != nil {
		return opts, nil, &exitError{code: 2, msg: err.Error()}
	}
	opts.Identity = id
	if u.format == usage.CounterFormat {
		// The gateway's counter files: read by AnalyzeCounters, not by a line parser.
	} else if opts.Format, err = usage.ParseFormat(u.format, id); err != nil {
		return opts, nil, &exitError{code: 2, msg: "--format: " + err.Error()}
	}
	if u.tz != "" {
		loc, err := time.LoadLocation(u.tz)
		if err != nil {
			return opts, nil, &exitError{code: 2, msg: fmt.Sprintf("--tz %q: not an IANA time zone (e.g. Asia/Shanghai, UTC)", u.tz)}
		}
		opts.Location = loc
	}
	if opts.Window, err = parseWindow(u.window); err != nil {
		return opts, nil, &exitError{code: 2, msg: err.Error()}
	}
	return opts, p, nil
}

// usageAnalyzeInputs analyses what the command reads: the Prometheus series with --prometheus,
// else the inputs named by args, as gateway counter files or as access logs.
func (m *Main) usageAnalyzeInputs(cmd *cobra.Command, args []string, u *usageAnalyzeFlags, opts *usage.Options) (*usage.Result, error) {
	if u.prom.url != "" {
		q, err := m.prometheusQuery(&u.prom)
		if err != nil {
			return nil, err
		}
		res, err := usage.AnalyzePrometheus(cmd.Context(), q, *opts)
		if err != nil {
			return nil, fail("%v", err)
		}
		return res, nil
	}
	inputs, err := usage.Inputs(args, m.Stdin)
	if err != nil {
		return nil, fail("%v", err)
	}
	var res *usage.Result
	if u.format == usage.CounterFormat || (opts.Format == nil && usage.SniffCounters(inputs)) {
		res, err = usage.AnalyzeCounters(cmd.Context(), inputs, *opts)
	} else {
		stop := m.progress(opts)
		restoreGC := m.analysisGC()
		res, err = usage.Analyze(cmd.Context(), inputs, *opts)
		restoreGC()
		stop()
	}
	if err != nil {
		return nil, fail("%v", err)
	}
	return res, nil
}

// usageTrackAlternative analyses the alternative service's logs and sorts res's consumers into
// moved, using both and not moved yet. It returns how many of those inputs could not be read.
func (m *Main) usageTrackAlternative(cmd *cobra.Command, u *usageAnalyzeFlags, opts usage.Options, res *usage.Result) (int, error) {
	altInputs, err := usage.Inputs(u.alternatives, m.Stdin)
	if err != nil {
		return 0, fail("--alternative: %v", err)
	}
	altOpts := opts
	altOpts.Format = nil // the alternative may log differently; detect it
	if u.format != "" && u.format != "auto" {
		altOpts.Format = opts.Format
	}
	alt, err := usage.Analyze(cmd.Context(), altInputs, altOpts)
	if err != nil {
		return 0, fail("--alternative: %v", err)
	}
	failed := inputErrors(m.Stderr, alt.Inputs, "--alternative: ")
	res.TrackMigration(alt, opts.Contacts, max(u.top, 10))
	return failed, nil
}

// inputErrors prints each input that could not be read on w, after prefix, and returns how
// many there were.
func inputErrors(w io.Writer, inputs []usage.InputResult, prefix string) int {
	failed := 0
	for _, in := range inputs {
		if in.Error != "" {
			failed++
			fmt.Fprintf(w, "sunset: %s%s\n", prefix, in.Error)
		}
	}
	return failed
}

// writeUsage writes res to out in the output the flags chose; the HTML page is titled after
// p's service when there is a plan.
func writeUsage(out io.Writer, res *usage.Result, output string, p *plan.Plan) error {
	switch output {
	case "json":
		return writeJSON(out, res)
	case "csv":
		return res.WriteCSV(out)
	case "html":
		title := "Usage"
		if p != nil {
			title = "Usage of " + p.Service.Title.In("en")
			if p.Service.Title.In("en") == "" {
				title = "Usage of " + p.Service.Name
			}
		}
		return res.WriteHTML(out, title)
	default:
		return res.WriteText(out)
	}
}

// analysisGCPercent is the garbage collector's target during a log analysis. The analysis's
// heap is nearly all long-lived tables that only grow (consumers, endpoints, their sets), so
// the default target of 100% mostly holds the outgrown copies of those tables: at 25% the peak
// memory on a 1 GB log drops by about a tenth for no measurable CPU (bench/usage.sh).
const analysisGCPercent = 25

// analysisGC sets the collector's target for an analysis, unless GOGC says otherwise, and
// returns what restores it.
func (m *Main) analysisGC() func() {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(analysisGCPercent)
	return func() { debug.SetGCPercent(old) }
}

func parseWindow(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		d, err = plan.ParseDuration(s)
	}
	if err != nil || d < time.Hour || d > 7*24*time.Hour || d%time.Hour != 0 {
		return 0, fmt.Errorf("--window %q: use whole hours between 1h and 168h, e.g. 2h", s)
	}
	return d, nil
}

// progress draws a progress bar on stderr while the analysis runs, only when stderr is a
// terminal. The returned function clears it.
func (m *Main) progress(opts *usage.Options) func() {
	f, ok := m.Stderr.(*os.File)
	if !ok {
		return func() {}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	start := time.Now()
	drawn := false
	opts.Progress = func(done, total int64) {
		if time.Since(start) < time.Second {
			return // small inputs finish before a bar is worth drawing
		}
		drawn = true
		rate := float64(done) / time.Since(start).Seconds() / 1e6
		if total > 0 {
			const width = 30
			k := int(width * min(done, total) / total)
			fmt.Fprintf(f, "\r[%s%s] %3d%%  %s / %s MB  %.0f MB/s ", strings.Repeat("#", k), strings.Repeat(" ", width-k), 100*done/total, mb(done), mb(total), rate)
		} else {
			fmt.Fprintf(f, "\r%s MB read  %.0f MB/s ", mb(done), rate)
		}
	}
	return func() {
		if drawn {
			fmt.Fprint(f, "\r\033[K")
		}
	}
}

func mb(n int64) string { return fmt.Sprintf("%.0f", float64(n)/1e6) }

// usageWarnings reads a usage result (JSON) and returns, as plan warnings, the steps of p that
// fall into the busiest hours it shows. No file means no warnings.
func usageWarnings(p *plan.Plan, file string) ([]plan.Problem, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fail("--usage: %v", err)
	}
	var res usage.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fail("--usage %s: not a 'sunset usage analyze --output json' result: %v", file, err)
	}
	tl, err := p.Compile()
	if err != nil {
		return nil, nil // compile problems are reported by plan timeline
	}
	var out []plan.Problem
	for _, w := range res.CheckTimeline(p, tl) {
		out = append(out, plan.Problem{File: p.File(), Pos: p.Pos(w.Path), Path: w.Path, Message: w.Message, Severity: plan.Warning})
	}
	return out, nil
}
