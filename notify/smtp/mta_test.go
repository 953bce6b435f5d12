package smtp_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/notify/notifytest"
	"github.com/sunsetops/sunset/notify/smtp"
)

// The tests in this file send through a real mail server: Exim from Debian's exim4-daemon-light
// package, started by each test on a free 127.0.0.1 port with a configuration of its own (no
// delivery: accepted messages stay queued, and Exim's main log is the record of what it accepted
// and when). They skip, saying why, where Exim is missing or the tests do not run as root (Exim
// only honours an alternate configuration for root); SUNSET_TEST_MTA=1 (set by .ci/run) turns
// the skip into a failure.

// mta is one running Exim (notifytest.Exim) for one test.
type mta struct {
	*notifytest.Exim
	t *testing.T
}

// mtaOptions shape the server's behaviour.
type mtaOptions = notifytest.EximOptions

// startMTA starts Exim for the test, or skips the test where Exim cannot run.
func startMTA(t *testing.T, o mtaOptions) *mta {
	t.Helper()
	must := os.Getenv("SUNSET_TEST_MTA") == "1"
	if _, err := notifytest.EximBinary(); err != nil {
		if must {
			t.Fatalf("SUNSET_TEST_MTA=1 but %v", err)
		}
		testenv.Skip(t, "real MTA", err.Error()+" (.ci/run installs exim4-daemon-light)")
	}
	if os.Geteuid() != 0 {
		if must {
			t.Fatal("SUNSET_TEST_MTA=1 but not root: Exim honours a test configuration (-C) for root only")
		}
		testenv.Skip(t, "real MTA", "not root: Exim honours a test configuration (-C) for root only")
	}
	e, err := notifytest.StartExim(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
		if t.Failed() {
			t.Log(e.Output())
		}
	})
	return &mta{Exim: e, t: t}
}

// flag creates or removes one of the files the configuration's ACLs look at.
func (m *mta) flag(t *testing.T, name string, on bool) {
	t.Helper()
	if err := m.Flag(name, on); err != nil {
		t.Fatal(err)
	}
}

// received is one message Exim's main log says it accepted.
type received = notifytest.Received

// received reads Exim's main log.
func (m *mta) received(t *testing.T) []received {
	t.Helper()
	rs, err := m.Received()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// byRecipient counts the accepted messages per recipient.
func byRecipient(rs []received) map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		out[r.To]++
	}
	return out
}

// channel returns a channel to m's plain/STARTTLS port.
func (m *mta) channel(t *testing.T, cfg smtp.Config) *smtp.Channel {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = m.Addr
	}
	if cfg.TLS == "" {
		cfg.TLS = smtp.NoTLS
	}
	cfg.From = "Sunset <noreply@example.com>"
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{RootCAs: m.CA, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	}
	ch, err := smtp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	return ch
}

// sendAt sends to addr and returns when it was handed to Send (the message's due instant).
func sendAt(t *testing.T, ch *smtp.Channel, addr string) time.Time {
	t.Helper()
	due := time.Now()
	send(t, ch, addr)
	return due
}

// assertOnTime checks that each address arrived exactly once, and no later than within after
// its due instant by the MTA's own clock (its log has milliseconds).
func assertOnTime(t *testing.T, m *mta, due map[string]time.Time, within time.Duration) {
	t.Helper()
	rs := m.received(t)
	counts := byRecipient(rs)
	for addr, at := range due {
		if counts[addr] != 1 {
			t.Errorf("%s arrived %d times, want exactly once", addr, counts[addr])
		}
		for _, r := range rs {
			// The log's instants are truncated to the millisecond.
			if r.To == addr && r.At.Sub(at.Truncate(time.Millisecond)) > within {
				t.Errorf("%s arrived %s after it was due, want within %s", addr, r.At.Sub(at), within)
			}
		}
	}
}

func TestRealMTAIdleGaps(t *testing.T) {
	t.Parallel()
	// Each gap is longer than the client's per-command Timeout: the path that used to fail with
	// "not connected to SMTP server" after 30 s (the default Timeout). A 5 s gap past a 2 s
	// Timeout takes that path in every run; the same with the defaults (45 s) and past Exim's own
	// 5-minute idle timeout take minutes and run with SUNSET_TEST_LONG=1.
	type gap struct{ gap, timeout time.Duration }
	gaps := []gap{{0, 0}, {5 * time.Second, 2 * time.Second}}
	if os.Getenv("SUNSET_TEST_LONG") == "1" {
		gaps = append(gaps, gap{45 * time.Second, 0}, gap{6 * time.Minute, 0})
	}
	for _, g := range gaps {
		gap := g.gap
		t.Run(fmt.Sprintf("gap %s timeout %s", gap, g.timeout), func(t *testing.T) {
			t.Parallel()
			m := startMTA(t, mtaOptions{})
			// MaxIdle above the gap: the pooled session is reused after it.
			ch := m.channel(t, smtp.Config{MaxIdle: time.Hour, Timeout: g.timeout})
			due := map[string]time.Time{"first@example.com": sendAt(t, ch, "first@example.com")}
			<-time.After(gap) // the idle gap is the scenario itself
			due["second@example.com"] = sendAt(t, ch, "second@example.com")
			assertOnTime(t, m, due, 2*time.Second)
		})
	}
}

func TestRealMTADropsIdleSessions(t *testing.T) {
	t.Parallel()
	m := startMTA(t, mtaOptions{IdleTimeout: time.Second})
	ch := m.channel(t, smtp.Config{MaxIdle: time.Hour})
	due := map[string]time.Time{"first@example.com": sendAt(t, ch, "first@example.com")}
	<-time.After(2500 * time.Millisecond) // past Exim's smtp_receive_timeout: it says 421 and closes
	due["second@example.com"] = sendAt(t, ch, "second@example.com")
	assertOnTime(t, m, due, 2*time.Second)
}

func TestRealMTAClosesAfterFiveMessages(t *testing.T) {
	t.Parallel()
	m := startMTA(t, mtaOptions{MaxPerSession: 5})
	ch := m.channel(t, smtp.Config{Conns: 1})
	due := map[string]time.Time{}
	for i := range 12 {
		addr := fmt.Sprintf("user%d@example.com", i)
		due[addr] = sendAt(t, ch, addr)
	}
	if got := len(m.received(t)); got != 12 {
		t.Fatalf("Exim accepted %d messages, want 12", got)
	}
	assertOnTime(t, m, due, 2*time.Second)
}

func TestRealMTABusyThenRecovers(t *testing.T) {
	t.Parallel()
	m := startMTA(t, mtaOptions{MaxSessions: 1})
	// Another client holds Exim's only session: Exim greets the next one with 421. (It may
	// itself be refused while the session of startMTA's readiness probe is still ending.)
	var other net.Conn
	testenv.Eventually(t, 10*time.Second, "Exim to greet a session with 220", func() error {
		c, err := net.Dial("tcp", m.Addr)
		if err != nil {
			t.Fatal(err)
		}
		greeting, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(greeting, "220") {
			c.Close()
			return fmt.Errorf("greeting %q", greeting)
		}
		other = c
		return nil
	})
	ch := m.channel(t, smtp.Config{})
	retry, err := ch.Send(context.Background(), message("a@example.com"))
	if err == nil || !retry || !strings.Contains(err.Error(), "421") {
		t.Fatalf("send while busy = (retry %v, %v), want a retryable error naming the 421", retry, err)
	}
	other.Close()
	// The outbox retries a retryable failure; here the test does, until Exim has reaped the
	// other session (it counts sessions by their processes).
	due := time.Now()
	testenv.Eventually(t, 10*time.Second, "Exim to accept once the other session ended", func() error {
		_, err := ch.Send(context.Background(), message("a@example.com"))
		return err
	})
	assertOnTime(t, m, map[string]time.Time{"a@example.com": due}, 10*time.Second)
}

func TestRealMTATemporaryThenSuccess(t *testing.T) {
	t.Parallel()
	m := startMTA(t, mtaOptions{})
	m.flag(t, "defer-later", true)
	ch := m.channel(t, smtp.Config{})
	retry, err := ch.Send(context.Background(), message("later@example.com"))
	if err == nil || !retry || !strings.Contains(err.Error(), "451") {
		t.Fatalf("deferred send = (retry %v, %v), want a retryable error naming the 451", retry, err)
	}
	retry, err = ch.Send(context.Background(), message("gone@example.com"))
	if err == nil || retry || !strings.Contains(err.Error(), "550") {
		t.Fatalf("refused send = (retry %v, %v), want a permanent error naming the 550", retry, err)
	}
	m.flag(t, "defer-later", false)
	due := map[string]time.Time{"later@example.com": sendAt(t, ch, "later@example.com")}
	assertOnTime(t, m, due, 2*time.Second)
}

func TestRealMTATLSAndAuthentication(t *testing.T) {
	t.Parallel()
	m := startMTA(t, mtaOptions{})
	for _, tc := range []struct {
		name string
		cfg  smtp.Config
	}{
		{"STARTTLS with AUTH", smtp.Config{TLS: smtp.StartTLS, Username: "sunset", Password: "s3cret"}},
		{"implicit TLS with AUTH", smtp.Config{Addr: m.TLSAddr, TLS: smtp.Implicit, Username: "sunset", Password: "s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := m.channel(t, tc.cfg)
			addr := strings.ReplaceAll(strings.ToLower(tc.name), " ", "-") + "@example.com"
			due := map[string]time.Time{addr: sendAt(t, ch, addr)}
			assertOnTime(t, m, due, 2*time.Second)
		})
	}
	t.Run("a wrong password is refused", func(t *testing.T) {
		ch := m.channel(t, smtp.Config{TLS: smtp.StartTLS, Username: "sunset", Password: "wrong"})
		if _, err := ch.Send(context.Background(), message("x@example.com")); err == nil {
			t.Fatal("a wrong password was accepted")
		}
	})
	t.Run("an untrusted certificate is refused", func(t *testing.T) {
		ch := m.channel(t, smtp.Config{TLS: smtp.StartTLS, TLSConfig: &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
		if _, err := ch.Send(context.Background(), message("y@example.com")); err == nil {
			t.Fatal("a certificate nobody trusts was accepted")
		}
	})
}
