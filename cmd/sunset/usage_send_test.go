package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/web"
)

// controlPlane starts a real server (engine, SQLite store, web API) with the example plan
// applied, and returns its URL and store.
func controlPlane(t *testing.T, planFile string) (string, *store.DB) {
	t.Helper()
	st := storetest.OpenSQLite(t).(*store.DB)
	clock := sunset.NewFixedClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.ApplyBundle(t.Context(), planFile, data, plan.LocalFiles(filepath.Dir(planFile)), "tester"); err != nil {
		t.Fatal(err)
	}
	srv := &web.Server{Engine: eng, Usage: st.Usage(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test", Now: clock.Now}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL, st
}

func TestUsageAnalyzeSendsHourlyCountsToTheControlPlaneOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const planFile = "../../examples/api-v2.yaml"
	url, st := controlPlane(t, planFile)
	dir := t.TempDir()
	log := filepath.Join(dir, "v1.log")
	start := time.Date(2027, 1, 4, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	writeAPILog(t, log, []string{"acme-prod", "globex-7f3a", "hooli-test"}, start, 3)
	format := `--format=nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $http_x_api_key`

	// The plan names the sunset (orders-api-v1) and maps routes to its features.
	code, _, errs := run(t, ctx, "usage", "analyze", "--plan", planFile, format, "--server", url, "-o", "json", log)
	if code != 0 || !strings.Contains(errs, "sent ") || !strings.Contains(errs, "for orders-api-v1") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	counts, err := st.Usage().Counts(ctx, "orders-api-v1")
	if err != nil {
		t.Fatal(err)
	}
	total := func() (n uint64, consumers map[string]bool, features map[string]bool) {
		consumers, features = map[string]bool{}, map[string]bool{}
		counts, err := st.Usage().Counts(ctx, "orders-api-v1")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range counts {
			n += c.Count
			consumers[c.Consumer] = true
			features[c.Feature] = true
			if !c.Hour.Equal(c.Hour.Truncate(time.Hour)) {
				t.Errorf("count at %v is not on an hour", c.Hour)
			}
		}
		return n, consumers, features
	}
	n, consumers, features := total()
	// writeAPILog: 9 busy hours of 20 requests and 15 quiet hours of 1, per day.
	if want := uint64(3 * (9*20 + 15)); n != want || len(consumers) != 3 || !features["reports"] {
		t.Errorf("stored %d requests from %v in features %v; want %d from 3 consumers, reports among them", n, consumers, features, want)
	}
	before := len(counts)

	t.Run("sending the same analysis again adds nothing", func(t *testing.T) {
		code, _, errs := run(t, ctx, "usage", "analyze", "--sunset", "orders-api-v1", "--plan", planFile, format, "--server", url, log)
		if code != 0 || !strings.Contains(errs, "already has this analysis") {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if again, _, _ := total(); again != n {
			t.Errorf("stored %d requests after re-sending, want %d", again, n)
		}
		if counts, _ := st.Usage().Counts(ctx, "orders-api-v1"); len(counts) != before {
			t.Errorf("%d rows after re-sending, want %d", len(counts), before)
		}
	})

	t.Run("guardrails see the consumers as active", func(t *testing.T) {
		s, err := st.GetSunset(ctx, "orders-api-v1")
		if err != nil {
			t.Fatal(err)
		}
		// writeAPILog: only acme-prod calls reports; all three call orders.
		for cond, want := range map[string]float64{"consumers.active > 0 over 30d": 3, "consumers.active{feature=reports} > 0 over 30d": 1} {
			c, err := plan.ParseCondition(cond)
			if err != nil {
				t.Fatal(err)
			}
			var v float64
			var ok bool
			err = st.InTx(ctx, func(tx engine.Tx) error {
				v, ok, err = st.ConsumerSignals(nil).Signal(ctx, tx, s, c, start.AddDate(0, 0, 3))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !ok || v != want {
				t.Errorf("%s = %v, %v; want %v", cond, v, ok, want)
			}
		}
	})

	t.Run("an unknown sunset is an error naming it", func(t *testing.T) {
		code, _, errs := run(t, ctx, "usage", "analyze", "--sunset", "nope", "--server", url, log)
		if code != 1 || !strings.Contains(errs, "nope") {
			t.Errorf("exit %d: %s", code, errs)
		}
	})

	t.Run("--server without a sunset name is a usage error", func(t *testing.T) {
		code, _, errs := run(t, ctx, "usage", "analyze", "--server", url, log)
		if code != 2 || !strings.Contains(errs, "--sunset") {
			t.Errorf("exit %d: %s", code, errs)
		}
	})
}
