package notify_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/chat"
	"github.com/sunsetops/sunset/notify/notifytest"
	"github.com/sunsetops/sunset/notify/webhook"
	"github.com/sunsetops/sunset/plan"
)

// loopbackPlan is planYAML with a second webhook, at a partner's host elsewhere.
var loopbackPlan = strings.Replace(planYAML, `    - {name: crm, url: "%s", secret: "env:TEST_WEBHOOK_SECRET"}`,
	`    - {name: crm, url: "%s", secret: "env:TEST_WEBHOOK_SECRET"}
    - {name: partner, url: "https://partner.example.com/hooks/sunset", secret: "env:TEST_WEBHOOK_SECRET"}`, 1)

// serveDefault is where sunset serve's links point without --public-url.
const serveDefault = "http://127.0.0.1:8080"

func TestLoopbackLinksAreHeldForRecipientsElsewhereAndSentOnceTheURLIsPublic(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		ctx := t.Context()
		b := setupPlan(t, st, loopbackPlan)
		b.worker.PublicURL = serveDefault
		b.runNotice(t)
		b.drain(t)

		// Nothing reached a mailbox; the webhook on this machine got its messages.
		if mails := b.smtp.Mails(); len(mails) != 0 {
			t.Fatalf("%d emails with loopback links were sent, want none held back", len(mails))
		}
		local := b.hooks.Hooks()
		if len(local) != 3 {
			t.Fatalf("%d webhooks reached the receiver on 127.0.0.1, want 3 (loopback links are fine there)", len(local))
		}
		if !strings.Contains(string(local[0].Body), serveDefault) {
			t.Errorf("the local webhook's body does not carry the loopback links:\n%s", local[0].Body)
		}
		l, err := b.st.Outbox().Ledger(ctx, "orders-api-v1", 10)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]notify.LedgerLine{}
		for _, x := range l.Lines {
			got[x.Channel] = x
		}
		if x := got["email"]; x.Held != 2 || x.Delivered != 0 || x.Failed != 0 {
			t.Errorf("email line %+v, want 2 held", x)
		}
		if x := got["webhook:partner"]; x.Held != 3 || x.Delivered != 0 {
			t.Errorf("webhook:partner line %+v, want 3 held (its host is not this machine)", x)
		}
		if x := got["webhook:crm"]; x.Delivered != 3 || x.Held != 0 {
			t.Errorf("webhook:crm line %+v, want 3 delivered", x)
		}
		if l.Held != 5 || !strings.Contains(l.HeldReason, serveDefault) || !strings.Contains(l.HeldReason, "--public-url") {
			t.Errorf("ledger held %d, reason %q: want 5 and a reason naming the address and --public-url", l.Held, l.HeldReason)
		}
		if len(l.Failures) != 0 {
			t.Errorf("held deliveries are not failures: %+v", l.Failures)
		}
		// An unsubscribe while held is honoured when they are released.
		if err := b.st.Outbox().Suppress(ctx, "it@zhongshan.example.cn", "test", b.clock.Now()); err != nil {
			t.Fatal(err)
		}

		// Another worker with loopback links (a restart without --public-url) keeps them held.
		again := &notify.Worker{Outbox: b.st.Outbox(), Channels: b.worker.Channels, Clock: b.clock, PublicURL: serveDefault}
		if n, err := again.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("a loopback worker claimed %d held deliveries (%v), want 0", n, err)
		}

		// The operator restarts with a public URL: the held deliveries go out, once, with links
		// to it. The partner's host is played by a second receiver on this machine: the test
		// sends nothing off it.
		partner := notifytest.NewWebhookSink([]byte(webhookKey), true)
		partnerSrv := httptest.NewServer(partner)
		t.Cleanup(partnerSrv.Close)
		real := b.worker.Channels
		b.worker = &notify.Worker{Outbox: b.st.Outbox(), Clock: b.clock, PublicURL: "https://sunset.example.com",
			Channels: func(p *plan.Plan, endpoint string) (notify.Channel, error) {
				if endpoint == "webhook:partner" {
					return &webhook.Channel{URL: partnerSrv.URL, Secret: webhookKey}, nil
				}
				return real(p, endpoint)
			}}
		b.drain(t)
		mails := b.smtp.Mails()
		if len(mails) != 1 || mails[0].To[0] != "ops@acme.example.com" {
			t.Fatalf("after the restart: %d emails %+v, want 1 to ops@acme.example.com (zhongshan unsubscribed)", len(mails), mails)
		}
		if raw := string(mails[0].Raw); strings.Contains(raw, "127.0.0.1") || !strings.Contains(raw, "https://sunset.example.com/p/orders-api-v1") {
			t.Errorf("the released email does not link to the public URL:\n%.2000s", raw)
		}
		if n := len(partner.Hooks()); n != 2 {
			t.Errorf("the partner's webhook got %d messages, want 2 (zhongshan's was suppressed too)", n)
		}
		if n := len(b.hooks.Hooks()); n != 3 {
			t.Errorf("the local webhook got %d messages in all, want its 3 (nothing twice)", n)
		}
		l, err = b.st.Outbox().Ledger(ctx, "orders-api-v1", 10)
		if err != nil {
			t.Fatal(err)
		}
		if l.Held != 0 || l.HeldReason != "" {
			t.Errorf("after the restart the ledger still holds %d (%q)", l.Held, l.HeldReason)
		}
	})
}

func TestAllowLoopbackLinksSendsThemAnyway(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		b := setupPlan(t, st, planYAML)
		b.worker.PublicURL, b.worker.AllowLoopbackLinks = serveDefault, true
		b.runNotice(t)
		b.drain(t)
		mails := b.smtp.Mails()
		if len(mails) != 2 {
			t.Fatalf("%d emails, want 2: the operator allowed loopback links", len(mails))
		}
		if !strings.Contains(string(mails[0].Raw), serveDefault+"/p/orders-api-v1") {
			t.Errorf("the email does not carry the loopback link:\n%.1500s", mails[0].Raw)
		}
	})
}

func TestLoopbackURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{
		"http://127.0.0.1:8080":           true,
		"http://127.3.2.1/":               true,
		"http://[::1]:8080/p/x":           true,
		"http://localhost:8080":           true,
		"https://LOCALHOST":               true,
		"http://sunset.localhost":         true,
		"http://0.0.0.0:8080":             true,
		"https://sunset.example.com":      false,
		"http://10.0.0.5:8080":            false,
		"https://localhost.example.com":   false,
		"http://127.0.0.1.example.com":    false,
		"":                                false,
		"127.0.0.1:8080":                  false,
		"http://%zz":                      false,
		"https://hooks.slack.com/T/B/xyz": false,
	} {
		if got := notify.LoopbackURL(raw); got != want {
			t.Errorf("LoopbackURL(%q) = %v, want %v", raw, got, want)
		}
	}
	// Channels tell whether their receiver is on this machine; email never is.
	for _, c := range []struct {
		ch   notify.Channel
		want bool
	}{
		{&webhook.Channel{URL: "http://127.0.0.1:9000/hook"}, true},
		{&webhook.Channel{URL: "https://crm.example.com/hook"}, false},
		{&chat.Channel{Kind: "slack", URL: "http://localhost:3000/x"}, true},
		{&chat.Mastodon{Server: "https://mastodon.example"}, false},
	} {
		lc, ok := c.ch.(notify.LocalChannel)
		if !ok || lc.Local() != c.want {
			t.Errorf("%T: Local() = %v, want %v", c.ch, ok && lc.Local(), c.want)
		}
	}
	if notify.LoopbackWarning("https://sunset.example.com", false) != "" {
		t.Error("a public URL warns")
	}
	for _, allowed := range []bool{false, true} {
		if w := notify.LoopbackWarning("", allowed); !strings.Contains(w, serveDefault) || !strings.Contains(w, "--public-url") {
			t.Errorf("LoopbackWarning(\"\", %v) = %q", allowed, w)
		}
	}
}
