package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

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

func (m *Main) usageAnalyzeCommand() *cobra.Command {
	var (
		planFile, format, identify, tz, window, output string
		top, windows                                   int
		alternatives                                   []string
		server, token, sunsetName                      string
		prom                                           usagePromFlags
	)
	cmd := &cobra.Command{
		Use:   "analyze [flags] FILE...|-",
		Short: "Analyse access logs: consumers, features, endpoints, daily trend, heatmap, quiet windows",
		Long: `Analyze reads access logs and prints who uses the service and when.

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
The exit status is 1 when an input could not be read (the others are still analysed).`,
		Example: `  # The summary of a day of nginx logs, compressed or not
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
  sunset usage analyze --plan sunset.yaml --server http://127.0.0.1:8080 access.log*`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case prom.url == "" && len(args) == 0:
				return &exitError{code: 2, msg: "name the logs to read (FILE..., or - for standard input), or a --prometheus server"}
			case prom.url != "" && len(args) > 0:
				return &exitError{code: 2, msg: "--prometheus reads a Prometheus server instead of logs: give no FILE arguments with it"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "text", "json", "csv", "html":
			default:
				return &exitError{code: 2, msg: fmt.Sprintf("--output %q: use text, json, csv or html", output)}
			}
			if sunsetName != "" && server == "" {
				return &exitError{code: 2, msg: "--sunset needs --server: the control plane to send the results to"}
			}
			if prom.url != "" && identify == "" {
				// The series name the consumers by a label, whatever the plan's logs carry.
				identify = "field:" + prom.consumerLabel
			}
			opts := usage.Options{Top: top, Windows: windows, Hourly: server != ""}
			var p *plan.Plan
			if planFile != "" {
				var problems plan.Problems
				p, problems = plan.ParseFile(planFile)
				if problems.Err() != nil {
					for _, pr := range problems {
						fmt.Fprintln(m.Stderr, pr.String())
					}
					return fail("%s is invalid; fix the problems above", planFile)
				}
				var err error
				if identify, err = opts.ApplyPlan(p, filepath.Dir(planFile), identify); err != nil {
					return fail("%v", err)
				}
			}
			if server != "" && sunsetName == "" {
				if p == nil {
					return &exitError{code: 2, msg: "--server needs --sunset NAME (or --plan, whose service names the sunset)"}
				}
				sunsetName = p.Service.Name
			}
			id, err := usage.ParseIdentity(identify)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			opts.Identity = id
			counters := format == usage.CounterFormat
			if counters {
				// The gateway's counter files: read by AnalyzeCounters, not by a line parser.
			} else if opts.Format, err = usage.ParseFormat(format, id); err != nil {
				return &exitError{code: 2, msg: "--format: " + err.Error()}
			}
			if tz != "" {
				loc, err := time.LoadLocation(tz)
				if err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("--tz %q: not an IANA time zone (e.g. Asia/Shanghai, UTC)", tz)}
				}
				opts.Location = loc
			}
			if opts.Window, err = parseWindow(window); err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			var res *usage.Result
			if prom.url != "" {
				q, err := m.prometheusQuery(&prom)
				if err != nil {
					return err
				}
				if res, err = usage.AnalyzePrometheus(cmd.Context(), q, opts); err != nil {
					return fail("%v", err)
				}
			} else {
				inputs, err := usage.Inputs(args, m.Stdin)
				if err != nil {
					return fail("%v", err)
				}
				if counters || (opts.Format == nil && usage.SniffCounters(inputs)) {
					res, err = usage.AnalyzeCounters(cmd.Context(), inputs, opts)
				} else {
					stop := m.progress(&opts)
					restoreGC := m.analysisGC()
					res, err = usage.Analyze(cmd.Context(), inputs, opts)
					restoreGC()
					stop()
				}
				if err != nil {
					return fail("%v", err)
				}
			}
			failed := 0
			for _, in := range res.Inputs {
				if in.Error != "" {
					failed++
					fmt.Fprintf(m.Stderr, "sunset: %s\n", in.Error)
				}
			}
			if len(alternatives) > 0 {
				altInputs, err := usage.Inputs(alternatives, m.Stdin)
				if err != nil {
					return fail("--alternative: %v", err)
				}
				altOpts := opts
				altOpts.Format = nil // the alternative may log differently; detect it
				if format != "" && format != "auto" {
					altOpts.Format = opts.Format
				}
				alt, err := usage.Analyze(cmd.Context(), altInputs, altOpts)
				if err != nil {
					return fail("--alternative: %v", err)
				}
				for _, in := range alt.Inputs {
					if in.Error != "" {
						failed++
						fmt.Fprintf(m.Stderr, "sunset: --alternative: %s\n", in.Error)
					}
				}
				res.TrackMigration(alt, opts.Contacts, max(top, 10))
			}
			out := cmd.OutOrStdout()
			switch output {
			case "json":
				err = writeJSON(out, res)
			case "csv":
				err = res.WriteCSV(out)
			case "html":
				title := "Usage"
				if p != nil {
					title = "Usage of " + p.Service.Title.In("en")
					if p.Service.Title.In("en") == "" {
						title = "Usage of " + p.Service.Name
					}
				}
				err = res.WriteHTML(out, title)
			default:
				err = res.WriteText(out)
			}
			if err != nil {
				return err
			}
			if server != "" {
				cl, err := m.client(&clientFlags{server: server, token: token})
				if err != nil {
					return err
				}
				if err := sendUsage(cmd.Context(), cl, sunsetName, res, m.Stderr); err != nil {
					return err
				}
			}
			if failed > 0 {
				return fail("%d of %d inputs could not be read", failed, len(res.Inputs)+len(alternatives))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&planFile, "plan", "", "plan file: map routes to features, consumers to contacts and tiers, use its time zone")
	f.StringVar(&format, "format", "auto", "log format: auto, combined, common, json[:key=NAME,...], nginx:'LOG_FORMAT', apache:'LOGFORMAT', or gateway (counter files)")
	f.StringVar(&identify, "identify", "", "how to name consumers: ip (default), ip+ua, user, header:NAME, field:NAME (default from --plan)")
	f.StringVar(&tz, "tz", "", "time zone of the heatmap and quiet windows (default: the plan's, else UTC)")
	f.StringVar(&window, "window", "2h", "length of the recommended shutdown windows, whole hours")
	f.IntVar(&windows, "windows", 3, "how many shutdown windows to recommend")
	f.IntVar(&top, "top", 10, "how many consumers to list")
	f.StringSliceVar(&alternatives, "alternative", nil, "the alternative service's logs (repeat or comma-separate): track who moved")
	f.StringVarP(&output, "output", "o", "text", "output: text, json, csv or html")
	prom.add(f)
	f.StringVar(&server, "server", "", "send the requests per feature, consumer and hour to this Sunset server (re-sending the same analysis adds nothing)")
	f.StringVar(&token, "token", "", "with --server: API token for a server with authentication (default $SUNSET_TOKEN)")
	f.StringVar(&sunsetName, "sunset", "", "the sunset the results belong to (default: the --plan's service name)")
	return cmd
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
