package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/internal/testenv"
)

func TestUsageAnalyzeOnTheRealLog(t *testing.T) {
	t.Parallel()
	realLog := testenv.SharedData(t, "access/apache_combined_10k.log")
	ctx := context.Background()
	t.Run("text summary names the figures and a window", func(t *testing.T) {
		code, out, errs := run(t, ctx, "usage", "analyze", realLog)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{"10,000 requests from 1,753 distinct consumers", "2015-05-18 Mon       2,893", "Recommended shutdown windows (2h, UTC)", "1. "} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("json has the documented fields", func(t *testing.T) {
		code, out, errs := run(t, ctx, "usage", "analyze", "--output", "json", "--tz", "Asia/Shanghai", "--window", "3h", realLog)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"lines", "parsed", "malformed", "requests", "consumers", "top_consumers", "endpoints", "features", "daily", "hour_of_week", "quiet_windows"} {
			if _, ok := r[k]; !ok {
				t.Errorf("json lacks %q", k)
			}
		}
		if r["requests"].(float64) != 10000 || r["consumers"].(float64) != 1753 {
			t.Errorf("requests %v consumers %v", r["requests"], r["consumers"])
		}
		day := r["daily"].([]any)[1].(map[string]any)
		if day["date"] != "2015-05-18" || day["requests"].(float64) != 2893 {
			t.Errorf("daily[1] = %v", day)
		}
		q := r["quiet_windows"].([]any)[0].(map[string]any)
		if q["hours"].(float64) != 3 || r["hour_of_week"].(map[string]any)["timezone"] != "Asia/Shanghai" {
			t.Errorf("window %v", q)
		}
	})
	t.Run("csv and html", func(t *testing.T) {
		code, out, _ := run(t, ctx, "usage", "analyze", "-o", "csv", realLog)
		if code != 0 || !strings.HasPrefix(out, "table,key,requests") || !strings.Contains(out, "day,2015-05-19,2896,") {
			t.Errorf("exit %d csv:\n%.300s", code, out)
		}
		code, out, _ = run(t, ctx, "usage", "analyze", "-o", "html", realLog)
		if code != 0 || !strings.Contains(out, "<svg") || strings.Contains(out, "<script") || strings.Contains(out, "src=\"http") {
			t.Errorf("exit %d: html is not a self-contained page with svg charts", code)
		}
	})
	t.Run("missing file exits 1 after reading the others", func(t *testing.T) {
		code, out, errs := run(t, ctx, "usage", "analyze", "-o", "json", realLog, filepath.Join(t.TempDir(), "gone.log"))
		if code != 1 || !strings.Contains(errs, "gone.log: no such file") || !strings.Contains(out, `"requests": 10000`) {
			t.Errorf("exit %d stderr %q", code, errs)
		}
	})
	t.Run("bad flags are usage errors", func(t *testing.T) {
		for _, args := range [][]string{{"--output", "xml"}, {"--window", "90m"}, {"--tz", "Mars/Base"}, {"--identify", "cookie"}, {"--format", "xml"}} {
			code, _, errs := run(t, ctx, append([]string{"usage", "analyze"}, append(args, realLog)...)...)
			if code != 2 || errs == "" {
				t.Errorf("%v: exit %d stderr %q", args, code, errs)
			}
		}
	})
}

// writeAPILog writes a week of an API's log, in the nginx format with the API key at the end:
// busy on weekdays 09:00–18:00 Shanghai time, nearly silent at night.
func writeAPILog(t *testing.T, path string, keys []string, start time.Time, days int) {
	t.Helper()
	var b strings.Builder
	for d := range days {
		for h := range 24 {
			at := start.Add(time.Duration(d*24+h) * time.Hour)
			n := 1
			if h >= 9 && h < 18 {
				n = 20
			}
			for i := range n {
				k := keys[i%len(keys)]
				path := "/v1/orders/1"
				if i%3 == 0 {
					path = "/v1/reports/7"
				}
				fmt.Fprintf(&b, `10.0.0.%d - - [%s] "GET %s HTTP/1.1" 200 5 "-" "sdk" %s`+"\n", i%250, at.Format("02/Jan/2006:15:04:05 -0700"), path, k)
			}
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUsageWithPlanAlternativeAndValidateWarnings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	sh := time.FixedZone("CST", 8*3600)
	start := time.Date(2027, 1, 4, 0, 0, 0, 0, sh)
	v1, v2 := filepath.Join(dir, "v1.log"), filepath.Join(dir, "v2.log")
	writeAPILog(t, v1, []string{"acme-prod", "globex-7f3a", "hooli-test"}, start, 7)
	writeAPILog(t, v2, []string{"globex-7f3a", "newco"}, start.Add(24*time.Hour), 7)
	format := `--format=nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $http_x_api_key`

	code, out, errs := run(t, ctx, "usage", "analyze", "--plan", "../../examples/api-v2.yaml", format, v1, "--alternative", v2)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Acme Corp <acme-prod> (tier critical)", "calls to reports", "(Asia/Shanghai", "not moved: Acme Corp", "moved 0 (0.0%) · using both 1 · not moved 2 · new on the alternative 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	code, out, errs = run(t, ctx, "usage", "analyze", "--plan", "../../examples/api-v2.yaml", format, "-o", "json", v1)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	res := filepath.Join(dir, "usage.json")
	os.WriteFile(res, []byte(out), 0o644)

	// The example plan's brownouts run Tue,Thu 14:00 Shanghai time: the busiest hours here.
	code, out, _ = run(t, ctx, "plan", "validate", "--usage", res, "../../examples/api-v2.yaml")
	if code != 0 || !strings.Contains(out, "warning: brownout window at") || !strings.Contains(out, "the quietest 2h window is") {
		t.Errorf("exit %d; want a brownout warning naming a quiet window:\n%s", code, out)
	}
	code, _, errs = run(t, ctx, "plan", "validate", "--usage", v1, "../../examples/api-v2.yaml")
	if code != 1 || !strings.Contains(errs, "not a 'sunset usage analyze --output json' result") {
		t.Errorf("a log given as --usage: exit %d %q", code, errs)
	}
}
