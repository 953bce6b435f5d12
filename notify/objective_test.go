package notify_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/channels"
	"github.com/sunsetops/sunset/notify/notifytest"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
)

// objectivePlan sends two notices by email to every contact, four weeks apart. %s: the SMTP
// server.
const objectivePlan = `
service:
  name: objective-v1
  title: {en: Objective API v1, zh: 目标 API v1}
  timezone: Asia/Shanghai
consumers: {contacts: contacts.csv}
milestones:
  announce: 2027-01-05T10:00
  deprecate: announce
  read_only: 2027-02-01T10:00
  shutdown: 2027-03-15T02:00
notices:
  - {at: announce, to: all, channels: [email], template: announce}
  - {at: read_only, to: all, channels: [email], template: reminder}
channels:
  email: {smtp: "%s", tls: none, from: "Sunset <noreply@example.com>"}
`

// The delivery objective, against a real MTA: a notice due at T reaches every recipient of a
// healthy channel by T + 30 s at the 99th percentile, whatever idle time came before — here an
// idle gap long enough for the server to drop every pooled session. Arrival instants are Exim's
// own (its main log), the due instant the test's clock when the notice fell due.
func TestNoticeDeliveryObjectiveAfterAnIdleGap(t *testing.T) {
	// Serial: it measures delivery lag on the wall clock, which other tests' load would skew.
	const recipients = 300
	if _, err := notifytest.EximBinary(); err != nil || os.Geteuid() != 0 {
		if os.Getenv("SUNSET_TEST_MTA") == "1" {
			t.Fatalf("SUNSET_TEST_MTA=1 but Exim cannot run here (root: %v, %v)", os.Geteuid() == 0, err)
		}
		testenv.Skip(t, "real MTA", "Exim (exim4-daemon-light, run as root) is not available for the delivery objective")
	}
	mta, err := notifytest.StartExim(t.TempDir(), notifytest.EximOptions{IdleTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mta.Close()
		if t.Failed() {
			t.Log(mta.Output())
		}
	})

	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("id,email,name,locale\n")
	for i := range recipients {
		loc := "en"
		if i%3 == 0 {
			loc = "zh-CN"
		}
		fmt.Fprintf(&csv, "u%04d,u%04d@example.com,User %d,%s\n", i, i, i, loc)
	}
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	st := storetest.OpenSQLite(t)
	db := st.(*store.DB)
	clock := sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	eng.Register(plan.KindNotice, &notify.Handler{Outbox: db.Outbox()})
	if _, err := eng.ApplyBundle(t.Context(), "plan.yaml", fmt.Appendf(nil, objectivePlan, mta.Addr), plan.LocalFiles(dir), "test"); err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	w := &notify.Worker{Outbox: db.Outbox(), Channels: channels.Factory(channels.Options{}), Clock: clock,
		PublicURL: "https://sunset.example.com", Poll: 100 * time.Millisecond}
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	// arrivals waits until Exim has accepted n messages in all and returns them.
	arrivals := func(n int) []notifytest.Received {
		t.Helper()
		var rs []notifytest.Received
		testenv.Eventually(t, 2*time.Minute, fmt.Sprintf("Exim to accept %d messages", n), func() error {
			var err error
			if rs, err = mta.Received(); err != nil {
				t.Fatal(err)
			}
			if len(rs) < n {
				return fmt.Errorf("it accepted %d", len(rs))
			}
			return nil
		})
		return rs
	}
	dispatchAt := func(at time.Time) time.Time {
		t.Helper()
		clock.Set(at)
		due := time.Now()
		if _, err := eng.Dispatch(t.Context()); err != nil {
			t.Fatal(err)
		}
		return due
	}

	dispatchAt(time.Date(2027, 1, 5, 2, 0, 0, 0, time.UTC))
	arrivals(recipients)
	// The idle gap: past Exim's 1 s idle timeout, it has dropped every session the pool holds.
	<-time.After(2500 * time.Millisecond)
	due := dispatchAt(time.Date(2027, 2, 1, 2, 0, 0, 0, time.UTC))
	rs := arrivals(2 * recipients)

	perRecipient := map[string]int{}
	var lags []time.Duration
	for _, r := range rs {
		perRecipient[r.To]++
		if r.At.After(due.Truncate(time.Millisecond)) || r.At.Equal(due.Truncate(time.Millisecond)) {
			lags = append(lags, r.At.Sub(due.Truncate(time.Millisecond)))
		}
	}
	for to, n := range perRecipient {
		if n != 2 {
			t.Errorf("%s got %d messages, want 2 (each notice once)", to, n)
		}
	}
	if len(perRecipient) != recipients {
		t.Errorf("%d recipients got mail, want %d", len(perRecipient), recipients)
	}
	if len(lags) != recipients {
		t.Fatalf("%d messages arrived after the second notice fell due, want %d", len(lags), recipients)
	}
	slices.Sort(lags)
	p99 := lags[len(lags)*99/100]
	t.Logf("second notice after an idle gap: %d recipients, p50 %s, p99 %s, max %s (Exim's clock)",
		recipients, lags[len(lags)/2], p99, lags[len(lags)-1])
	if p99 > 30*time.Second {
		t.Errorf("p99 delivery lag %s, want at most 30 s", p99)
	}
	for _, s := range w.Breakers() {
		if s.Failures > 0 {
			t.Errorf("breaker %+v: a dropped idle session counted as a failure", s)
		}
	}
}
