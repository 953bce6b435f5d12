package notify_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/store/storetest"
)

// logBuffer is a slog destination safe for the worker's concurrent sends.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// count returns how many lines hold msg.
func (l *logBuffer) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), msg)
}

// outcomes collects what Worker.Observe is told.
type outcomes struct {
	mu   sync.Mutex
	list []notify.Outcome
}

func (o *outcomes) add(x notify.Outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.list = append(o.list, x)
}

func (o *outcomes) count(channel, result string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, x := range o.list {
		if x.Channel == channel && x.Result == result {
			n++
		}
	}
	return n
}

func TestAnOutageIsAFewLogLinesAndItsBreakerIsInSight(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.OpenSQLite(t))
	logs := &logBuffer{}
	b.worker.Logger = slog.New(slog.NewTextHandler(logs, nil))
	var seen outcomes
	b.worker.Observe = seen.add
	b.hooks.Fail = func(string, int) bool { return true }
	b.worker.Policy.BreakerThreshold = 2
	b.worker.Policy.BreakerCooldown = time.Hour
	b.worker.Concurrency = 1
	b.runNotice(t)
	b.drain(t)

	if n := logs.count("channel failing"); n != 1 {
		t.Errorf("%d 'channel failing' lines, want 1 for the whole outage:\n%s", n, logs.buf.String())
	}
	if n := logs.count("circuit breaker opened"); n != 1 {
		t.Errorf("%d 'circuit breaker opened' lines, want 1:\n%s", n, logs.buf.String())
	}
	var crm *notify.BreakerState
	for _, s := range b.worker.Breakers() {
		if s.Channel == "webhook:crm" {
			crm = &s
		}
	}
	if crm == nil || !crm.Open || crm.Failures != 2 || !strings.Contains(crm.LastError, "500") || crm.OpenedAt.IsZero() {
		t.Fatalf("webhook:crm breaker = %+v, want open after 2 failures with the 500 as its reason", crm)
	}
	if n := seen.count("webhook:crm", notify.OutcomeRetrying); n != 2 {
		t.Errorf("observed %d retrying webhook sends, want 2", n)
	}
	if n := seen.count("email", notify.OutcomeDelivered); n != 2 {
		t.Errorf("observed %d delivered emails, want 2", n)
	}

	// The endpoint heals; after the cooldown the probe succeeds and the breaker closes.
	b.hooks.Fail = nil
	b.clock.Advance(2 * time.Hour)
	b.drain(t)
	if n := logs.count("channel recovered"); n != 1 {
		t.Errorf("%d 'channel recovered' lines, want 1:\n%s", n, logs.buf.String())
	}
	for _, s := range b.worker.Breakers() {
		if s.Open || s.Failures != 0 || s.LastError != "" {
			t.Errorf("breaker %+v after recovery, want closed and clean", s)
		}
	}
	if total, _, _ := b.hooks.Counts(); total == 0 {
		t.Error("no webhook delivered after the endpoint healed")
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	for _, o := range seen.list {
		if o.Result == notify.OutcomeDelivered && o.Channel == "webhook:crm" && o.Lag < 2*time.Hour {
			t.Errorf("a webhook delivered after the 2 h outage has lag %s, want at least 2h", o.Lag)
		}
	}
}

func TestHealthLogLinesNameNoRecipient(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.OpenSQLite(t))
	logs := &logBuffer{}
	b.worker.Logger = slog.New(slog.NewTextHandler(logs, nil))
	b.smtp.Reject("ops@acme.example.com", 451) // a deferral names the recipient
	b.runNotice(t)
	b.drain(t)
	if logs.count("channel failing") != 1 {
		t.Fatalf("no 'channel failing' line for the deferred email:\n%s", logs.buf.String())
	}
	if strings.Contains(logs.buf.String(), "ops@acme.example.com") {
		t.Errorf("a log line names a recipient:\n%s", logs.buf.String())
	}
	if !strings.Contains(logs.buf.String(), "<address>") || !strings.Contains(logs.buf.String(), "451") {
		t.Errorf("the line lost its reason:\n%s", logs.buf.String())
	}
}
