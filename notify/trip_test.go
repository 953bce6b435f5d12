package notify_test

import (
	"context"
	"fmt"
	"mime"
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

// tripPlan has two owners, one reading Chinese, and a guardrail on the feedback's mood.
const tripPlan = `
service:
  name: orders-api-v1
  title: {en: Orders API v1, zh: 订单 API v1}
  timezone: Asia/Shanghai
  owners:
    - {name: Li Wei, email: li.wei@example.com, role: accountable, locale: zh}
    - {team: support, email: support@example.com, role: responsible, for: [feedback]}
milestones:
  announce: 2027-01-05T10:00
  deprecate: announce
  shutdown: 2027-03-15T02:00
guardrails:
  - {when: feedback.negative_ratio > 0.4 over 24h, then: pause}
channels:
  email: {smtp: "%s", tls: none, from: "Sunset <noreply@example.com>"}
`

// tripBundle is a sunset with tripPlan's owners: its engine with the notify handler as its
// trip and stall hooks, and the SMTP server its plan sends to.
type tripBundle struct {
	sink  *notifytest.SMTPSink
	db    *store.DB
	clock *sunset.FixedClock
	eng   *engine.Engine
}

// setupOwners starts the engine at the instant at; attempts is its Config.ActionAttempts (0:
// the default).
func setupOwners(t *testing.T, at time.Time, attempts int) *tripBundle {
	t.Helper()
	sink, err := notifytest.NewSMTPSink(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	st := storetest.OpenSQLite(t)
	db := st.(*store.DB)
	clock := sunset.NewFixedClock(at)
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond, ActionAttempts: attempts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	h := &notify.Handler{Outbox: db.Outbox()}
	eng.Register(plan.KindNotice, h)
	eng.OnTrip(h)
	eng.OnStall(h)
	return &tripBundle{sink: sink, db: db, clock: clock, eng: eng}
}

// setupTrip is setupOwners whose feedback reads 25 negative messages of 40.
func setupTrip(t *testing.T) *tripBundle {
	t.Helper()
	b := setupOwners(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 0)
	b.eng.RegisterSignals("feedback", engine.SignalsFunc(func(_ context.Context, _ engine.Tx, _ *engine.Sunset, c plan.Condition, _ time.Time) (float64, bool, error) {
		if c.Signal == "feedback.count" {
			return 40, true, nil // the sample: 25 of 40 messages were negative
		}
		return 0.625, true, nil
	}))
	return b
}

// applyAndPause applies planText (with the SMTP address for %s), starts the engine, moves the
// clock to at and dispatches until the sunset is paused, moving the clock by step between rounds.
func (b *tripBundle) applyAndPause(t *testing.T, planText string, at time.Time, step time.Duration, why string) {
	t.Helper()
	ctx := t.Context()
	if _, err := b.eng.Apply(ctx, "plan.yaml", []byte(strings.Replace(planText, "%s", b.sink.Addr, 1)), "test"); err != nil {
		t.Fatal(err)
	}
	if err := b.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	b.clock.Set(at)
	testenv.Eventually(t, 20*time.Second, why+" to pause the sunset", func() error {
		if _, err := b.eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := b.eng.Get(ctx, "orders-api-v1")
		if err != nil {
			t.Fatal(err)
		}
		if s.State == engine.StatePaused {
			return nil
		}
		b.clock.Advance(step)
		return fmt.Errorf("the sunset is %s", s.State)
	})
}

// send delivers what the outbox holds.
func (b *tripBundle) send(t *testing.T) {
	t.Helper()
	w := &notify.Worker{Outbox: b.db.Outbox(), Channels: channels.Factory(channels.Options{}), Clock: b.clock,
		PublicURL: "https://sunset.example.com"}
	for range 5 {
		if n, err := w.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			return
		}
	}
}

// checkOwnerMails checks that each owner got exactly one email holding every text of want (by
// address), one that cannot be unsubscribed from.
func checkOwnerMails(t *testing.T, sink *notifytest.SMTPSink, want map[string][]string) {
	t.Helper()
	mails := sink.Mails()
	if len(mails) != len(want) {
		t.Fatalf("%d emails, want one per owner", len(mails))
	}
	for _, m := range mails {
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Msg.Header.Get("Subject"))
		text, _ := parts(t, m)
		texts, ok := want[m.To[0]]
		if !ok {
			t.Fatalf("mail to %v", m.To)
		}
		for _, w := range texts {
			if !strings.Contains(subject+"\n"+text, w) {
				t.Errorf("mail to %s lacks %q:\n%s\n%s", m.To[0], w, subject, text)
			}
		}
		if m.Msg.Header.Get("List-Unsubscribe") != "" {
			t.Errorf("the owners' alert to %s can be unsubscribed from", m.To[0])
		}
	}
}

func TestTrippedGuardrailEmailsEveryOwnerTheValuesInTheirLanguage(t *testing.T) {
	t.Parallel()
	b := setupTrip(t)
	b.applyAndPause(t, tripPlan, time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC), 0, "the guardrail")
	b.send(t)
	checkOwnerMails(t, b.sink, map[string][]string{
		"li.wei@example.com": {"护栏触发：订单 API v1的下线已暂停", "Li Wei，您好", "feedback.negative_ratio > 0.4 over 24h：测得 0.625", "2027年3月15日 02:00 CST"},
		"support@example.com": {"Guardrail tripped: the sunset of Orders API v1 is paused", "Hello support,", "feedback.negative_ratio > 0.4 over 24h: measured 0.625",
			"sunset resume orders-api-v1"},
	})
}

func TestANotifyGuardrailWarnsTheOwnersOnceADayAndTheSunsetGoesOn(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupTrip(t)
	sink, clock, eng := b.sink, b.clock, b.eng
	warnPlan := strings.Replace(tripPlan, "then: pause", "then: notify", 1)
	if _, err := eng.Apply(ctx, "plan.yaml", []byte(strings.Replace(warnPlan, "%s", sink.Addr, 1)), "test"); err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC))
	testenv.Eventually(t, 10*time.Second, "the sunset to go on", func() error {
		if _, err := eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := eng.Get(ctx, "orders-api-v1")
		if err != nil {
			t.Fatal(err)
		}
		if s.State == engine.StatePaused {
			t.Fatal("a guardrail whose reaction is notify paused the sunset")
		}
		if s.State != engine.StateDeprecating {
			return fmt.Errorf("the sunset is %s", s.State)
		}
		return nil
	})
	// The watcher checks every minute; the owners hear once that day.
	for range 3 {
		clock.Advance(time.Minute)
		if _, err := eng.WatchGuardrails(ctx); err != nil {
			t.Fatal(err)
		}
	}
	b.send(t)
	warnings := func() (n int) {
		for _, m := range sink.Mails() {
			subject, _ := new(mime.WordDecoder).DecodeHeader(m.Msg.Header.Get("Subject"))
			if strings.Contains(subject, "Guardrail warning") || strings.Contains(subject, "护栏警告") {
				n++
			}
		}
		return n
	}
	if n := warnings(); n != 2 {
		t.Fatalf("%d warnings, want one per owner", n)
	}
	countEvents := func() (n int) {
		evs, err := eng.Events(ctx, "orders-api-v1")
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Type == "guardrail.warned" {
				n++
			}
		}
		return n
	}
	if n := countEvents(); n != 1 {
		t.Errorf("%d guardrail.warned events, want 1 (one warning sent)", n)
	}
	// The next day, still tripped: one more warning each.
	clock.Advance(24 * time.Hour)
	if _, err := eng.WatchGuardrails(ctx); err != nil {
		t.Fatal(err)
	}
	b.send(t)
	if n := warnings(); n != 4 {
		t.Errorf("%d warnings after a day, want 4", n)
	}
	if n := countEvents(); n != 2 {
		t.Errorf("%d guardrail.warned events after a day, want 2", n)
	}
	for _, m := range sink.Mails() {
		text, _ := parts(t, m)
		if m.To[0] == "li.wei@example.com" && !strings.Contains(text, "下线按计划继续") {
			t.Errorf("the warning to Li Wei is not in Chinese:\n%s", text)
		}
	}
}
