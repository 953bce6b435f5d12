package usage

import (
	"bytes"
	"context"
	"os"
	"testing"
)

func benchLines(b *testing.B) [][]byte {
	b.Helper()
	data, err := os.ReadFile(needRealLog(b))
	if err != nil {
		b.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(data), []byte("\n"))
}

func benchParser(b *testing.B, p Parser, lines [][]byte) {
	var r Record
	var n int64
	for _, l := range lines {
		n += int64(len(l) + 1)
	}
	b.SetBytes(n / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r.reset()
		if err := p.Parse(lines[i%len(lines)], &r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCombined(b *testing.B) {
	benchParser(b, Combined{}, benchLines(b))
}

func BenchmarkParseCustomNginx(b *testing.B) {
	f, err := ParseFormat(`nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`, Identity{})
	if err != nil {
		b.Fatal(err)
	}
	benchParser(b, f.Parser, benchLines(b))
}

func BenchmarkParseJSONLines(b *testing.B) {
	line := []byte(`{"time":"2015-05-17T10:05:03+00:00","remote_addr":"83.149.9.216","request":"GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1","status":200,"body_bytes_sent":203023,"http_referer":"http://semicomplete.com/presentations/logstash-monitorama-2013/","http_user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36"}`)
	f, _ := ParseFormat("json", Identity{})
	benchParser(b, f.Parser, [][]byte{line})
}

// BenchmarkAnalyze runs the whole pipeline (reader, workers, merge, answers) on the real log.
func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile(needRealLog(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Analyze(context.Background(), []Input{bytesInput("x", data)}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
