package usage

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// CSVHeader is the header of WriteCSV's output: every table shares these columns, and the first
// column names the table (summary, consumer, feature, feature_consumer, endpoint, day, hour,
// quiet_window, migration). Columns a table does not use are empty.
var CSVHeader = []string{"table", "key", "requests", "consumers", "share", "first_seen", "last_seen", "name", "tier"}

// WriteCSV writes the result's tables as one CSV stream with the columns of CSVHeader.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }
	row := func(cols ...string) {
		for len(cols) < len(CSVHeader) {
			cols = append(cols, "")
		}
		cw.Write(cols)
	}
	row(CSVHeader...)
	for _, kv := range []struct {
		k string
		v int64
	}{{"lines", r.Lines}, {"parsed", r.Parsed}, {"malformed", r.Malformed}, {"requests", r.Requests}, {"consumers", r.Consumers}} {
		row("summary", kv.k, i(kv.v))
	}
	for _, c := range r.TopConsumers {
		row("consumer", c.ID, i(c.Requests), "", f(c.Share), c.FirstSeen.Format(time.RFC3339), c.LastSeen.Format(time.RFC3339), c.Name, c.Tier)
	}
	for _, ft := range r.Features {
		row("feature", ft.Name, i(ft.Requests), i(ft.Consumers), f(ft.Share))
		for _, c := range ft.TopConsumers {
			row("feature_consumer", ft.Name+"/"+c.ID, i(c.Requests), "", "", "", "", c.Name, c.Tier)
		}
	}
	for _, e := range r.Endpoints {
		row("endpoint", e.Path, i(e.Requests), i(e.Consumers))
	}
	for _, d := range r.Daily {
		row("day", d.Date, i(d.Requests), i(d.Consumers))
	}
	for d, hours := range r.HourOfWeek.Requests {
		for h, n := range hours {
			row("hour", slotName(d*24+h), i(n), i(r.HourOfWeek.Consumers[d][h]))
		}
	}
	for _, q := range r.QuietWindows {
		row("quiet_window", q.Start+"-"+q.End, i(q.Requests), i(q.Consumers), f(q.Share))
	}
	if m := r.Migration; m != nil {
		for _, g := range []struct {
			name string
			g    MigrationGroup
		}{{"moved", m.Moved}, {"both", m.Both}, {"not_moved", m.NotMoved}} {
			row("migration", g.name, "", i(g.g.Count))
			for _, c := range g.g.Consumers {
				row("migration_"+g.name, c.ID, i(c.Requests), "", "", "", c.LastOld.Format(time.RFC3339), c.Name, c.Tier)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
