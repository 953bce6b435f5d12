package usage

import (
	"context"
	"os"
	"testing"
)

// BenchmarkAnalyzeFile runs the whole pipeline on the file named by SUNSET_BENCH_LOG (a log made
// by bench/usage/gen, say 100 MB), for profiling on realistic key counts:
//
//	go run ./bench/usage/gen -size 100MB -o /tmp/100.log
//	SUNSET_BENCH_LOG=/tmp/100.log go test ./usage -run '^$' -bench AnalyzeFile -cpuprofile cpu.out -memprofile mem.out
func BenchmarkAnalyzeFile(b *testing.B) {
	name := os.Getenv("SUNSET_BENCH_LOG")
	if name == "" {
		b.Skip("SUNSET_BENCH_LOG names no generated log")
	}
	st, err := os.Stat(name)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Analyze(context.Background(), []Input{FileInput(name)}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
