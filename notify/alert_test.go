package notify_test

import (
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/store/storetest"
)

// ownedPlan is planYAML with an accountable owner reading Chinese and a responsible team.
var ownedPlan = strings.Replace(planYAML, "  timezone: Asia/Shanghai\n", `  timezone: Asia/Shanghai
  owners:
    - {name: Li Wei, email: li.wei@example.com, role: accountable, locale: zh}
    - {team: support, email: support@example.com, role: responsible, for: [notices]}
`, 1)

// alerts returns the subjects of the owners' alerts the SMTP sink got, by recipient.
func alerts(t *testing.T, b *bundle) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range b.smtp.Mails() {
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Msg.Header.Get("Subject"))
		if strings.Contains(subject, "渠道中断") || strings.Contains(subject, "通知延迟") ||
			strings.Contains(subject, "Channel down") || strings.Contains(subject, "Notice late") {
			out[m.To[0]] = append(out[m.To[0]], subject)
		}
	}
	return out
}

func watch(t *testing.T, b *bundle) int {
	t.Helper()
	n, err := b.worker.Watch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTheAccountableOwnerIsAlertedOnceWhenAChannelStaysDown(t *testing.T) {
	t.Parallel()
	b := setupPlan(t, storetest.OpenSQLite(t), ownedPlan)
	b.hooks.Fail = func(string, int) bool { return true }
	b.worker.Policy.BreakerThreshold = 2
	b.worker.Policy.BreakerCooldown = time.Hour
	b.worker.Concurrency = 1
	b.runNotice(t)
	b.drain(t)
	if n := watch(t, b); n != 0 {
		t.Fatalf("%d alerts the moment the breaker opened, want none before 5 min", n)
	}
	b.clock.Advance(6 * time.Minute)
	if n := watch(t, b); n != 1 {
		t.Fatalf("%d alerts after 6 min of a channel down, want 1 (the accountable owner)", n)
	}
	for range 3 {
		b.clock.Advance(5 * time.Minute) // late too by now: still the same incident
		if n := watch(t, b); n != 0 {
			t.Fatalf("%d more alerts for the same outage, want none", n)
		}
	}
	b.drain(t)
	got := alerts(t, b)
	if len(got["li.wei@example.com"]) != 1 || !strings.Contains(got["li.wei@example.com"][0], "渠道中断：webhook:crm") {
		t.Errorf("Li Wei's alerts = %q, want one, in Chinese, naming webhook:crm", got["li.wei@example.com"])
	}
	if len(got["support@example.com"]) != 0 {
		t.Errorf("the responsible team was alerted %q; the accountable owner answers for it", got["support@example.com"])
	}
	for _, m := range b.smtp.Mails() {
		if m.To[0] == "li.wei@example.com" {
			text, _ := parts(t, m)
			for _, want := range []string{"熔断器已打开", "sunset notify status orders-api-v1", "500"} {
				if !strings.Contains(text, want) {
					t.Errorf("the alert lacks %q:\n%s", want, text)
				}
			}
		}
	}
}

func TestTheAccountableOwnerIsAlertedOnceWhenANoticeIsLate(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) { testLateNoticeAlert(t, st) })
}

func testLateNoticeAlert(t *testing.T, st engine.Store) {
	b := setupPlan(t, st, ownedPlan)
	b.hooks.Fail = func(string, int) bool { return true }
	b.worker.Policy.BreakerThreshold = 100 // retries, never a breaker: lateness alone
	b.runNotice(t)
	b.drain(t)
	// The report counts them as retrying, not as lost.
	var in report.Input
	if err := b.st.ReportData(t.Context(), "orders-api-v1", &in); err != nil {
		t.Fatal(err)
	}
	var retrying, delivered int
	for _, x := range in.Notices {
		retrying += x.Retrying
		delivered += x.Delivered
	}
	if retrying != 3 || delivered != 2 {
		t.Errorf("the report's figures count %d retrying and %d delivered, want the 3 webhooks (one per contact) retrying and the 2 emails delivered", retrying, delivered)
	}
	b.clock.Advance(9 * time.Minute)
	if n := watch(t, b); n != 0 {
		t.Fatalf("%d alerts 9 min after the notice, want none before 10 min", n)
	}
	b.clock.Advance(2 * time.Minute)
	if n := watch(t, b); n != 1 {
		t.Fatalf("%d alerts 11 min after the notice, want 1", n)
	}
	b.clock.Advance(time.Hour)
	if n := watch(t, b); n != 0 {
		t.Fatalf("%d more alerts for the same late notice, want none", n)
	}
	b.drain(t)
	got := alerts(t, b)
	if len(got["li.wei@example.com"]) != 1 || !strings.Contains(got["li.wei@example.com"][0], "通知延迟：notice/0（webhook:crm）") {
		t.Errorf("Li Wei's alerts = %q, want one naming notice/0 over webhook:crm", got["li.wei@example.com"])
	}
	// Email worked all along: nothing about it.
	l, err := b.st.Outbox().Ledger(t.Context(), "orders-api-v1", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range l.Lines {
		if strings.HasPrefix(line.Notice, "alert/") && line.Channel != "email" {
			t.Errorf("an alert went over %s, the channel in trouble or another than email", line.Channel)
		}
	}
}
