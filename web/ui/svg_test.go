package ui

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// wellFormed fails the test unless svg parses as XML, and returns its element names.
func wellFormed(t *testing.T, svg string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var names []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			names = append(names, se.Name.Local)
		}
	}
}

// sampleGantt is a chart of two rows around t.
func sampleGantt(label string, at time.Time) *gantt {
	return &gantt{Title: label, Now: at.Add(48 * time.Hour), NowLabel: "now", Loc: time.UTC,
		Rows: []ganttRow{
			{Label: label, Segments: []ganttSegment{{From: at, To: at.Add(24 * time.Hour), Class: "deprecated", Label: label}}},
			{Label: "notices", Marks: []ganttMark{{At: at, Label: label, Done: true}, {At: at.Add(time.Hour), Label: label, Held: true}}},
		},
		Lines: []ganttLine{{At: at, Label: label}}}
}

func TestGanttIsWellFormedSVGWithANowLine(t *testing.T) {
	at := time.Date(2027, 1, 4, 10, 0, 0, 0, time.UTC)
	svg := string(sampleGantt(`<script>alert("x")</script> & 公告`, at).SVG())
	names := wellFormed(t, svg)
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "&lt;script&gt;") {
		t.Errorf("labels are not escaped:\n%s", svg)
	}
	for _, want := range []string{`id="now-line"`, `class="seg seg-deprecated"`, `class="mark mark-done"`, `class="mark mark-held"`, `class="milestone"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %s", want)
		}
	}
	if names[0] != "svg" || names[1] != "title" {
		t.Errorf("the chart does not open with its title: %v", names[:2])
	}
}

func TestGanttOfAnEmptyTimelineStillDraws(t *testing.T) {
	svg := string((&gantt{Title: "empty", Loc: time.UTC}).SVG())
	wellFormed(t, svg)
	if strings.Contains(svg, "now-line") {
		t.Error("a chart without now draws a now-line")
	}
}

func TestSeriesChart(t *testing.T) {
	tests := []struct {
		name   string
		c      seriesChart
		want   []string
		absent []string
	}{
		{"bars", seriesChart{Title: "Requests", Bars: true, Labels: []string{"2027-01-01", "2027-01-02"}, Values: []float64{1200, 0}},
			[]string{`class="bar"`, ">01-01<", "2027-01-02: 0", ">2.0k<"}, []string{"polyline"}},
		{"line", seriesChart{Title: "Consumers", Labels: []string{"2027-01-01", "2027-01-02", "2027-01-03"}, Values: []float64{6, 5, 0}},
			[]string{`<polyline class="line"`, `class="point"`, ">8<", ">2<"}, []string{`class="bar"`}},
		{"no values", seriesChart{Title: "Nothing"}, []string{"<title>Nothing</title>"}, []string{"polyline", "rect"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg := string(tt.c.SVG())
			wellFormed(t, svg)
			for _, w := range tt.want {
				if !strings.Contains(svg, w) {
					t.Errorf("lacks %q:\n%s", w, svg)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(svg, a) {
					t.Errorf("has %q", a)
				}
			}
		})
	}
}

func TestAxisTopAndShortNumber(t *testing.T) {
	for v, want := range map[float64]float64{0: 4, 0.5: 4, 3: 4, 4: 4, 6: 8, 7: 8, 12: 20, 56: 80, 1200: 2000, 5000: 8000, 20000: 20000} {
		if got := axisTop(v); got != want {
			t.Errorf("axisTop(%v) = %v, want %v", v, got, want)
		}
	}
	for v, want := range map[float64]string{0: "0", 2.5: "2.5", 950: "950", 1250: "1.2k", 25000: "25k", 3.4e6: "3.4M"} {
		if got := shortNumber(v); got != want {
			t.Errorf("shortNumber(%v) = %q, want %q", v, got, want)
		}
	}
}

// FuzzChartsAreWellFormed draws charts from arbitrary labels, instants and values: whatever a
// plan or a gateway says, the SVG parses and carries no markup of its own.
func FuzzChartsAreWellFormed(f *testing.F) {
	f.Add("Search API v1", int64(1798000000), 12.5)
	f.Add(`</svg><script>x</script>`, int64(0), -3.0)
	f.Add("搜索建议 & <b>", int64(-62135596800), 1e12)
	f.Fuzz(func(t *testing.T, label string, unix int64, value float64) {
		if unix < -62135596800 || unix > 253402300799 { // years 1 to 9999
			t.Skip()
		}
		at := time.Unix(unix, 0).UTC()
		svg := string(sampleGantt(label, at).SVG())
		wellFormed(t, svg)
		if strings.Contains(svg, "<script") {
			t.Fatalf("markup from a label reached the chart:\n%s", svg)
		}
		c := seriesChart{Title: label, Labels: []string{label, label}, Values: []float64{value, value / 2}}
		wellFormed(t, string(c.SVG()))
		c.Bars = true
		wellFormed(t, string(c.SVG()))
	})
}
