package usage

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// counterFile is what `sunset gateway --usage-file` appends: one flush per line. The second
// flush appears twice (an overlapping copy) and must count once; line 4 is damaged.
const counterFile = `{"gateway":"gw-a","seq":1,"counts":[{"feature":"reports","consumer":"acme","hour":"2027-01-05T02:00:00Z","count":40},{"feature":"","consumer":"acme","hour":"2027-01-05T02:00:00Z","count":2}],"aware":[{"consumer":"acme","first_seen":"2027-01-05T02:10:00Z"}]}
{"gateway":"gw-a","seq":2,"counts":[{"feature":"exports","consumer":"globex","hour":"2027-01-06T03:00:00Z","count":5},{"feature":"reports","consumer":"globex","hour":"2027-01-06T03:00:00Z","count":3}]}
{"gateway":"gw-a","seq":2,"counts":[{"feature":"exports","consumer":"globex","hour":"2027-01-06T03:00:00Z","count":5},{"feature":"reports","consumer":"globex","hour":"2027-01-06T03:00:00Z","count":3}]}
{"gateway":"gw-a","seq":3,"counts":[{"feature":"reports"
{"gateway":"gw-b","seq":1,"counts":[{"feature":"reports","consumer":"acme","hour":"2027-01-06T03:00:00Z","count":10}]}
`

func counterInput(t *testing.T, name, content string, gz bool) Input {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	var data []byte
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		io.WriteString(zw, content)
		zw.Close()
		data = b.Bytes()
	} else {
		data = []byte(content)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return FileInput(path)
}

func TestAnalyzeCountersReadsTheGatewaysFlushes(t *testing.T) {
	for _, gz := range []bool{false, true} {
		in := counterInput(t, "sunset-usage.jsonl", counterFile, gz)
		if !SniffCounters([]Input{in}) {
			t.Fatalf("gz=%v: a counter file is not recognised", gz)
		}
		features := []FeatureRoutes{{Name: "reports", Routes: []string{"/v1/reports/"}}, {Name: "exports", Routes: []string{"/v1/exports/"}}}
		res, err := AnalyzeCounters(context.Background(), []Input{in}, Options{Features: features})
		if err != nil {
			t.Fatal(err)
		}
		if res.Requests != 60 || res.Parsed != 60 || res.Malformed != 1 || res.Lines != 61 {
			t.Errorf("gz=%v: requests %d parsed %d malformed %d lines %d; want 60 60 1 61 (the repeated flush once)",
				gz, res.Requests, res.Parsed, res.Malformed, res.Lines)
		}
		if res.Consumers != 2 {
			t.Errorf("consumers %d, want 2", res.Consumers)
		}
		got := map[string]int64{}
		for _, f := range res.Features {
			got[f.Name] = f.Requests
		}
		if got["reports"] != 53 || got["exports"] != 5 || res.UnmatchedRequests != 2 {
			t.Errorf("features %v, unmatched %d; want reports 53, exports 5, unmatched 2", got, res.UnmatchedRequests)
		}
		if len(res.MalformedExamples) != 1 || res.MalformedExamples[0].Line != 4 {
			t.Errorf("malformed examples %+v, want line 4", res.MalformedExamples)
		}
		if len(res.Daily) != 2 || res.Daily[0].Date != "2027-01-05" || res.Daily[0].Requests != 42 {
			t.Errorf("daily %+v", res.Daily)
		}
		eps := map[string]int64{}
		for _, e := range res.Endpoints {
			eps[e.Path] = e.Requests
		}
		if eps["feature:reports"] != 53 || eps["-"] != 2 {
			t.Errorf("endpoints %v", eps)
		}
	}
}

func TestCounterFilesAreNotMistakenForLogs(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{`{"gateway":"g","seq":1,"counts":[]}`, true},
		{`  {"gateway":"g","seq":7,"counts":null,"aware":[]}`, true},
		{`{"time":"2027-01-05T02:00:00Z","ip":"10.0.0.1","path":"/v1"}`, false},
		{`{"gateway":"g","counts":[]}`, false},
		{`127.0.0.1 - - [05/Jan/2027:10:00:00 +0800] "GET / HTTP/1.1" 200 5`, false},
		{`{"gateway":`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := IsCounterLine([]byte(tt.line)); got != tt.want {
			t.Errorf("IsCounterLine(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestAnalyzeCountersRefusesBadLinesAndKeepsTheRest(t *testing.T) {
	bad := strings.Join([]string{
		`not json`,
		`{"gateway":"","seq":1,"counts":[]}`,
		`{"gateway":"g","seq":0,"counts":[]}`,
		`{"gateway":"g","seq":1,"counts":[{"feature":"x","consumer":"c","hour":"yesterday","count":1}]}`,
		`{"gateway":"g","seq":2,"counts":[{"feature":"x","consumer":"c","hour":"2027-01-05T02:00:00Z","count":-4}]}`,
		`{"gateway":"g","seq":3,"counts":[{"feature":"x","consumer":"c","hour":"2027-01-05T02:00:00Z","count":7}]}`,
	}, "\n")
	res, err := AnalyzeCounters(context.Background(), []Input{counterInput(t, "c.jsonl", bad, false)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Malformed != 4 || res.Requests != 7 || res.Parsed+res.Malformed != res.Lines {
		t.Errorf("malformed %d requests %d parsed %d lines %d; want 4 malformed and 7 requests", res.Malformed, res.Requests, res.Parsed, res.Lines)
	}
}

func FuzzAnalyzeCounters(f *testing.F) {
	f.Add(counterFile)
	f.Add(`{"gateway":"g","seq":1,"counts":[{"hour":"0001-01-01T00:00:00Z","count":9223372036854775807}]}`)
	f.Fuzz(func(t *testing.T, content string) {
		in := Input{Name: "fuzz", Open: func() (io.ReadCloser, int64, error) {
			return io.NopCloser(strings.NewReader(content)), int64(len(content)), nil
		}}
		IsCounterLine([]byte(content))
		res, err := AnalyzeCounters(context.Background(), []Input{in}, Options{Features: []FeatureRoutes{{Name: "x", Routes: []string{"/x"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Parsed+res.Malformed != res.Lines {
			t.Errorf("parsed %d + malformed %d != lines %d", res.Parsed, res.Malformed, res.Lines)
		}
	})
}
