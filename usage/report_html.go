package usage

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

// WriteHTML writes a self-contained HTML report: inline CSS and SVG charts, no script and no
// network access needed to view it.
func (r *Result) WriteHTML(w io.Writer, title string) error {
	return htmlReport.Execute(w, map[string]any{
		"Title": title, "R": r, "Daily": template.HTML(r.dailySVG()), "Heat": template.HTML(r.heatmapSVG()),
	})
}

func (r *Result) dailySVG() string {
	if len(r.Daily) == 0 {
		return ""
	}
	const W, H, pad = 720.0, 180.0, 30.0
	var most int64
	for _, d := range r.Daily {
		most = max(most, d.Requests)
	}
	bw := (W - 2*pad) / float64(len(r.Daily))
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="requests per day">`, W, H+40)
	for i, d := range r.Daily {
		h := (H - pad) * float64(d.Requests) / float64(max(most, 1))
		x := pad + float64(i)*bw
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#e8833a"><title>%s: %s requests, %s consumers</title></rect>`,
			x+1, H-h, max(bw-2, 1), h, d.Date, num(d.Requests), num(d.Consumers))
		if len(r.Daily) <= 14 || i%(len(r.Daily)/10+1) == 0 {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%g" font-size="10" text-anchor="middle">%s</text>`, x+bw/2, H+14, d.Date[5:])
		}
	}
	fmt.Fprintf(&sb, `<text x="%g" y="12" font-size="10">max %s/day</text></svg>`, pad, num(most))
	return sb.String()
}

func (r *Result) heatmapSVG() string {
	const cell, left, top = 26.0, 40.0, 18.0
	var most int64
	for _, row := range r.HourOfWeek.Requests {
		for _, n := range row {
			most = max(most, n)
		}
	}
	quiet := map[int]bool{}
	for _, q := range r.QuietWindows {
		for h := range q.Hours {
			quiet[(dayIndex(q.Weekday)*24+q.Hour+h)%168] = true
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="hour of week heatmap">`, left+24*cell, top+7*cell)
	for h := 0; h < 24; h += 3 {
		fmt.Fprintf(&sb, `<text x="%g" y="12" font-size="10">%02d</text>`, left+float64(h)*cell+4, h)
	}
	for d, row := range r.HourOfWeek.Requests {
		fmt.Fprintf(&sb, `<text x="4" y="%g" font-size="11">%s</text>`, top+float64(d)*cell+17, r.HourOfWeek.Days[d])
		for h, n := range row {
			fill := "#eee"
			if r.HourOfWeek.Observed[d][h] > 0 {
				fill = fmt.Sprintf("rgba(200,80,20,%.3f)", 0.05+0.95*float64(n)/float64(max(most, 1)))
			}
			stroke := ""
			if quiet[d*24+h] {
				stroke = ` stroke="#1a7f37" stroke-width="3"`
			}
			fmt.Fprintf(&sb, `<rect x="%g" y="%g" width="%g" height="%g" fill="%s"%s><title>%s %02d:00 — %s requests, %s consumers</title></rect>`,
				left+float64(h)*cell+1, top+float64(d)*cell+1, cell-2, cell-2, fill, stroke, r.HourOfWeek.Days[d], h, num(n), num(r.HourOfWeek.Consumers[d][h]))
		}
	}
	sb.WriteString(`</svg>`)
	return sb.String()
}

func dayIndex(name string) int {
	for i, d := range dayNames {
		if d == name {
			return i
		}
	}
	return 0
}

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": num, "pct": pct, "label": consumerLabel, "ts": func(t any) string { return fmt.Sprint(t) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{padding:.2rem .5rem;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.big{font-size:1.3rem;font-weight:600}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem}
</style></head><body>
<h1>{{.Title}}</h1>
{{with .R}}
<div class="cards">
<div class="card"><div class="big">{{num .Requests}}</div>requests</div>
<div class="card"><div class="big">{{num .Consumers}}</div>distinct consumers (by {{.Identity}})</div>
<div class="card"><div class="big">{{num .Lines}}</div>lines, {{num .Malformed}} malformed</div>
<div class="card"><div class="big">{{.Trend.Direction}}</div>{{.Trend.SlopePerDay}} requests/day each day{{if .Trend.ZeroDate}}; zero on {{.Trend.ZeroDate}}{{end}}</div>
</div>
{{if .From}}<p>From {{.From.Format "2006-01-02 15:04 -0700"}} to {{.Until.Format "2006-01-02 15:04 -0700"}}.</p>{{end}}
{{if .QuietWindows}}<h2>Recommended shutdown windows ({{.HourOfWeek.TimeZone}})</h2>
<table><tr><th>window</th><th class="n">requests</th><th class="n">share</th><th class="n">consumers touched</th><th>heaviest touched</th></tr>
{{range .QuietWindows}}<tr><td>{{.Start}}–{{.End}}{{if not .Observed}} (not fully covered){{end}}</td><td class="n">{{num .Requests}}</td><td class="n">{{pct .Share}}</td><td class="n">{{num .Consumers}}</td><td>{{range $i, $c := .TopConsumers}}{{if $i}}, {{end}}{{$c}}{{end}}</td></tr>{{end}}
</table>{{end}}
{{end}}
<h2>Requests per day</h2>{{.Daily}}
<h2>Hour of week ({{.R.HourOfWeek.TimeZone}}; green outline: recommended windows)</h2>{{.Heat}}
{{with .R}}
<h2>Top consumers</h2>
<table><tr><th>consumer</th><th class="n">requests</th><th class="n">share</th><th>first seen</th><th>last seen</th></tr>
{{range .TopConsumers}}<tr><td>{{label .ID .Name .Tier}}</td><td class="n">{{num .Requests}}</td><td class="n">{{pct .Share}}</td><td>{{.FirstSeen.Format "2006-01-02 15:04"}}</td><td>{{.LastSeen.Format "2006-01-02 15:04"}}</td></tr>{{end}}
</table>
{{if .Features}}<h2>Features</h2>
<table><tr><th>feature</th><th class="n">requests</th><th class="n">share</th><th class="n">consumers</th><th>heaviest</th></tr>
{{range .Features}}<tr><td>{{.Name}}{{if .Core}} (core){{end}}</td><td class="n">{{num .Requests}}</td><td class="n">{{pct .Share}}</td><td class="n">{{num .Consumers}}</td><td>{{range $i, $c := .TopConsumers}}{{if lt $i 3}}{{if $i}}, {{end}}{{label $c.ID $c.Name $c.Tier}}: {{num $c.Requests}}{{end}}{{end}}</td></tr>{{end}}
</table>{{end}}
{{with .Migration}}<h2>Migration</h2>
<p>Moved {{num .Moved.Count}} ({{pct .Rate}}), using both {{num .Both.Count}}, not moved {{num .NotMoved.Count}}, new on the alternative {{num .New}}.</p>
{{if .NotMoved.Consumers}}<table><tr><th>not moved yet</th><th class="n">requests</th><th>last call</th></tr>
{{range .NotMoved.Consumers}}<tr><td>{{label .ID .Name .Tier}}</td><td class="n">{{num .Requests}}</td><td>{{.LastOld.Format "2006-01-02 15:04"}}</td></tr>{{end}}</table>{{end}}{{end}}
<h2>Endpoints (top {{len .Endpoints}} of {{.EndpointsTotal}})</h2>
<table><tr><th>path</th><th class="n">requests</th><th class="n">consumers</th></tr>
{{range .Endpoints}}<tr><td>{{.Path}}</td><td class="n">{{num .Requests}}</td><td class="n">{{num .Consumers}}</td></tr>{{end}}
</table>
{{if .MalformedExamples}}<h2>Malformed lines ({{num .Malformed}})</h2>
<table><tr><th>where</th><th>reason</th><th>text</th></tr>
{{range .MalformedExamples}}<tr><td>{{.File}}:{{.Line}}</td><td>{{.Reason}}</td><td><code>{{.Text}}</code></td></tr>{{end}}</table>{{end}}
{{end}}
<p><small>Generated by sunset usage analyze.</small></p>
</body></html>
`))
