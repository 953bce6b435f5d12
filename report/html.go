package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// css is the report's whole style: readable on a screen, tidy on paper (@media print keeps
// tables and charts from splitting and drops colours that waste ink).
const css = `:root{--fg:#1d232b;--muted:#5b6673;--line:#d5dbe2;--accent:#b4461e;--ok:#2e7d4f;--bad:#b3261e;--wait:#8a6d00}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:var(--fg);max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.2rem;margin:2rem 0 .6rem;padding-bottom:.2rem;border-bottom:2px solid var(--accent)}
.sub{color:var(--muted);font-family:ui-monospace,monospace;margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}dt{color:var(--muted)}dd{margin:0}
table{border-collapse:collapse;width:100%;margin:.6rem 0;font-size:.9rem}caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f3f5f7}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:.8rem 0}figcaption{color:var(--muted);font-size:.85rem}
svg{max-width:100%;height:auto}svg text{font-size:11px;fill:var(--muted)}
.axis{stroke:var(--line)}.curve{fill:none;stroke:var(--accent);stroke-width:2}.dot{fill:var(--accent)}
.s0{fill:var(--ok)}.s1{fill:var(--bad)}.s2{fill:var(--wait)}
.lessons{white-space:pre-wrap;border-left:3px solid var(--accent);padding:.2rem .8rem}
.empty{color:var(--muted)}
@media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid}table,figure,dl{break-inside:avoid}th{background:none}a{color:inherit;text-decoration:none}}`

func (p *page) html(out io.Writer) error {
	w := bufio.NewWriter(out)
	e := html.EscapeString
	lang := "en"
	if strings.HasPrefix(p.lang, "zh") {
		lang = "zh-CN"
	}
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\" />\n", lang)
	fmt.Fprintf(w, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n<title>%s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n", e(p.title), css)
	fmt.Fprintf(w, "<header>\n<h1>%s</h1>\n<p class=\"sub\">%s</p>\n", e(p.title), e(p.subtitle))
	writeFacts(w, p.meta)
	fmt.Fprint(w, "</header>\n<main>\n")
	for _, s := range p.sections {
		fmt.Fprintf(w, "<section id=\"%s\">\n<h2>%s</h2>\n", e(s.id), e(s.heading))
		writeFacts(w, s.facts)
		for _, c := range s.charts {
			fmt.Fprintf(w, "<figure>\n%s<figcaption>%s</figcaption>\n</figure>\n", c.svg(), e(c.title))
		}
		for _, tb := range s.tables {
			fmt.Fprint(w, "<table>\n")
			if tb.caption != "" {
				fmt.Fprintf(w, "<caption>%s</caption>\n", e(tb.caption))
			}
			fmt.Fprint(w, "<thead><tr>")
			for i, h := range tb.head {
				fmt.Fprintf(w, "<th scope=\"col\"%s>%s</th>", numClass(tb, i), e(h))
			}
			fmt.Fprint(w, "</tr></thead>\n<tbody>\n")
			for _, row := range tb.rows {
				fmt.Fprint(w, "<tr>")
				for i, c := range row {
					fmt.Fprintf(w, "<td%s>%s</td>", numClass(tb, i), e(c))
				}
				fmt.Fprint(w, "</tr>\n")
			}
			fmt.Fprint(w, "</tbody>\n</table>\n")
		}
		if s.text != "" {
			fmt.Fprintf(w, "<div class=\"lessons\">%s</div>\n", e(s.text))
		}
		if s.empty != "" {
			fmt.Fprintf(w, "<p class=\"empty\">%s</p>\n", e(s.empty))
		}
		fmt.Fprint(w, "</section>\n")
	}
	fmt.Fprint(w, "</main>\n</body>\n</html>\n")
	return w.Flush()
}

func numClass(tb table, i int) string {
	if i < len(tb.right) && tb.right[i] {
		return ` class="n"`
	}
	return ""
}

func writeFacts(w io.Writer, facts []fact) {
	if len(facts) == 0 {
		return
	}
	fmt.Fprint(w, "<dl>\n")
	for _, f := range facts {
		fmt.Fprintf(w, "<dt>%s</dt><dd>%s</dd>\n", html.EscapeString(f.label), html.EscapeString(f.value))
	}
	fmt.Fprint(w, "</dl>\n")
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 640.0, 240.0
	padL, padR     = 44.0, 12.0
	padT, padB     = 12.0, 40.0
)

// svg draws the chart as an inline <svg> element with a title for screen readers.
func (c chart) svg() string {
	if c.kind == "bars" {
		return c.bars()
	}
	return c.line()
}

// niceMax rounds v up to a value that makes readable axis labels: a round number that four
// ticks divide into whole numbers (counts are whole).
func niceMax(v float64) float64 {
	return math.Ceil(roundUp(v)/4) * 4
}

// roundUp rounds v up to 1, 2 or 5 times a power of ten.
func roundUp(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

func (c chart) frame(b *strings.Builder, top float64) {
	e := html.EscapeString
	fmt.Fprintf(b, "<svg class=\"chart-%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">\n<title>%s</title>\n", c.kind, chartW, chartH, e(c.title), e(c.title))
	x0, y0, y1 := padL, chartH-padB, padT
	fmt.Fprintf(b, "<line class=\"axis\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" />\n", f1(x0), f1(y0), f1(chartW-padR), f1(y0))
	fmt.Fprintf(b, "<line class=\"axis\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" />\n", f1(x0), f1(y0), f1(x0), f1(y1))
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := y0 - (y0-y1)*float64(i)/4
		fmt.Fprintf(b, "<text x=\"%s\" y=\"%s\" text-anchor=\"end\">%s</text>\n", f1(x0-4), f1(y+4), trimFloat(v))
	}
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0")
}

func (c chart) line() string {
	var b strings.Builder
	top := 0.0
	for _, v := range c.values {
		top = max(top, v)
	}
	top = niceMax(top)
	c.frame(&b, top)
	x0, y0, plotW, plotH := padL, chartH-padB, chartW-padL-padR, chartH-padT-padB
	n := len(c.values)
	x := func(i int) float64 {
		if n == 1 {
			return x0 + plotW/2
		}
		return x0 + plotW*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return y0 - plotH*v/top }
	var pts []string
	for i, v := range c.values {
		pts = append(pts, f1(x(i))+","+f1(y(v)))
	}
	fmt.Fprintf(&b, "<polyline class=\"curve\" points=\"%s\" />\n", strings.Join(pts, " "))
	for i, v := range c.values {
		fmt.Fprintf(&b, "<circle class=\"dot\" cx=\"%s\" cy=\"%s\" r=\"2.5\"><title>%s: %s</title></circle>\n", f1(x(i)), f1(y(v)), html.EscapeString(c.labels[i]), trimFloat(v))
	}
	// Date labels: the first, the last and a few between, so they never overlap.
	step := max(1, (n+5)/6)
	for i := 0; i < n; i += step {
		fmt.Fprintf(&b, "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>\n", f1(x(i)), f1(y0+16), html.EscapeString(c.labels[i]))
	}
	if (n-1)%step != 0 {
		fmt.Fprintf(&b, "<text x=\"%s\" y=\"%s\" text-anchor=\"end\">%s</text>\n", f1(x(n-1)), f1(y0+30), html.EscapeString(c.labels[n-1]))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func (c chart) bars() string {
	var b strings.Builder
	top := 0.0
	for _, g := range c.groups {
		for _, v := range g {
			top = max(top, v)
		}
	}
	top = niceMax(top)
	c.frame(&b, top)
	x0, y0, plotW, plotH := padL, chartH-padB, chartW-padL-padR, chartH-padT-padB
	groupW := plotW / float64(max(1, len(c.groups)))
	barW := groupW * 0.8 / float64(max(1, len(c.series)))
	for gi, g := range c.groups {
		gx := x0 + groupW*float64(gi) + groupW*0.1
		for si, v := range g {
			h := plotH * v / top
			fmt.Fprintf(&b, "<rect class=\"s%d\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"><title>%s %s: %s</title></rect>\n",
				si%3, f1(gx+barW*float64(si)), f1(y0-h), f1(barW), f1(h), html.EscapeString(c.labels[gi]), html.EscapeString(c.series[si]), trimFloat(v))
		}
		fmt.Fprintf(&b, "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>\n", f1(gx+groupW*0.4), f1(y0+16), html.EscapeString(c.labels[gi]))
	}
	// Legend.
	lx := x0
	for si, s := range c.series {
		fmt.Fprintf(&b, "<rect class=\"s%d\" x=\"%s\" y=\"%s\" width=\"10\" height=\"10\" />", si%3, f1(lx), f1(chartH-12))
		fmt.Fprintf(&b, "<text x=\"%s\" y=\"%s\">%s</text>\n", f1(lx+14), f1(chartH-3), html.EscapeString(s))
		lx += 14 + 8*float64(len([]rune(s))) + 20
	}
	b.WriteString("</svg>\n")
	return b.String()
}
