package usage

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the terminal summary: totals, top consumers, features, endpoints, the daily
// series, the trend, the hour-of-week heatmap, the recommended windows and migration.
func (r *Result) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	r.writeTotals(ew)
	r.writeTopConsumers(ew)
	r.writeFeatures(ew)
	r.writeTiers(ew)
	r.writeEndpoints(ew)
	r.writeDaily(ew)
	r.writeHeatmap(ew)
	r.writeQuietWindows(ew)
	r.writeMigration(ew)
	r.writeMalformed(ew)
	return ew.err
}

// printer returns a Printf to w.
func printer(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
}

// writeTotals writes the inputs that could not be read, the line and request totals and the trend.
func (r *Result) writeTotals(w io.Writer) {
	p := printer(w)
	var formats []string
	for _, in := range r.Inputs {
		if in.Error != "" {
			p("error: %s\n", in.Error)
		} else if in.Format != "" && !contains(formats, in.Format) {
			formats = append(formats, in.Format)
		}
	}
	p("%s lines: %s parsed, %s malformed (%d input%s, %s)\n", num(r.Lines), num(r.Parsed), num(r.Malformed), len(r.Inputs), plural(len(r.Inputs)), strings.Join(formats, ", "))
	p("%s requests from %s distinct consumers (by %s)", num(r.Requests), num(r.Consumers), r.Identity)
	if r.From != nil {
		p(", %s – %s", r.From.Format("2006-01-02 15:04 -0700"), r.Until.Format("2006-01-02 15:04 -0700"))
	}
	p("\n")
	t := r.Trend
	switch t.Direction {
	case "declining":
		p("Trend: declining, %s requests/day each day over %d days", signed(t.SlopePerDay), t.Days)
		if t.ZeroDate != "" {
			p("; at this pace usage reaches zero on %s", t.ZeroDate)
		}
		p("\n")
	default:
		p("Trend: %s (%s requests/day each day over %d full days)\n", t.Direction, signed(t.SlopePerDay), t.Days)
	}
}

// writeTopConsumers writes the table of the top consumers.
func (r *Result) writeTopConsumers(w io.Writer) {
	p := printer(w)
	if len(r.TopConsumers) > 0 {
		p("\nTop consumers\n")
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  \tREQUESTS\tSHARE\tDAYS\t  FIRST SEEN\t  LAST SEEN\t  CONSUMER\t\n")
		for _, c := range r.TopConsumers {
			fmt.Fprintf(tw, "  \t%s\t%s\t%d\t  %s\t  %s\t  %s\t\n", num(c.Requests), pct(c.Share), c.Days,
				c.FirstSeen.Format("2006-01-02 15:04"), c.LastSeen.Format("2006-01-02 15:04"), consumerLabel(c.ID, c.Name, c.Tier))
		}
		tw.Flush()
	}
}

// writeFeatures writes the table of the plan's features and the heaviest callers of each.
func (r *Result) writeFeatures(w io.Writer) {
	p := printer(w)
	if len(r.Features) > 0 {
		p("\nFeatures\n")
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  \tREQUESTS\tSHARE\tCONSUMERS\t  FEATURE\t\n")
		for _, f := range r.Features {
			core := ""
			if f.Core {
				core = " (core)"
			}
			fmt.Fprintf(tw, "  \t%s\t%s\t%s\t  %s%s\t\n", num(f.Requests), pct(f.Share), num(f.Consumers), f.Name, core)
		}
		fmt.Fprintf(tw, "  \t%s\t\t\t  (no feature)\t\n", num(r.UnmatchedRequests))
		tw.Flush()
		for _, f := range r.Features {
			for _, c := range f.TopConsumers[:min(3, len(f.TopConsumers))] {
				p("  %s: %s calls to %s\n", consumerLabel(c.ID, c.Name, c.Tier), num(c.Requests), f.Name)
			}
		}
	}
}

// writeTiers writes the consumers and requests per contact tier.
func (r *Result) writeTiers(w io.Writer) {
	p := printer(w)
	if len(r.Tiers) > 0 {
		p("\nTiers\n")
		for _, t := range r.Tiers {
			p("  %-10s %s consumers, %s requests\n", t.Tier, num(t.Consumers), num(t.Requests))
		}
	}
}

// writeEndpoints writes the table of the ten busiest endpoints.
func (r *Result) writeEndpoints(w io.Writer) {
	p := printer(w)
	if len(r.Endpoints) > 0 {
		p("\nEndpoints (top %d of %s)\n", min(10, len(r.Endpoints)), num(int64(r.EndpointsTotal)))
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  \tREQUESTS\tCONSUMERS\t  PATH\t\n")
		for _, e := range r.Endpoints[:min(10, len(r.Endpoints))] {
			fmt.Fprintf(tw, "  \t%s\t%s\t  %s\t\n", num(e.Requests), num(e.Consumers), e.Path)
		}
		tw.Flush()
	}
}

// writeDaily writes the daily series (the last 31 days), with bars.
func (r *Result) writeDaily(w io.Writer) {
	p := printer(w)
	if len(r.Daily) > 0 {
		p("\nDaily\n")
		var most int64
		for _, d := range r.Daily {
			most = max(most, d.Requests)
		}
		days := r.Daily
		if len(days) > 31 {
			p("  (last 31 of %d days)\n", len(days))
			days = days[len(days)-31:]
		}
		for _, d := range days {
			p("  %s %s  %10s req %8s consumers  %s\n", d.Date, weekdayOf(d.Date), num(d.Requests), num(d.Consumers), bar(d.Requests, most, 30))
		}
	}
}

// writeQuietWindows writes the recommended shutdown windows.
func (r *Result) writeQuietWindows(w io.Writer) {
	p := printer(w)
	if len(r.QuietWindows) > 0 {
		p("\nRecommended shutdown windows (%dh, %s)\n", r.QuietWindows[0].Hours, r.HourOfWeek.TimeZone)
		for i, q := range r.QuietWindows {
			note := ""
			if !q.Observed {
				note = "  (not fully covered by the logs)"
			}
			p("  %d. %s–%s  %s requests (%s of traffic, %s/week), touches %s consumers (%s)%s\n", i+1, q.Start, q.End[4:], num(q.Requests), pct(q.Share),
				strconv.FormatFloat(q.RequestsPerWeek, 'f', -1, 64), num(q.Consumers), pct(q.ConsumerShare), note)
			if len(q.TopConsumers) > 0 {
				p("     heaviest touched: %s\n", strings.Join(q.TopConsumers, ", "))
			}
		}
	}
}

// writeMigration writes who moved to the alternative, when it was analysed too.
func (r *Result) writeMigration(w io.Writer) {
	p := printer(w)
	if m := r.Migration; m != nil {
		p("\nMigration to the alternative (%s requests from %s consumers there)\n", num(m.AlternativeRequests), num(m.AlternativeConsumers))
		p("  moved %s (%s) · using both %s · not moved %s · new on the alternative %s\n", num(m.Moved.Count), pct(m.Rate), num(m.Both.Count), num(m.NotMoved.Count), num(m.New))
		for _, g := range []struct {
			name string
			g    MigrationGroup
		}{{"not moved", m.NotMoved}, {"using both", m.Both}} {
			for _, c := range g.g.Consumers[:min(5, len(g.g.Consumers))] {
				p("  %s: %s, %s requests, last call %s\n", g.name, consumerLabel(c.ID, c.Name, c.Tier), num(c.Requests), c.LastOld.Format("2006-01-02 15:04"))
			}
		}
	}
}

// writeMalformed writes the malformed lines per reason and their first examples.
func (r *Result) writeMalformed(w io.Writer) {
	p := printer(w)
	if r.Malformed > 0 {
		p("\nMalformed lines: %s\n", num(r.Malformed))
		for reason, n := range r.MalformedReasons {
			p("  %s: %s\n", reason, num(n))
		}
		for _, e := range r.MalformedExamples {
			p("  %s:%d: %s: %s\n", e.File, e.Line, e.Reason, e.Text)
		}
	}
}

func (r *Result) writeHeatmap(w io.Writer) {
	if r.Requests == 0 {
		return
	}
	var most int64
	for _, row := range r.HourOfWeek.Requests {
		for _, n := range row {
			most = max(most, n)
		}
	}
	fmt.Fprintf(w, "\nHour of week (%s; darker is busier, · not covered by the logs)\n", r.HourOfWeek.TimeZone)
	fmt.Fprintf(w, "       0     6     12    18\n")
	shades := []rune(" ░▒▓█")
	for d, row := range r.HourOfWeek.Requests {
		var sb strings.Builder
		for h, n := range row {
			if r.HourOfWeek.Observed[d][h] == 0 {
				sb.WriteString("·")
				continue
			}
			i := 0
			if n > 0 {
				i = 1 + int(int64(len(shades)-2)*n/max(most, 1))
			}
			sb.WriteRune(shades[min(i, len(shades)-1)])
		}
		fmt.Fprintf(w, "  %s  %s\n", r.HourOfWeek.Days[d], sb.String())
	}
}

func consumerLabel(id, name, tier string) string {
	s := id
	if name != "" {
		s = name + " <" + id + ">"
	}
	if tier != "" {
		s += " (tier " + tier + ")"
	}
	return s
}

func weekdayOf(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return "   "
	}
	return t.Format("Mon")
}

func bar(n, most int64, width int) string {
	if most <= 0 {
		return ""
	}
	k := int(int64(width) * n / most)
	if k == 0 && n > 0 {
		return "▏"
	}
	return strings.Repeat("█", k)
}

// num writes n with thousands separators.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

func signed(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	if f >= 0 {
		s = "+" + s
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// errWriter keeps the first write error so that writers can print freely and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, nil
}
