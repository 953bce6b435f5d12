package usage

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/sunsetops/sunset/internal/testenv"
)

// seedLines adds the first lines of the real log and hand-made hostile lines to a fuzz corpus.
func seedLines(f *testing.F) {
	f.Add([]byte(goodLine))
	f.Add([]byte(`1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 -`))
	f.Add([]byte(`1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a\"b HTTP/1.1" 200 1 "-" "Mozilla/5.0 (compat`))
	f.Add([]byte(`1.2.3.4 - - [31/Feb/2015:10:05:03 +0000] "-" 400 0 "-" "-"`))
	f.Add([]byte("\x00\xff\xfe[]\"\"\\"))
	f.Add([]byte(`{"time":"2015-05-17T10:05:03Z","remote_addr":"1.2.3.4","request":"GET / HTTP/1.1","status":200}`))
	if path, err := testenv.DataPath("access/apache_combined_10k.log"); err == nil {
		data, _ := os.ReadFile(path)
		for i, line := range bytes.Split(data, []byte("\n")) {
			if i%2000 == 0 {
				f.Add(line)
			}
		}
	}
}

// checkRecord fails when a parser accepted a line but left the record inconsistent.
func checkRecord(t *testing.T, line []byte, r *Record) {
	t.Helper()
	if r.Path == nil {
		t.Fatalf("accepted %q without a path", line)
	}
	for _, b := range [][]byte{r.Host, r.Method, r.Path, r.UA, r.Referer, r.User, r.ID} {
		if len(b) > len(line)+64 {
			t.Fatalf("field longer than the line %q", line)
		}
	}
	if r.Status < 0 || r.Status > 999 || r.Bytes < 0 {
		t.Fatalf("status %d bytes %d from %q", r.Status, r.Bytes, line)
	}
	if r.Offset > 18*3600 || r.Offset < -18*3600 {
		t.Fatalf("offset %d from %q", r.Offset, line)
	}
}

func FuzzParseCombined(f *testing.F) {
	seedLines(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		if (Combined{}).Parse(line, &r) == nil {
			checkRecord(t, line, &r)
			if !printable(r.Host) {
				t.Fatalf("accepted an unprintable host from %q", line)
			}
		}
	})
}

func FuzzParseCustom(f *testing.F) {
	seedLines(f)
	nginx, err := ParseFormat(`nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $http_x_api_key`, HeaderIdentity("X-API-Key"))
	if err != nil {
		f.Fatal(err)
	}
	apache, err := ParseFormat(`apache:%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"`, Identity{})
	if err != nil {
		f.Fatal(err)
	}
	iso, err := ParseFormat(`$time_iso8601|$remote_addr|$request_method|$request_uri|$status|$msec`, Identity{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, fm := range []*Format{nginx, apache, iso} {
			var r Record
			if fm.Parser.Parse(line, &r) == nil {
				checkRecord(t, line, &r)
			}
		}
	})
}

func FuzzParseFormatString(f *testing.F) {
	for _, s := range []string{`nginx:$remote_addr [$time_local] "$request" $status`, `apache:%h %t "%r" %>s %{X-Key}i`, `${a}${b}`, `%{`, `$time_local$`, "json:time=ts"} {
		f.Add(s, []byte(goodLine))
	}
	f.Fuzz(func(t *testing.T, spec string, line []byte) {
		fm, err := ParseFormat(spec, HeaderIdentity("X-Key"))
		if err != nil || fm == nil {
			return
		}
		var r Record
		if fm.Parser.Parse(line, &r) == nil {
			checkRecord(t, line, &r)
		}
	})
}

func FuzzParseJSONLines(f *testing.F) {
	seedLines(f)
	f.Add([]byte(`{"ts":1431857103.5,"ip":"1.2.3.4:5","path":"/a?b","status":"200","user":{"id":1}}`))
	fm, err := ParseFormat("json", Identity{Kind: IdentityField, Field: "user"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		if fm.Parser.Parse(line, &r) == nil {
			checkRecord(t, line, &r)
		}
	})
}

// FuzzAnalyze feeds whole inputs through detection, the block reader and the workers:
// whatever the bytes, lines = parsed + malformed and nothing panics.
func FuzzAnalyze(f *testing.F) {
	f.Add([]byte(goodLine + "\n\n" + goodLine + "\r\ngarbage\n\xff"))
	f.Add([]byte(`{"time":"2015-05-17T10:05:03Z"}` + "\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Analyze(context.Background(), []Input{bytesInput("f", data)}, Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if res.Parsed+res.Malformed != res.Lines {
			t.Fatalf("parsed %d + malformed %d != lines %d", res.Parsed, res.Malformed, res.Lines)
		}
		if res.Inputs[0].Error == "" && int64(bytes.Count(data, []byte("\n"))) > res.Lines {
			t.Fatalf("%d newlines but %d lines", bytes.Count(data, []byte("\n")), res.Lines)
		}
	})
}
