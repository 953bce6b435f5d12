package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A recipient whose mail server defers (451) is in sight: notify status counts it as retrying
// with its attempt, next attempt and the reason, and /metrics has the outcome and the depth.
func TestNotifyStatusAndMetricsShowADeliveryThatIsRetrying(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMailFolder(t)
	dir, planFile := f.dir, f.plan
	f.sink.Reject("it@zhongshan.example.cn", 451)
	api, stop := serveCapture(t, "--db", "sqlite:"+filepath.Join(dir, "sunset.db"), "--now", afterAnnounce,
		"--public-url", "https://sunset.example.com")
	defer stop()
	if code, out, errs := run(t, ctx, "apply", planFile, "--server", api); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	var status string
	line := regexp.MustCompile(`notice/0\s+announce\s+email\s+0\s+1\s+0\s+1\s+0\s+0\s+0`)
	eventually(t, "notify status shows one email delivered and one retrying", func() bool {
		_, status, _ = run(t, ctx, "notify", "status", "mail-v1", "--server", api)
		return line.MatchString(status)
	}, &status)
	if !strings.Contains(status, "Retrying (latest):") || !strings.Contains(status, "zs <it@zhongshan.example.cn>: attempt 1 failed, next attempt") ||
		!strings.Contains(status, "451") {
		t.Errorf("notify status does not list the retrying delivery with its attempt, next attempt and reason:\n%s", status)
	}
	// The overview says it first, in the reader's language.
	for lang, want := range map[string]string{
		"en": "1 notice deliveries failed and wait to be retried",
		"zh": "1 条通知投递失败，等待重试",
	} {
		resp, err := http.Get(api + "/?lang=" + lang)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(page), want) || !strings.Contains(string(page), "451") {
			t.Errorf("the overview (%s) does not list the retrying delivery under what needs attention", lang)
		}
	}
	resp, err := http.Get(api + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`sunset_notify_deliveries_total{channel="email",outcome="delivered"} 1`,
		`sunset_notify_deliveries_total{channel="email",outcome="retrying"} 1`,
		`sunset_notify_queue_depth{status="retrying"} 1`,
		`sunset_notify_delivery_lag_seconds_count{channel="email"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
