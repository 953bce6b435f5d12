package main

import (
	"context"
	"strings"
	"testing"
)

func TestNotifyTasks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const plan = "../../examples/api-v2.yaml"
	code, out, errs := run(t, ctx, "--now", "2026-12-01", "notify", "tasks", plan, "--owner", "support@example.com")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "2027-01-03 10:00 CST   support@example.com          en     notice/0 (announce) at 2027-01-05 10:00 CST") ||
		strings.Contains(out, "li.wei@example.com") || strings.Contains(out, "milestone/") {
		t.Errorf("support's reminders:\n%s", out)
	}

	code, out, errs = run(t, ctx, "--now", "2026-12-01", "notify", "tasks", plan, "--show", "milestone/shutdown", "--owner", "li.wei@example.com", "--locale", "zh")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"Reminder: milestone/shutdown, due 2027-03-13 02:00 CST", "任务提醒：订单 API v1下线的里程碑 shutdown将于 2027年3月15日 02:00 CST 进行",
		"2027年3月15日 02:00 CST：里程碑 shutdown（服务返回 410 Gone）"} {
		if !strings.Contains(out, want) {
			t.Errorf("zh reminder lacks %q:\n%s", want, out)
		}
	}

	code, _, errs = run(t, ctx, "notify", "tasks", plan, "--show", "milestone/shutdown", "--owner", "support@example.com", "--now", "2026-12-01")
	if code == 0 || !strings.Contains(errs, `support@example.com gets no reminder of "milestone/shutdown"; theirs are of notice/0`) {
		t.Errorf("exit %d: %s", code, errs)
	}
}
