package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/usage"
)

// A standalone gateway's counter file, written by the gateway's own flusher, is read by
// `sunset usage analyze` without --format: features and consumers come out as counted.
func TestUsageAnalyzeReadsAStandaloneGatewaysCounterFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "sunset-usage.jsonl")
	u := gateway.NewUsage()
	fl := &gateway.Flusher{Usage: u, Sink: &gateway.FileSink{Path: file}, Gateway: "gw-test"}
	at := time.Date(2027, 1, 20, 2, 30, 0, 0, time.UTC)
	for range 12 {
		u.Count("reports", "acme", at)
	}
	u.Count("orders", "globex", at)
	if err := fl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		u.Count("reports", "globex", at.Add(24*time.Hour))
	}
	if err := fl.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	code, out, errs := run(t, ctx, "usage", "analyze", "--plan", "../../examples/api-v2.yaml", "--output", "json", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res usage.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Requests != 16 || res.Consumers != 2 || res.Malformed != 0 || len(res.Daily) != 2 {
		t.Errorf("requests %d consumers %d malformed %d days %d; want 16, 2, 0, 2", res.Requests, res.Consumers, res.Malformed, len(res.Daily))
	}
	got := map[string]int64{}
	for _, f := range res.Features {
		got[f.Name] = f.Requests
	}
	if got["reports"] != 15 || got["orders"] != 1 {
		t.Errorf("features %v, want reports 15 and orders 1", got)
	}
	if len(res.Inputs) != 1 || res.Inputs[0].Format != usage.CounterFormat {
		t.Errorf("inputs %+v, want one read as %q", res.Inputs, usage.CounterFormat)
	}
}
