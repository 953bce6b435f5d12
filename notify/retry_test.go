package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/store/storetest"
)

func TestTransientFailuresAreRetriedWithBackoffOnlyForTheFailedChannel(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.OpenSQLite(t))
	// The webhook endpoint answers 500 to the first two attempts of every message.
	b.hooks.Fail = func(_ string, n int) bool { return n <= 2 }
	b.worker.Policy.BreakerThreshold = 100
	b.runNotice(t)
	b.drain(t)
	if total, _, _ := b.hooks.Counts(); total != 0 {
		t.Fatalf("%d webhooks accepted on the first round, want 0", total)
	}
	if n := len(b.smtp.Mails()); n != 2 {
		t.Fatalf("%d emails, want 2: the webhook's failures must not hold email up", n)
	}
	// Not due yet: the first retry waits between 30s and 60s (BaseDelay 1m, equal jitter).
	b.clock.Advance(29 * time.Second)
	b.drain(t)
	if b.hooks.Requests() != 3 {
		t.Fatalf("%d webhook requests before the backoff ended, want 3", b.hooks.Requests())
	}
	for range 2 {
		b.clock.Advance(5 * time.Minute)
		b.drain(t)
	}
	if total, distinct, _ := b.hooks.Counts(); total != 3 || distinct != 3 {
		t.Errorf("webhooks accepted %d (%d distinct), want 3 after retries", total, distinct)
	}
	if n := len(b.smtp.Mails()); n != 2 {
		t.Errorf("%d emails after the webhook retries, want still 2", n)
	}
}

func TestPermanentFailureIsRecordedWithItsReasonAndNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.OpenSQLite(t))
	b.smtp.Reject("ops@acme.example.com", 550)
	b.runNotice(t)
	b.drain(t)
	b.clock.Advance(24 * time.Hour)
	b.drain(t)
	l, err := b.st.Outbox().Ledger(t.Context(), "orders-api-v1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Failures) != 1 || l.Failures[0].Recipient.ID != "acme" || l.Failures[0].Attempts != 1 {
		t.Fatalf("failures = %+v, want acme's email once", l.Failures)
	}
	if reason := l.Failures[0].LastError; !strings.Contains(reason, "550") {
		t.Errorf("reason %q lacks the SMTP reply code", reason)
	}
	// Acme still counts as aware: its webhook arrived.
	if l.Aware != 3 {
		t.Errorf("aware = %d, want 3", l.Aware)
	}
}

func TestDeadEndpointOpensItsBreakerWithoutHoldingUpOthers(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.OpenSQLite(t))
	b.hooks.Fail = func(string, int) bool { return true }
	b.worker.Policy.BreakerThreshold = 2
	b.worker.Policy.BreakerCooldown = time.Hour
	b.worker.Concurrency = 1 // one send at a time, so the breaker's count is exact
	b.runNotice(t)
	b.drain(t)
	if n := b.hooks.Requests(); n != 2 {
		t.Errorf("dead endpoint got %d requests, want 2 before its breaker opened", n)
	}
	if n := len(b.smtp.Mails()); n != 2 {
		t.Errorf("%d emails, want 2", n)
	}
	l, err := b.st.Outbox().Ledger(t.Context(), "orders-api-v1", 10)
	if err != nil {
		t.Fatal(err)
	}
	// All wait for later: the two tried ones as retrying, the others queued untried.
	for _, c := range l.Counts {
		if c.Channel != "webhook:crm" {
			continue
		}
		switch {
		case c.Status == notify.StatusRetrying && c.Count != 2:
			t.Errorf("%d webhook deliveries retrying, want the 2 that were tried", c.Count)
		case c.Status != notify.StatusQueued && c.Status != notify.StatusRetrying:
			t.Errorf("webhook deliveries %s: %d, want all waiting for later", c.Status, c.Count)
		}
	}
	if len(l.Retrying) != 2 || l.Retrying[0].Attempts != 1 || !strings.Contains(l.Retrying[0].LastError, "500") || l.Retrying[0].NextAt.IsZero() {
		t.Errorf("ledger's retrying = %+v, want the 2 tried webhooks with their attempt, error and next attempt", l.Retrying)
	}
}
