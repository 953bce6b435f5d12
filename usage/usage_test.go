package usage

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/internal/testenv"
)

// needRealLog returns the real Apache combined log described in shared/data/README.md.
func needRealLog(t testing.TB) string {
	t.Helper()
	return testenv.SharedData(t, "access/apache_combined_10k.log")
}

func analyzeT(t testing.TB, opts Options, inputs ...Input) *Result {
	t.Helper()
	res, err := Analyze(context.Background(), inputs, opts)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	if res.Parsed+res.Malformed != res.Lines {
		t.Fatalf("parsed %d + malformed %d != lines %d", res.Parsed, res.Malformed, res.Lines)
	}
	return res
}

func bytesInput(name string, data []byte) Input {
	return Input{Name: name, Open: func() (io.ReadCloser, int64, error) {
		return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
	}}
}

func TestRealApacheLogMatchesIndependentFigures(t *testing.T) {
	path := needRealLog(t)
	for _, workers := range []int{1, 2, 7} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			res := analyzeT(t, Options{Workers: workers}, FileInput(path))
			if res.Lines != 10000 || res.Parsed != 10000 || res.Malformed != 0 || res.Requests != 10000 {
				t.Errorf("lines %d parsed %d malformed %d requests %d; want 10000 10000 0 10000", res.Lines, res.Parsed, res.Malformed, res.Requests)
			}
			if res.Consumers != 1753 {
				t.Errorf("distinct IPs = %d, want 1753", res.Consumers)
			}
			want := map[string]int64{"2015-05-17": 1632, "2015-05-18": 2893, "2015-05-19": 2896, "2015-05-20": 2579}
			if len(res.Daily) != len(want) {
				t.Errorf("daily = %+v, want 4 days", res.Daily)
			}
			for _, d := range res.Daily {
				if want[d.Date] != d.Requests {
					t.Errorf("%s: %d requests, want %d", d.Date, d.Requests, want[d.Date])
				}
			}
			if res.Inputs[0].Format != "combined" {
				t.Errorf("detected format %q, want combined", res.Inputs[0].Format)
			}
			if res.TopConsumers[0].ID != "66.249.73.135" || res.TopConsumers[0].Requests != 482 {
				t.Errorf("top consumer = %+v, want 66.249.73.135 with 482 requests", res.TopConsumers[0])
			}
			// Distinct IPs per endpoint, as awk counts them; all below the sketch's threshold.
			wantEP := map[string]int64{"/favicon.ico": 683, "/style2.css": 516, "/": 215}
			for _, e := range res.Endpoints {
				if w, ok := wantEP[e.Path]; ok && e.Consumers != w {
					t.Errorf("%s: %d distinct consumers, want %d", e.Path, e.Consumers, w)
				}
				delete(wantEP, e.Path)
			}
			if len(wantEP) > 0 {
				t.Errorf("endpoints missing: %v", wantEP)
			}
			var how int64
			for _, row := range res.HourOfWeek.Requests {
				for _, n := range row {
					how += n
				}
			}
			if how != 10000 {
				t.Errorf("heatmap sums to %d, want 10000", how)
			}
		})
	}
}

func TestCompressedInputsAndStdinGiveTheSameAnswer(t *testing.T) {
	data, err := os.ReadFile(needRealLog(t))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	var zs bytes.Buffer
	enc, _ := zstd.NewWriter(&zs)
	enc.Write(data)
	enc.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.log.gz"), gz.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "b.log.zst"), zs.Bytes(), 0o644)
	for name, in := range map[string]Input{
		"gzip file":  FileInput(filepath.Join(dir, "a.log.gz")),
		"zstd file":  FileInput(filepath.Join(dir, "b.log.zst")),
		"gzip stdin": bytesInput("-", gz.Bytes()),
	} {
		t.Run(name, func(t *testing.T) {
			res := analyzeT(t, Options{}, in)
			if res.Requests != 10000 || res.Consumers != 1753 {
				t.Errorf("requests %d consumers %d; want 10000 1753", res.Requests, res.Consumers)
			}
		})
	}
	t.Run("glob", func(t *testing.T) {
		ins, err := Inputs([]string{filepath.Join(dir, "*.log.*")}, nil)
		if err != nil || len(ins) != 2 {
			t.Fatalf("Inputs = %d, %v; want 2 inputs", len(ins), err)
		}
		res := analyzeT(t, Options{}, ins...)
		if res.Requests != 20000 || res.Consumers != 1753 {
			t.Errorf("requests %d consumers %d; want 20000 1753", res.Requests, res.Consumers)
		}
	})
	t.Run("glob matching nothing is an error naming it", func(t *testing.T) {
		_, err := Inputs([]string{filepath.Join(dir, "*.nothing")}, nil)
		if err == nil || !strings.Contains(err.Error(), "no file matches") {
			t.Errorf("err = %v", err)
		}
	})
}

const goodLine = `1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a?x=1 HTTP/1.1" 200 10 "-" "UA"`

func TestBadInputIsCountedWithLineNumbersAndTheRestIsStillRead(t *testing.T) {
	long := `1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /` + strings.Repeat("x", MaxLineBytes+10) + ` HTTP/1.1" 200 1 "-" "-"`
	huge := strings.Repeat("y", blockSize+100) // longer than a whole block
	cases := []struct {
		name       string
		body       string
		wantLines  int64
		wantBad    map[int]string // line → reason fragment
		wantParsed int64
	}{
		{"truncated line", goodLine + "\n" + `1.2.3.4 - - [17/May/2015:10:0` + "\n" + goodLine + "\n", 3, map[int]string{2: "timestamp"}, 2},
		{"truncated request", goodLine + "\n" + `1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a HT` + "\n", 2, map[int]string{2: "unterminated"}, 1},
		{"truncated user agent is kept", `1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0 (compat`, 1, nil, 1},
		{"binary garbage", goodLine + "\n\x00\x01\x02\xff\xfe garbage \x1b[31m\n" + goodLine, 3, map[int]string{2: "client address"}, 2},
		{"line over 1 MB", goodLine + "\n" + long + "\n" + goodLine + "\n", 3, map[int]string{2: "longer"}, 2},
		{"line over a whole block", goodLine + "\n" + huge + "\n" + goodLine + "\n", 3, map[int]string{2: "longer"}, 2},
		{"invalid UTF-8 in the address", "1.2.\xc3\x28.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 1\n" + goodLine, 2, map[int]string{1: "client address"}, 1},
		{"invalid UTF-8 in the user agent is kept", `1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "bad` + "\xff\xfe" + `"`, 1, nil, 1},
		{"impossible date", strings.Replace(goodLine, "17/May/2015", "31/Feb/2015", 1) + "\n" + strings.Replace(goodLine, "10:05:03", "25:61:00", 1) + "\n" + goodLine, 3, map[int]string{1: "impossible", 2: "impossible"}, 1},
		{"unknown month", strings.Replace(goodLine, "May", "Foo", 1) + "\n" + goodLine, 2, map[int]string{1: "timestamp"}, 1},
		{"status not a number", strings.Replace(goodLine, " 200 ", " OK ", 1) + "\n" + goodLine, 2, map[int]string{1: "status"}, 1},
		{"empty lines", goodLine + "\n\n" + goodLine + "\r\n", 3, map[int]string{2: "empty"}, 2},
		{"empty file", "", 0, nil, 0},
		{"no final newline", goodLine + "\n" + goodLine, 2, nil, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := analyzeT(t, Options{Format: mustFormat(t, "combined")}, bytesInput("x.log", []byte(c.body)))
			if res.Lines != c.wantLines || res.Parsed != c.wantParsed {
				t.Errorf("lines %d parsed %d; want %d %d (examples %+v)", res.Lines, res.Parsed, c.wantLines, c.wantParsed, res.MalformedExamples)
			}
			if len(res.MalformedExamples) != len(c.wantBad) {
				t.Fatalf("examples = %+v, want lines %v", res.MalformedExamples, c.wantBad)
			}
			for _, e := range res.MalformedExamples {
				frag, ok := c.wantBad[e.Line]
				if !ok || !strings.Contains(e.Reason, frag) || e.File != "x.log" {
					t.Errorf("example %+v; want one of %v in x.log", e, c.wantBad)
				}
				if len(e.Text) > 200 {
					t.Errorf("example text is %d bytes; want it cut", len(e.Text))
				}
			}
		})
	}
	t.Run("missing file is reported and the other inputs are read", func(t *testing.T) {
		res := analyzeT(t, Options{}, FileInput(filepath.Join(t.TempDir(), "nope.log")), bytesInput("ok.log", []byte(goodLine+"\n")))
		if res.Requests != 1 || !strings.Contains(res.Inputs[0].Error, "no such file") || res.Inputs[1].Error != "" {
			t.Errorf("requests %d inputs %+v", res.Requests, res.Inputs)
		}
	})
	t.Run("undetectable format is reported per input", func(t *testing.T) {
		res := analyzeT(t, Options{}, bytesInput("junk", []byte("hello world\nfoo bar\n")), bytesInput("ok.log", []byte(goodLine+"\n")))
		if res.Requests != 1 || !strings.Contains(res.Inputs[0].Error, "cannot detect") {
			t.Errorf("requests %d inputs %+v", res.Requests, res.Inputs)
		}
	})
}

func TestLineNumbersStayExactAcrossBlocks(t *testing.T) {
	var b bytes.Buffer
	n := 0
	for b.Len() < 3*blockSize {
		n++
		if n%50000 == 0 {
			b.WriteString("garbage\n")
			continue
		}
		b.WriteString(goodLine + "\n")
	}
	res := analyzeT(t, Options{Workers: 3}, bytesInput("big.log", b.Bytes()))
	if res.Lines != int64(n) || res.Malformed != int64(n/50000) {
		t.Fatalf("lines %d malformed %d; want %d %d", res.Lines, res.Malformed, n, n/50000)
	}
	for i, e := range res.MalformedExamples {
		if e.Line != (i+1)*50000 {
			t.Errorf("example %d at line %d, want %d", i, e.Line, (i+1)*50000)
		}
	}
}

func mustFormat(t testing.TB, spec string) *Format {
	t.Helper()
	f, err := ParseFormat(spec, Identity{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFormatsReadTheSameRequest(t *testing.T) {
	type want struct {
		host, method, path, ua, id string
		status                     int
		unix                       int64
		offset                     int32
	}
	base := want{host: "10.0.0.1", method: "GET", path: "/v1/orders/7", ua: "curl/8", status: 200, unix: 1431857103 - 8*3600, offset: 8 * 3600}
	cases := []struct {
		name, format, identify, line string
		want                         want
	}{
		{"combined", "combined", "", `10.0.0.1 - - [17/May/2015:10:05:03 +0800] "GET /v1/orders/7?x=1 HTTP/1.1" 200 5 "-" "curl/8"`, base},
		{"common", "common", "", `10.0.0.1 - - [17/May/2015:10:05:03 +0800] "GET /v1/orders/7 HTTP/1.1" 200 -`, want{host: "10.0.0.1", method: "GET", path: "/v1/orders/7", status: 200, unix: base.unix, offset: base.offset}},
		{"combined names the user", "combined", "user", `10.0.0.1 - alice [17/May/2015:10:05:03 +0800] "GET /v1/orders/7 HTTP/1.1" 200 5 "-" "curl/8"`, func() want { w := base; w.id = "alice"; return w }()},
		{"nginx log_format with an API key", `nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" key=$http_x_api_key`, "header:X-API-Key",
			`10.0.0.1 - - [17/May/2015:10:05:03 +0800] "GET /v1/orders/7 HTTP/1.1" 200 5 "-" "curl/8" key=acme-prod`, func() want { w := base; w.id = "acme-prod"; return w }()},
		{"nginx with iso time and separate fields", `$time_iso8601|$remote_addr|$request_method|$request_uri|$status|$http_user_agent`, "",
			`2015-05-17T10:05:03+08:00|10.0.0.1|GET|/v1/orders/7?a=b|200|curl/8`, base},
		{"apache LogFormat with a header", `apache:%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %{X-API-Key}i`, "header:x-api-key",
			`10.0.0.1 - - [17/May/2015:10:05:03 +0800] "GET /v1/orders/7 HTTP/1.1" 200 5 "-" "curl/8" acme-prod`, func() want { w := base; w.id = "acme-prod"; return w }()},
		{"apache quoted field with escaped quote", `%h %t "%r" %>s "%{User-agent}i"`, "",
			`10.0.0.1 [17/May/2015:10:05:03 +0800] "GET /v1/orders/7 HTTP/1.1" 200 "curl/8"`, base},
		{"json lines with default names", "json", "", `{"time":"2015-05-17T10:05:03+08:00","remote_addr":"10.0.0.1","method":"GET","path":"/v1/orders/7?q","status":200,"user_agent":"curl/8"}`, base},
		{"json lines with configured names", "json:time=ts,ip=client,request=req,ua=agent", "field:tenant",
			`{"ts":"17/May/2015:10:05:03 +0800","client":"10.0.0.1","req":"GET /v1/orders/7 HTTP/2","status":"200","agent":"curl/8","tenant":"acme"}`, func() want { w := base; w.id = "acme"; return w }()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := ParseIdentity(c.identify)
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseFormat(c.format, id)
			if err != nil {
				t.Fatal(err)
			}
			if !f.HasID {
				t.Fatalf("format says it does not carry %s", id)
			}
			var r Record
			if err := f.Parser.Parse([]byte(c.line), &r); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := want{string(r.Host), string(r.Method), string(r.Path), string(r.UA), string(r.ID), r.Status, r.Unix, r.Offset}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestDetectionFromTheFirstLines(t *testing.T) {
	for _, c := range []struct{ sample, want string }{
		{goodLine + "\n" + goodLine, "combined"},
		{`1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1` + "\n", "common"},
		{`{"time":"2015-05-17T10:05:03Z","ip":"1.2.3.4"}` + "\n", "json"},
	} {
		f, err := Detect([]byte(c.sample), Identity{})
		if err != nil || f.Name != c.want {
			t.Errorf("Detect(%.30q) = %v, %v; want %s", c.sample, f, err, c.want)
		}
	}
	if _, err := Detect([]byte("a b c\n"), Identity{}); err == nil || !strings.Contains(err.Error(), "--format") {
		t.Errorf("undetectable sample: err = %v, want a hint to pass --format", err)
	}
}

func TestBadFormatsAndIdentitiesAreRefusedWithAReason(t *testing.T) {
	for _, spec := range []string{"nginx:$remote_addr $status", "nginx:$remote_addr$time_local", "apache:%h %{X-Foo", "xml"} {
		if _, err := ParseFormat(spec, Identity{}); err == nil {
			t.Errorf("ParseFormat(%q) accepted", spec)
		}
	}
	if _, err := ParseIdentity("cookie"); err == nil {
		t.Error("ParseIdentity(cookie) accepted")
	}
	f, _ := ParseFormat("combined", HeaderIdentity("X-API-Key"))
	if f.HasID {
		t.Error("combined claims to carry an X-API-Key header")
	}
}

func TestConsumersByIPAndUserAgent(t *testing.T) {
	log := goodLine + "\n" + strings.Replace(goodLine, `"UA"`, `"Other"`, 1) + "\n" + goodLine + "\n"
	res := analyzeT(t, Options{Identity: Identity{Kind: IdentityIPUA}}, bytesInput("x", []byte(log)))
	if res.Consumers != 2 || res.TopConsumers[0].ID != "1.2.3.4 | UA" || res.TopConsumers[0].Requests != 2 {
		t.Errorf("consumers %d top %+v", res.Consumers, res.TopConsumers)
	}
}

// apiLog writes an nginx-style log with an API key: acme calls reports and orders all week,
// globex only orders on weekdays in office hours; nothing happens on Sunday nights.
func apiLog(start time.Time, days int, keyOf func(day, hour int) []string) []byte {
	var b bytes.Buffer
	for d := range days {
		for h := range 24 {
			t := start.Add(time.Duration(d*24+h) * time.Hour)
			for _, k := range keyOf(d, h) {
				path := "/v1/orders/42"
				if k == "acme-prod" && h%2 == 0 {
					path = "/v1/reports/9?fmt=csv"
				}
				fmt.Fprintf(&b, "10.0.0.%d - - [%s] \"GET %s HTTP/1.1\" 200 12 \"-\" \"sdk\" %s\n", len(k), t.Format("02/Jan/2006:15:04:05 -0700"), path, k)
			}
		}
	}
	return b.Bytes()
}

func TestFeaturesContactsTiersAndQuietWindows(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no tz database")
	}
	start := time.Date(2027, 1, 4, 0, 0, 0, 0, shanghai) // a Monday
	log := apiLog(start, 14, func(d, h int) []string {
		wd := (d % 7)
		var keys []string
		if !(wd == 6 && h < 4) { // quiet Sunday 00:00-04:00
			keys = append(keys, "acme-prod")
		}
		if wd < 5 && h >= 9 && h < 18 {
			keys = append(keys, "globex-7f3a", "globex-7f3a")
		}
		return keys
	})
	id := HeaderIdentity("X-API-Key")
	f, err := ParseFormat(`nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $http_x_api_key`, id)
	if err != nil {
		t.Fatal(err)
	}
	contacts, err := ReadContacts(strings.NewReader("id,email,name,locale,tier\nacme-prod,ops@acme.example.com,Acme Corp,en,critical\nglobex-7f3a,dev@globex.example.com,Globex,en,standard\n"), contacts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := analyzeT(t, Options{
		Format: f, Identity: id, Location: shanghai, Window: 2 * time.Hour, Windows: 2, Contacts: contacts,
		Features: []FeatureRoutes{
			{Name: "reports", Routes: []string{"GET /v1/reports/{id}", "POST /v1/reports"}},
			{Name: "orders", Core: true, Routes: []string{"/v1/orders/", "GET /v1/orders/{id}/items"}},
		},
	}, bytesInput("api.log", log))

	if res.Consumers != 2 || res.TopConsumers[0].Name != "Acme Corp" || res.TopConsumers[1].Tier != "standard" {
		t.Fatalf("consumers %d top %+v", res.Consumers, res.TopConsumers)
	}
	feat := map[string]FeatureUse{}
	for _, f := range res.Features {
		feat[f.Name] = f
	}
	if r := feat["reports"]; r.Consumers != 1 || r.TopConsumers[0].Name != "Acme Corp" || r.Requests != 14*12-2*2 {
		t.Errorf("reports = %+v", r)
	}
	if o := feat["orders"]; o.Consumers != 2 {
		t.Errorf("orders = %+v", o)
	}
	if res.UnmatchedRequests != 0 {
		t.Errorf("unmatched = %d", res.UnmatchedRequests)
	}
	if len(res.Endpoints) != 2 || res.Endpoints[0].Path != "/v1/orders/42" {
		t.Errorf("endpoints = %+v (query strings must be cut)", res.Endpoints)
	}
	if len(res.Tiers) != 2 {
		t.Errorf("tiers = %+v", res.Tiers)
	}
	if len(res.QuietWindows) != 2 {
		t.Fatalf("quiet windows = %+v", res.QuietWindows)
	}
	q := res.QuietWindows[0]
	if q.Start != "Sun 00:00" && q.Start != "Sun 01:00" && q.Start != "Sun 02:00" || q.Requests != 0 || q.Consumers != 0 || !q.Observed {
		t.Errorf("quietest window = %+v, want 2h inside Sun 00:00-04:00 with no traffic", q)
	}
	if res.HourOfWeek.TimeZone != "Asia/Shanghai" || res.HourOfWeek.Requests[0][10] != 2*(1+2) {
		t.Errorf("heatmap Mon 10:00 = %d in %s, want 6", res.HourOfWeek.Requests[0][10], res.HourOfWeek.TimeZone)
	}
	if len(res.Daily) != 14 || res.Daily[0].Date != "2027-01-04" || res.Daily[0].Consumers != 2 {
		t.Errorf("daily[0] = %+v of %d days", res.Daily[0], len(res.Daily))
	}
}

func TestTrendProjectsTheDayUsageReachesZero(t *testing.T) {
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	// 100 requests on day 0, 90 on day 1, ... 10 on day 9: zero on day 10.
	log := apiLog(start, 10, func(d, h int) []string {
		n := (100 - 10*d) / 24
		if h < (100-10*d)%24 {
			n++
		}
		return slicesRepeat("k", n)
	})
	res := analyzeT(t, Options{Format: mustFormat(t, "combined")}, bytesInput("x", log))
	if res.Trend.Direction != "declining" || res.Trend.SlopePerDay != -10 || res.Trend.ZeroDate != "2027-01-11" {
		t.Errorf("trend = %+v, want declining at -10/day reaching zero 2027-01-11", res.Trend)
	}
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestMigrationSortsConsumersIntoMovedBothAndNotMoved(t *testing.T) {
	line := func(ip string, day int) string {
		return fmt.Sprintf(`%s - - [%02d/May/2027:10:00:00 +0000] "GET /x HTTP/1.1" 200 1 "-" "-"`+"\n", ip, day)
	}
	old := line("1.1.1.1", 1) + line("2.2.2.2", 1) + line("2.2.2.2", 10) + line("3.3.3.3", 10) + line("4.4.4.4", 2)
	alt := line("1.1.1.1", 2) + line("2.2.2.2", 3) + line("4.4.4.4", 1) + line("4.4.4.4", 9) + line("5.5.5.5", 5)
	res := analyzeT(t, Options{}, bytesInput("old", []byte(old)))
	altRes := analyzeT(t, Options{}, bytesInput("new", []byte(alt)))
	res.TrackMigration(altRes, nil, 10)
	m := res.Migration
	ids := func(g MigrationGroup) string {
		var s []string
		for _, c := range g.Consumers {
			s = append(s, c.ID)
		}
		return strings.Join(s, ",")
	}
	// 1.1.1.1 switched cleanly; 4.4.4.4 overlapped but stopped calling the old service long
	// before its logs end; 2.2.2.2 still calls both; 3.3.3.3 never moved; 5.5.5.5 is new.
	if ids(m.Moved) != "1.1.1.1,4.4.4.4" || ids(m.Both) != "2.2.2.2" || ids(m.NotMoved) != "3.3.3.3" || m.New != 1 || m.Rate != 0.5 {
		t.Errorf("moved %s both %s not moved %s new %d rate %v", ids(m.Moved), ids(m.Both), ids(m.NotMoved), m.New, m.Rate)
	}
}

func TestContactsNeedAnIDColumn(t *testing.T) {
	if _, err := ReadContacts(strings.NewReader("email,name\na@b,c\n"), contacts.Options{}); err == nil {
		t.Error("contacts without id accepted")
	}
}

func TestCancelledAnalysisStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Analyze(ctx, []Input{bytesInput("x", []byte(goodLine))}, Options{}); err == nil {
		t.Error("cancelled analysis returned no error")
	}
}

func TestHourlyCountsSumToTheRequestsWhateverTheWorkers(t *testing.T) {
	path := needRealLog(t)
	one := analyzeT(t, Options{Workers: 1, Hourly: true}, FileInput(path))
	many := analyzeT(t, Options{Workers: 3, Hourly: true}, FileInput(path))
	var sum int64
	for _, c := range one.HourlyCounts() {
		sum += c.Requests
		if c.Hour.Minute() != 0 || c.Hour.Second() != 0 || c.Hour.Location() != time.UTC {
			t.Fatalf("hour %v is not the start of a UTC hour", c.Hour)
		}
	}
	if sum != one.Requests {
		t.Errorf("hourly counts sum to %d, want %d requests", sum, one.Requests)
	}
	if fmt.Sprint(one.HourlyCounts()) != fmt.Sprint(many.HourlyCounts()) {
		t.Error("hourly counts differ between 1 and 3 workers")
	}
	if plain := analyzeT(t, Options{}, FileInput(path)); plain.HourlyCounts() != nil {
		t.Error("hourly counts kept without Options.Hourly")
	}
}
