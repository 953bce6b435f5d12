package notify_test

import (
	"context"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
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

// tripBundle is one sunset whose feedback reads 25 negative messages of 40, its engine with the
// notify handler as its trip hook, and the SMTP server its plan sends to.
type tripBundle struct {
	sink  *notifytest.SMTPSink
	db    *store.DB
	clock *sunset.FixedClock
	eng   *engine.Engine
}

func setupTrip(t *testing.T) *tripBundle {
	t.Helper()
	sink, err := notifytest.NewSMTPSink(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	st := storetest.OpenSQLite(t)
	db := st.(*store.DB)
	clock := sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	h := &notify.Handler{Outbox: db.Outbox()}
	eng.Register(plan.KindNotice, h)
	eng.OnTrip(h)
	eng.RegisterSignals("feedback", engine.SignalsFunc(func(_ context.Context, _ engine.Tx, _ *engine.Sunset, c plan.Condition, _ time.Time) (float64, bool, error) {
		if c.Signal == "feedback.count" {
			return 40, true, nil // the sample: 25 of 40 messages were negative
		}
		return 0.625, true, nil
	}))
	return &tripBundle{sink: sink, db: db, clock: clock, eng: eng}
}

func TestTrippedGuardrailEmailsEveryOwnerTheValuesInTheirLanguage(t *testing.T) {
	ctx := t.Context()
	b := setupTrip(t)
	sink, db, clock, eng := b.sink, b.db, b.clock, b.eng
	if _, err := eng.Apply(ctx, "plan.yaml", []byte(strings.Replace(tripPlan, "%s", sink.Addr, 1)), "test"); err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := eng.Get(ctx, "orders-api-v1")
		if err != nil {
			t.Fatal(err)
		}
		if s.State == engine.StatePaused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guardrail did not pause the sunset: %s", s.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	w := &notify.Worker{Outbox: db.Outbox(), Channels: channels.Factory(channels.Options{}), Clock: clock,
		PublicURL: "https://sunset.example.com"}
	for range 5 {
		if n, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			break
		}
	}
	mails := sink.Mails()
	if len(mails) != 2 {
		t.Fatalf("%d emails, want one per owner", len(mails))
	}
	for _, m := range mails {
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Msg.Header.Get("Subject"))
		text, _ := parts(t, m)
		var want []string
		switch m.To[0] {
		case "li.wei@example.com":
			want = []string{"护栏触发：订单 API v1的下线已暂停", "Li Wei，您好", "feedback.negative_ratio > 0.4 over 24h：测得 0.625", "2027年3月15日 02:00 CST"}
		case "support@example.com":
			want = []string{"Guardrail tripped: the sunset of Orders API v1 is paused", "Hello support,", "feedback.negative_ratio > 0.4 over 24h: measured 0.625",
				"sunset resume orders-api-v1"}
		default:
			t.Fatalf("mail to %v", m.To)
		}
		for _, w := range want {
			if !strings.Contains(subject+"\n"+text, w) {
				t.Errorf("mail to %s lacks %q:\n%s\n%s", m.To[0], w, subject, text)
			}
		}
		if m.Msg.Header.Get("List-Unsubscribe") != "" {
			t.Errorf("the owners' alert to %s can be unsubscribed from", m.To[0])
		}
	}
}

func TestANotifyGuardrailWarnsTheOwnersOnceADayAndTheSunsetGoesOn(t *testing.T) {
	ctx := t.Context()
	b := setupTrip(t)
	sink, db, clock, eng := b.sink, b.db, b.clock, b.eng
	warnPlan := strings.Replace(tripPlan, "then: pause", "then: notify", 1)
	if _, err := eng.Apply(ctx, "plan.yaml", []byte(strings.Replace(warnPlan, "%s", sink.Addr, 1)), "test"); err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC))
	deadline := time.Now().Add(10 * time.Second)
	for {
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
		if s.State == engine.StateDeprecating {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sunset did not go on: %s", s.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The watcher checks every minute; the owners hear once that day.
	for range 3 {
		clock.Advance(time.Minute)
		if _, err := eng.WatchGuardrails(ctx); err != nil {
			t.Fatal(err)
		}
	}
	w := &notify.Worker{Outbox: db.Outbox(), Channels: channels.Factory(channels.Options{}), Clock: clock,
		PublicURL: "https://sunset.example.com"}
	drainWorker := func() {
		for range 5 {
			if n, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			} else if n == 0 {
				return
			}
		}
	}
	drainWorker()
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
	drainWorker()
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
