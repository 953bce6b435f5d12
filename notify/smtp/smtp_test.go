package smtp_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify/channel"
	"github.com/sunsetops/sunset/notify/notifytest"
	"github.com/sunsetops/sunset/notify/smtp"
)

// sink starts an SMTP sink with faults and a channel sending to it without TLS.
func sink(t *testing.T, f notifytest.Faults, cfg smtp.Config) (*notifytest.SMTPSink, *smtp.Channel) {
	t.Helper()
	s, err := notifytest.NewFaultySMTPSink(false, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cfg.Addr, cfg.TLS, cfg.From = s.Addr, smtp.NoTLS, "Sunset <noreply@example.com>"
	ch, err := smtp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	return s, ch
}

var seq atomic.Int64

// message returns a notice to addr with a unique delivery key.
func message(addr string) channel.Message {
	key := fmt.Sprintf("test/%d", seq.Add(1))
	return channel.Message{Key: key, Sunset: "orders-api-v1", Notice: "announce",
		To:       channel.Recipient{ID: "c1", Email: addr},
		Rendered: channel.Rendered{Locale: "en", Subject: "Orders API v1 is closing", Text: "It closes on 15 March."}}
}

// send sends one message and fails the test on any error.
func send(t *testing.T, ch *smtp.Channel, addr string) {
	t.Helper()
	if retry, err := ch.Send(context.Background(), message(addr)); err != nil {
		t.Fatalf("send to %s: %v (retryable %v)", addr, err, retry)
	}
}

// waitClosed waits until the sink saw a session end.
func waitClosed(t *testing.T, s *notifytest.SMTPSink) {
	t.Helper()
	select {
	case <-s.SessionClosed():
	case <-time.After(10 * time.Second):
		t.Fatal("no session was closed within 10 s")
	}
}

func TestASessionTheServerDroppedForIdlenessIsReplacedWithoutAFailure(t *testing.T) {
	t.Parallel()
	s, ch := sink(t, notifytest.Faults{IdleTimeout: 150 * time.Millisecond}, smtp.Config{MaxIdle: time.Hour})
	send(t, ch, "a@example.com")
	waitClosed(t, s) // the server said "421 Idle timeout" to the pooled session and closed it
	send(t, ch, "b@example.com")
	if total, distinct := s.Counts(); total != 2 || distinct != 2 {
		t.Fatalf("the sink got %d messages (%d distinct), want 2", total, distinct)
	}
	if n := s.Sessions(); n != 2 {
		t.Errorf("sessions = %d, want 2 (the dropped one replaced)", n)
	}
}

func TestAReusedSessionGetsAFreshDeadline(t *testing.T) {
	t.Parallel()
	// Before: the deadline set when a session was last used stayed on the pooled connection, so
	// a session idle for longer than Timeout failed its connection check ("not connected to SMTP
	// server") and the message counted as a failure. The wait is the scenario itself.
	s, ch := sink(t, notifytest.Faults{}, smtp.Config{Timeout: 300 * time.Millisecond, MaxIdle: time.Hour})
	send(t, ch, "a@example.com")
	<-time.After(450 * time.Millisecond)
	send(t, ch, "b@example.com")
	if total, _ := s.Counts(); total != 2 {
		t.Fatalf("the sink got %d messages, want 2", total)
	}
}

func TestAServerLimitingMessagesPerSessionLosesNone(t *testing.T) {
	t.Parallel()
	s, ch := sink(t, notifytest.Faults{MaxPerSession: 5}, smtp.Config{Conns: 1})
	for i := range 12 {
		send(t, ch, fmt.Sprintf("user%d@example.com", i))
	}
	if total, distinct := s.Counts(); total != 12 || distinct != 12 {
		t.Fatalf("the sink got %d messages (%d distinct), want 12 exactly once", total, distinct)
	}
	if n := s.Sessions(); n != 3 {
		t.Errorf("sessions = %d, want 3 (5 + 5 + 2 messages)", n)
	}
}

func TestSessionsIdleLongerThanMaxIdleAreNotReused(t *testing.T) {
	t.Parallel()
	clock := sunset.NewFixedClock(time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC))
	s, ch := sink(t, notifytest.Faults{}, smtp.Config{MaxIdle: 10 * time.Second, Runtime: sunset.Runtime{Clock: clock}})
	send(t, ch, "a@example.com")
	clock.Advance(5 * time.Second)
	send(t, ch, "b@example.com")
	if n := s.Sessions(); n != 1 {
		t.Fatalf("after 5 s idle: sessions = %d, want 1 (reused)", n)
	}
	clock.Advance(11 * time.Second)
	send(t, ch, "c@example.com")
	if n := s.Sessions(); n != 2 {
		t.Fatalf("after 11 s idle: sessions = %d, want 2 (not reused)", n)
	}
	waitClosed(t, s) // the old session was closed, not leaked
}

func TestABusyGreetingIsATemporaryFailure(t *testing.T) {
	t.Parallel()
	s, ch := sink(t, notifytest.Faults{BusyGreetings: 1}, smtp.Config{})
	retry, err := ch.Send(context.Background(), message("a@example.com"))
	if err == nil || !retry || !strings.Contains(err.Error(), "421") {
		t.Fatalf("first send = (retry %v, %v), want a retryable error naming the 421", retry, err)
	}
	send(t, ch, "a@example.com")
	if total, _ := s.Counts(); total != 1 {
		t.Fatalf("the sink got %d messages, want 1", total)
	}
}

func TestRefusalsAreTemporaryOrPermanentByTheirCode(t *testing.T) {
	t.Parallel()
	s, ch := sink(t, notifytest.Faults{}, smtp.Config{})
	s.Reject("full@example.com", 452)
	s.Reject("gone@example.com", 550)
	for _, tc := range []struct {
		to    string
		retry bool
		code  string
	}{
		{"full@example.com", true, "452"},
		{"gone@example.com", false, "550"},
	} {
		retry, err := ch.Send(context.Background(), message(tc.to))
		if err == nil || retry != tc.retry || !strings.Contains(err.Error(), tc.code) {
			t.Errorf("send to %s = (retry %v, %v), want retry %v and the code %s", tc.to, retry, err, tc.retry, tc.code)
		}
	}
	// A refused recipient does not spoil the session for the next one.
	send(t, ch, "ok@example.com")
	if total, _ := s.Counts(); total != 1 {
		t.Fatalf("the sink got %d messages, want 1", total)
	}
}

func TestNoMoreThanConnsSessionsAreOpenAtOnce(t *testing.T) {
	t.Parallel()
	s, ch := sink(t, notifytest.Faults{}, smtp.Config{Conns: 3})
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			_, err := ch.Send(context.Background(), message(fmt.Sprintf("user%d@example.com", i)))
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if total, _ := s.Counts(); total != 20 {
		t.Fatalf("the sink got %d messages, want 20", total)
	}
	if n := s.Sessions(); n != 3 {
		t.Errorf("%d sessions were opened for 20 concurrent sends, want Conns = 3", n)
	}
}
