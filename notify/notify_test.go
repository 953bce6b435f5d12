package notify_test

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"path/filepath"
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

const webhookKey = "test-signing-key"

// unsubscribeKey signs the unsubscribe links of the test worker.
const unsubscribeKey = "test-unsubscribe-key-0123456789ab"

// planYAML is a small plan with one announce notice over email, a webhook and the feed.
const planYAML = `
service:
  name: orders-api-v1
  title: {en: Orders API v1, zh: 订单 API v1}
  timezone: Asia/Shanghai
alternatives:
  - {name: Orders API v2, url: https://example.com/v2, guide: https://example.com/migrate}
consumers:
  contacts: %s
milestones:
  announce: 2027-01-05T10:00
  deprecate: 2027-01-05T10:00
  shutdown: 2027-03-15T02:00
notices:
  - {at: announce, to: all, channels: [email, webhook, feed], template: announce}
channels:
  email: {smtp: "%s", tls: none, from: "Sunset <noreply@example.com>"}
  webhooks:
    - {name: crm, url: "%s", secret: "env:TEST_WEBHOOK_SECRET"}
`

const contactsCSV = `id,email,name,locale,tier
acme,ops@acme.example.com,Acme Corp,en,critical
zhongshan,it@zhongshan.example.cn,中山贸易,zh-CN,critical
hooli,,Hooli,en,free
`

// bundle is one running setup: a store, an engine with the notify handler, a worker and sinks.
type bundle struct {
	st     *store.DB
	clock  *sunset.FixedClock
	eng    *engine.Engine
	worker *notify.Worker
	smtp   *notifytest.SMTPSink
	hooks  *notifytest.WebhookSink
}

func setup(t *testing.T, st engine.Store) *bundle {
	t.Helper()
	return setupPlan(t, st, planYAML)
}

// setupPlan is setup with another plan: planText formatted as planYAML is.
func setupPlan(t *testing.T, st engine.Store, planText string) *bundle {
	t.Helper()
	dir := t.TempDir()
	contacts := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(contacts, []byte(contactsCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	smtpSink, err := notifytest.NewSMTPSink(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtpSink.Close() })
	hooks := notifytest.NewWebhookSink([]byte(webhookKey), true)
	srv := httptest.NewServer(hooks)
	t.Cleanup(srv.Close)

	clock := sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	db := st.(*store.DB)
	h := &notify.Handler{Outbox: db.Outbox()}
	eng.Register(plan.KindNotice, h)
	eng.OnReplan(h)
	if _, err := eng.ApplyBundle(t.Context(), "plan.yaml", fmt.Appendf(nil, planText, contacts, smtpSink.Addr, srv.URL), plan.LocalFiles(dir), "test"); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "TEST_WEBHOOK_SECRET" {
			return webhookKey
		}
		return ""
	}
	w := &notify.Worker{
		Outbox: db.Outbox(), Channels: channels.Factory(channels.Options{Getenv: getenv}), Clock: clock,
		PublicURL: "https://sunset.example.com", Policy: notify.Policy{BaseDelay: time.Minute, BreakerThreshold: 3},
		UnsubscribeKey: []byte(unsubscribeKey),
	}
	return &bundle{st: db, clock: clock, eng: eng, worker: w, smtp: smtpSink, hooks: hooks}
}

// runNotice moves the clock past announce and lets the engine run the notice action.
func (b *bundle) runNotice(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	if err := b.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.eng.Stop)
	b.clock.Set(time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC)) // 11:00 in Shanghai
	if _, err := b.eng.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the notice action", func() error {
		acts, err := b.eng.Actions(ctx, "orders-api-v1")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			if a.Key == "notice/0" && a.Status == engine.ActionDone {
				return nil
			}
		}
		return fmt.Errorf("notice/0 is not done: %+v", acts)
	})
}

// drain runs the worker until nothing is due.
func (b *bundle) drain(t *testing.T) {
	t.Helper()
	for range 100 {
		n, err := b.worker.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the worker never ran out of work")
}

func stores(t *testing.T, fn func(t *testing.T, st engine.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.OpenPostgres(t)) })
}

func TestNoticeReachesEveryContactOnceInTheirLanguage(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		b := setup(t, st)
		b.runNotice(t)
		b.drain(t)

		mails := b.smtp.Mails()
		if len(mails) != 2 {
			t.Fatalf("%d emails, want 2 (hooli has no address)", len(mails))
		}
		for _, m := range mails {
			subject, err := new(mime.WordDecoder).DecodeHeader(m.Msg.Header.Get("Subject"))
			if err != nil {
				t.Fatal(err)
			}
			text, html := parts(t, m)
			switch m.To[0] {
			case "it@zhongshan.example.cn":
				if subject != "订单 API v1将于 2027年3月15日 02:00 CST 停止服务" {
					t.Errorf("zh subject = %q", subject)
				}
				for _, want := range []string{"中山贸易，您好", "请迁移到Orders API v2", "迁移指南：https://example.com/migrate"} {
					if !strings.Contains(text, want) {
						t.Errorf("zh text lacks %q:\n%s", want, text)
					}
				}
				if m.Msg.Header.Get("Content-Language") != "zh-CN" {
					t.Errorf("zh Content-Language = %q", m.Msg.Header.Get("Content-Language"))
				}
			case "ops@acme.example.com":
				if subject != "Orders API v1 will be shut down on 15 March 2027 02:00 CST" {
					t.Errorf("en subject = %q", subject)
				}
				if !strings.Contains(text, "Hello Acme Corp,") || !strings.Contains(text, "Please move to Orders API v2") {
					t.Errorf("en text:\n%s", text)
				}
			default:
				t.Errorf("mail to %v", m.To)
			}
			if !strings.Contains(html, `<a href="https://example.com/migrate">`) {
				t.Errorf("HTML part lacks the guide link:\n%s", html)
			}
			id := m.Msg.Header.Get("Message-Id")
			if !strings.HasPrefix(id, "<msg_") || !strings.HasSuffix(id, "@example.com>") {
				t.Errorf("Message-ID = %q, want <msg_…@example.com>", id)
			}
			lu := m.Msg.Header.Get("List-Unsubscribe")
			token, ok := strings.CutPrefix(strings.Trim(lu, "<>"), "https://sunset.example.com"+notify.UnsubscribePath)
			if !ok {
				t.Errorf("List-Unsubscribe = %q", lu)
			} else if addr, err := notify.OpenUnsubscribeToken([]byte(unsubscribeKey), token); err != nil || addr != m.To[0] {
				t.Errorf("List-Unsubscribe names %q (%v), want %s", addr, err, m.To[0])
			}
			if m.Msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
				t.Errorf("List-Unsubscribe-Post = %q", m.Msg.Header.Get("List-Unsubscribe-Post"))
			}
		}

		hooks := b.hooks.Hooks()
		if _, _, bad := b.hooks.Counts(); bad != 0 || len(hooks) != 3 {
			t.Fatalf("%d webhooks (%d badly signed), want 3 well signed", len(hooks), bad)
		}
		locales := map[string]string{}
		for _, h := range hooks {
			var p struct {
				Type string `json:"type"`
				Data struct {
					Recipient struct{ ID string } `json:"recipient"`
					Locale    string              `json:"locale"`
					Subject   string              `json:"subject"`
				} `json:"data"`
			}
			if err := json.Unmarshal(h.Body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Type != "sunset.notice" || !strings.HasPrefix(h.ID, "msg_") {
				t.Errorf("webhook type %q id %q", p.Type, h.ID)
			}
			locales[p.Data.Recipient.ID] = p.Data.Locale
		}
		if locales["zhongshan"] != "zh" || locales["acme"] != "en" || locales["hooli"] != "en" {
			t.Errorf("webhook locales = %v", locales)
		}

		l, err := b.st.Outbox().Ledger(t.Context(), "orders-api-v1", 10)
		if err != nil {
			t.Fatal(err)
		}
		if l.Recipients != 3 || l.Aware != 3 || len(l.Failures) != 0 {
			t.Errorf("ledger: %d recipients, %d aware, failures %v", l.Recipients, l.Aware, l.Failures)
		}
		anns, err := b.st.Outbox().Announcements(t.Context(), "orders-api-v1")
		if err != nil || len(anns) != 1 || anns[0].Template != "announce" {
			t.Errorf("announcements = %+v, %v", anns, err)
		}

		// Running the notice's fan-out again (a crash before commit) queues nothing new.
		var again int
		b.eng.Stop()
		p, _, err := b.eng.Plan(t.Context(), "orders-api-v1")
		if err != nil {
			t.Fatal(err)
		}
		err = b.st.InTx(t.Context(), func(tx engine.Tx) error {
			s, err := tx.LockSunset(t.Context(), "orders-api-v1")
			if err != nil {
				return err
			}
			a, _ := tx.GetAction(t.Context(), s.ID, "notice/0")
			run := &engine.Run{Tx: tx, Sunset: s, Plan: p, Action: a, Now: b.clock.Now()}
			if err := (&notify.Handler{Outbox: b.st.Outbox()}).Handle(t.Context(), run); err != nil {
				return err
			}
			again = run.Data["deliveries"].(int)
			return nil
		})
		if err != nil || again != 0 {
			t.Errorf("second fan-out queued %d deliveries (err %v), want 0", again, err)
		}
	})
}

// parts returns the text and HTML parts of a multipart/alternative email.
func parts(t *testing.T, m notifytest.Mail) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(strings.NewReader(string(m.Body)), params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return text, html
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		switch {
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain"):
			text = string(b)
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"):
			html = string(b)
		}
	}
}
