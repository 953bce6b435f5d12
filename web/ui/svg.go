package ui

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// The operator UI's charts are inline SVG written here: no script draws them, they print, and
// the stylesheet colours them by class (presentation attributes only, so the strict CSP allows
// them). Every chart is role="img" with a title; the page shows the same facts as a table.

// ganttSegment is one span of a Gantt row: a phase from From to To.
type ganttSegment struct {
	From, To time.Time
	// Class picks the colour ("announced", "deprecated", "read_only", "gone").
	Class, Label string
}

// ganttMark is one instant on a Gantt row: a notice, a brownout, a runbook start.
type ganttMark struct {
	At          time.Time
	Label       string
	Done, Held  bool
	Class       string
	MarkerShape string
}

// ganttRow is one line of the Gantt chart.
type ganttRow struct {
	Label    string
	Segments []ganttSegment
	Marks    []ganttMark
}

// ganttLine is a vertical line across the chart: a milestone.
type ganttLine struct {
	At    time.Time
	Label string
}

// gantt is a whole Gantt chart.
type gantt struct {
	Title    string
	Rows     []ganttRow
	Lines    []ganttLine
	Now      time.Time
	NowLabel string
	Loc      *time.Location
}

// Gantt chart geometry, in SVG user units.
const (
	ganttWidth  = 960.0
	ganttLeft   = 170.0
	ganttRight  = 940.0
	ganttTop    = 34.0
	ganttRowH   = 30.0
	ganttAxisH  = 30.0
	ganttBarPad = 6.0
)

// span returns the instants the chart covers: every segment, mark, line and now, padded by 3%.
func (g *gantt) span() (time.Time, time.Time) {
	var lo, hi time.Time
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if hi.IsZero() || t.After(hi) {
			hi = t
		}
	}
	for _, r := range g.Rows {
		for _, s := range r.Segments {
			see(s.From)
			see(s.To)
		}
		for _, m := range r.Marks {
			see(m.At)
		}
	}
	for _, l := range g.Lines {
		see(l.At)
	}
	see(g.Now)
	if !hi.After(lo) {
		hi = lo.Add(24 * time.Hour)
	}
	pad := hi.Sub(lo) / 33
	return lo.Add(-pad), hi.Add(pad)
}

// esc escapes text for SVG content and attributes. Characters XML forbids (controls other than
// tab and line ends, invalid UTF-8) become U+FFFD, so the chart stays well-formed whatever a plan
// or a gateway says.
func esc(s string) string {
	return html.EscapeString(strings.Map(func(r rune) rune {
		if r == utf8.RuneError || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD")))
}

// SVG writes the chart as an inline <svg> element.
func (g *gantt) SVG() template.HTML {
	lo, hi := g.span()
	total := hi.Sub(lo).Seconds()
	x := func(t time.Time) float64 {
		return ganttLeft + (ganttRight-ganttLeft)*t.Sub(lo).Seconds()/total
	}
	height := ganttTop + ganttRowH*float64(len(g.Rows)) + ganttAxisH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="gantt" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="gantt-title" xmlns="http://www.w3.org/2000/svg">`, ganttWidth, height)
	fmt.Fprintf(&b, `<title id="gantt-title">%s</title>`, esc(g.Title))
	bottom := ganttTop + ganttRowH*float64(len(g.Rows))
	// Row bands and labels.
	for i, r := range g.Rows {
		y := ganttTop + ganttRowH*float64(i)
		if i%2 == 0 {
			fmt.Fprintf(&b, `<rect class="band" x="0" y="%.1f" width="%.0f" height="%.0f"/>`, y, ganttWidth, ganttRowH)
		}
		fmt.Fprintf(&b, `<text class="label" x="8" y="%.1f">%s</text>`, y+ganttRowH/2+4, esc(truncate(r.Label, 22)))
		for _, s := range r.Segments {
			if s.From.IsZero() || s.To.IsZero() || !s.To.After(s.From) {
				continue
			}
			x0, x1 := x(s.From), x(s.To)
			fmt.Fprintf(&b, `<rect class="seg seg-%s" x="%.1f" y="%.1f" width="%.1f" height="%.0f" rx="3"><title>%s: %s – %s</title></rect>`,
				esc(s.Class), x0, y+ganttBarPad, math.Max(x1-x0, 1), ganttRowH-2*ganttBarPad, esc(s.Label),
				esc(localTime(s.From, g.Loc)), esc(localTime(s.To, g.Loc)))
		}
		for _, m := range r.Marks {
			cls := "mark"
			switch {
			case m.Done:
				cls += " mark-done"
			case m.Held:
				cls += " mark-held"
			}
			cx, cy := x(m.At), y+ganttRowH/2
			fmt.Fprintf(&b, `<path class="%s" d="M%.1f %.1fl6 6l-6 6l-6-6z"><title>%s — %s</title></path>`,
				cls, cx, cy-6, esc(m.Label), esc(localTime(m.At, g.Loc)))
		}
	}
	// Milestones: dashed lines with their names above the chart.
	for i, l := range g.Lines {
		lx := x(l.At)
		ty := 14.0
		if i%2 == 1 {
			ty = 28
		}
		fmt.Fprintf(&b, `<line class="milestone" x1="%.1f" y1="%.0f" x2="%.1f" y2="%.1f"><title>%s — %s</title></line>`,
			lx, ty+2, lx, bottom, esc(l.Label), esc(localTime(l.At, g.Loc)))
		fmt.Fprintf(&b, `<text class="ms-label" x="%.1f" y="%.0f" text-anchor="middle">%s</text>`, lx, ty, esc(l.Label))
	}
	// The axis: a tick at the first of each month (or each day on short charts).
	writeAxis(&b, lo, hi, x, bottom, g.Loc)
	// Now.
	if !g.Now.IsZero() {
		nx := x(g.Now)
		fmt.Fprintf(&b, `<line id="now-line" class="now-line" x1="%.1f" y1="%.0f" x2="%.1f" y2="%.1f"><title>%s — %s</title></line>`,
			nx, ganttTop-4, nx, bottom+6, esc(g.NowLabel), esc(localTime(g.Now, g.Loc)))
		fmt.Fprintf(&b, `<text class="now-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, nx, bottom+ganttAxisH-2, esc(g.NowLabel))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// writeAxis draws the time axis under the chart.
func writeAxis(b *strings.Builder, lo, hi time.Time, x func(time.Time) float64, y float64, loc *time.Location) {
	fmt.Fprintf(b, `<line class="axis" x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f"/>`, ganttLeft, y, ganttRight, y)
	l := lo.In(loc)
	step, format := func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }, "2006-01"
	t := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, 1, 0)
	if hi.Sub(lo) < 60*24*time.Hour {
		step, format = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }, "01-02"
		t = time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	}
	for n := 0; t.Before(hi) && n < 40; n++ {
		tx := x(t)
		fmt.Fprintf(b, `<line class="tick" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, tx, y, tx, y+4)
		fmt.Fprintf(b, `<text class="tick-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, tx, y+16, t.Format(format))
		t = step(t)
	}
}

// truncate shortens s to n characters with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// seriesChart is a small chart of one value per day: bars or a line.
type seriesChart struct {
	Title  string
	Labels []string
	Values []float64
	// Bars draws bars; otherwise a line with points.
	Bars bool
}

// Series chart geometry.
const (
	seriesW, seriesH            = 460.0, 200.0
	seriesLeft, seriesRight     = 44.0, 450.0
	seriesTop, seriesBottom     = 14.0, 170.0
	seriesMaxLabels         int = 6
)

// SVG writes the chart as an inline <svg> element.
func (c seriesChart) SVG() template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="series" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		seriesW, seriesH, esc(c.Title), esc(c.Title))
	top := 0.0
	for _, v := range c.Values {
		top = math.Max(top, v)
	}
	top = axisTop(top)
	y := func(v float64) float64 { return seriesBottom - (seriesBottom-seriesTop)*v/top }
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		fmt.Fprintf(&b, `<line class="grid" x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f"/>`, seriesLeft, y(v), seriesRight, y(v))
		fmt.Fprintf(&b, `<text class="tick-label" x="%.0f" y="%.1f" text-anchor="end">%s</text>`, seriesLeft-4, y(v)+4, shortNumber(v))
	}
	n := len(c.Values)
	if n == 0 {
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	slot := (seriesRight - seriesLeft) / float64(n)
	cx := func(i int) float64 { return seriesLeft + slot*(float64(i)+0.5) }
	if c.Bars {
		for i, v := range c.Values {
			w := math.Max(slot*0.8, 1)
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s</title></rect>`,
				cx(i)-w/2, y(v), w, seriesBottom-y(v), esc(c.Labels[i]), shortNumber(v))
		}
	} else {
		var pts []string
		for i, v := range c.Values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", cx(i), y(v)))
		}
		fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(pts, " "))
		if n <= 60 {
			for i, v := range c.Values {
				fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="3"><title>%s: %s</title></circle>`, cx(i), y(v), esc(c.Labels[i]), shortNumber(v))
			}
		}
	}
	every := max(1, (n+seriesMaxLabels-1)/seriesMaxLabels)
	for i := 0; i < n; i += every {
		fmt.Fprintf(&b, `<text class="tick-label" x="%.1f" y="%.0f" text-anchor="middle">%s</text>`, cx(i), seriesBottom+18, esc(shortDate(c.Labels[i])))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// axisTop is the top of a count axis with four gridlines: four times a step of 1, 2 or 5 times
// a power of ten, the least that reaches v (at least 4, so every gridline is a whole count).
func axisTop(v float64) float64 {
	need := v / 4
	if need <= 1 || math.IsNaN(need) {
		return 4
	}
	p := math.Pow(10, math.Floor(math.Log10(need)))
	for _, m := range []float64{1, 2, 5, 10} {
		if need <= m*p {
			return 4 * m * p
		}
	}
	return 40 * p
}

// shortNumber writes v compactly: 950, 1.2k, 3.4M.
func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// shortDate turns "2027-01-05" into "01-05".
func shortDate(d string) string {
	if len(d) == len("2006-01-02") {
		return d[5:]
	}
	return d
}
