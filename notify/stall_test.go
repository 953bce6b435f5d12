package notify_test

import (
	"context"
	"errors"
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

// stallPlan has two owners, one reading Chinese; its announce milestone is made to fail.
const stallPlan = `
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
channels:
  email: {smtp: "%s", tls: none, from: "Sunset <noreply@example.com>"}
`

// TestStalledActionTellsEveryOwnerOnceInTheirLanguage: when the announce milestone's step keeps
// failing, the engine pauses the sunset and each owner gets one email naming the action, its
// error and what to do, in their language, that cannot be unsubscribed from.
func TestStalledActionTellsEveryOwnerOnceInTheirLanguage(t *testing.T) {
	ctx := t.Context()
	sink, err := notifytest.NewSMTPSink(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	st := storetest.OpenSQLite(t)
	db := st.(*store.DB)
	clock := sunset.NewFixedClock(time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC))
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond, ActionAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	h := &notify.Handler{Outbox: db.Outbox()}
	eng.Register(plan.KindNotice, h)
	eng.OnStall(h)
	eng.Register(plan.KindMilestone, engine.HandlerFunc(func(ctx context.Context, run *engine.Run) error {
		return errors.New("status page host unreachable")
	}))
	if _, err := eng.Apply(ctx, "plan.yaml", []byte(strings.Replace(stallPlan, "%s", sink.Addr, 1)), "test"); err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
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
			t.Fatalf("the failing action did not pause the sunset: %s", s.State)
		}
		clock.Advance(time.Minute) // past the retry
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
			want = []string{"动作失败：订单 API v1的下线已暂停", "Li Wei，您好", "动作 milestone/announce", "连续失败 2 次",
				"最近一次错误：status page host unreachable", "sunset skip orders-api-v1 --action milestone/announce"}
		case "support@example.com":
			want = []string{"Action failing: the sunset of Orders API v1 is paused", "Hello support,", "its action milestone/announce",
				"failed 2 times in a row", "Last error: status page host unreachable", "sunset resume orders-api-v1"}
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
