package web

import (
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
)

// publicPlan announces over email, the banner and the feed, then reminds (unsubscribable) and
// warns (mandatory) a day apart each.
const publicPlan = `
service:
  name: pay-v1
  title: {en: Payments API v1, zh: 支付 API v1}
  description: {en: The first payments API., zh: 第一版支付 API。}
  timezone: Asia/Shanghai
alternatives:
  - {name: Payments API v2, url: https://example.com/v2, guide: https://example.com/migrate}
consumers:
  contacts: contacts.csv
milestones:
  announce: 2027-01-05T10:00
  deprecate: announce
  shutdown: 2027-03-15T02:00
notices:
  - {at: announce, to: all, channels: [email, banner, feed], template: announce}
  - {at: announce+1d, to: all, channels: [email], template: reminder}
  - {at: announce+2d, to: all, channels: [email], template: final_reminder, mandatory: true}
channels:
  email: {smtp: "127.0.0.1:1", tls: none, from: "Sunset <noreply@example.com>"}
`

const publicContacts = `id,email,name,locale
acme,ops@acme.example.com,Acme Corp,en
zhongshan,it@zhongshan.example.cn,中山贸易,zh-CN
`

const testUnsubscribeKey = "web-test-unsubscribe-key-0123456789"

// publicBundle is a server with notices on a real engine and SQLite store, and a delivery
// worker whose email channel accepts Acme's mail and refuses Zhongshan's for good.
type publicBundle struct {
	*testBundle
	db     *store.DB
	worker *notify.Worker
}

func setupPublic(t *testing.T) *publicBundle {
	t.Helper()
	clock := sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	st := storetest.OpenSQLite(t)
	db := st.(*store.DB)
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	h := &notify.Handler{Outbox: db.Outbox()}
	eng.Register(plan.KindNotice, h)
	logs := &syncBuffer{}
	srv := &Server{Engine: eng, Logger: slog.New(slog.NewTextHandler(logs, nil)), Now: clock.Now,
		Notices: db.Outbox(), UnsubscribeKey: []byte(testUnsubscribeKey), PublicURL: "https://sunset.example.com"}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	w := &notify.Worker{Outbox: db.Outbox(), Clock: clock, UnsubscribeKey: []byte(testUnsubscribeKey), PublicURL: srv.PublicURL,
		Channels: func(*plan.Plan, string) (notify.Channel, error) {
			return notify.ChannelFunc(func(_ context.Context, m notify.Message) (bool, error) {
				if m.To.Email == "it@zhongshan.example.cn" {
					return false, errors.New("550 5.1.1 mailbox unavailable")
				}
				return false, nil
			}), nil
		}}
	b := &publicBundle{testBundle: &testBundle{clock: clock, eng: eng, srv: srv, ts: ts, logs: logs}, db: db, worker: w}
	if status, body := postBundle(t, ts.URL, bundlePart{"plan", "pay.yaml", publicPlan}, bundlePart{"contacts.csv", "contacts.csv", publicContacts}); status != http.StatusCreated {
		t.Fatalf("apply: %d %s", status, body)
	}
	b.start(t)
	return b
}

// runNotice moves the clock to at, waits for the notice action key and delivers its messages.
func (b *publicBundle) runNotice(t *testing.T, at time.Time, key string) {
	t.Helper()
	b.clock.Set(at)
	b.waitDone(t, "pay-v1", key)
	for range 10 {
		n, err := b.worker.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// announceAt is just after the announce milestone (10:00 in Shanghai).
var announceAt = time.Date(2027, 1, 5, 2, 30, 0, 0, time.UTC)

func TestNoticeLedgerShowsDeliveriesFailuresAndAwarenessPerConsumer(t *testing.T) {
	b := setupPublic(t)
	b.runNotice(t, announceAt, "notice/0")
	// A gateway told hooli in-band; it has no contact.
	_, err := b.db.Usage().RecordUsage(t.Context(), "pay-v1", gateway.Batch{Gateway: "g1", Seq: 1,
		Aware: []gateway.Awareness{{Consumer: "hooli", FirstSeen: announceAt}, {Consumer: "acme", FirstSeen: announceAt.Add(time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	r := b.do(t, "GET", "/api/v1/sunsets/pay-v1/notices", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var l notify.Ledger
	r.decode(t, &l)
	if len(l.Lines) != 1 || l.Lines[0].Notice != "notice/0" || l.Lines[0].Channel != "email" || l.Lines[0].Delivered != 1 || l.Lines[0].Failed != 1 {
		t.Fatalf("lines = %+v", l.Lines)
	}
	if len(l.Failures) != 1 || !strings.Contains(l.Failures[0].LastError, "550") {
		t.Fatalf("failures = %+v", l.Failures)
	}
	got := map[string]notify.ConsumerAwareness{}
	for _, c := range l.Consumers {
		got[c.ID] = c
	}
	if c := got["acme"]; !c.Aware || len(c.Reached) != 1 || c.Reached[0] != "email" || c.InBand.IsZero() || c.FirstReached.IsZero() {
		t.Errorf("acme = %+v", c)
	}
	if c := got["zhongshan"]; c.Aware || len(c.Failed) != 1 {
		t.Errorf("zhongshan (mail refused, never seen by a gateway) = %+v", c)
	}
	if c := got["hooli"]; !c.Aware || len(c.Reached) != 0 || !c.InBand.Equal(announceAt) {
		t.Errorf("hooli (told in-band only) = %+v", c)
	}
	if l.ConsumersKnown != 3 || l.ConsumersAware != 2 || l.InBand != 2 {
		t.Errorf("known %d aware %d in-band %d, want 3 2 2", l.ConsumersKnown, l.ConsumersAware, l.InBand)
	}
	if r := b.do(t, "GET", "/api/v1/sunsets/nope/notices", ""); r.status != 404 {
		t.Errorf("unknown sunset: %d", r.status)
	}
}

// styleNonce matches the nonce of the page's style block.
var styleNonce = regexp.MustCompile(`<style nonce="([^"]+)">`)

func TestStatusPageShowsDatesAlternativesAndAnnouncementsInBothLanguages(t *testing.T) {
	b := setupPublic(t)
	b.runNotice(t, announceAt, "notice/0")
	for _, c := range []struct {
		name   string
		header []string
		query  string
		want   []string
	}{
		{"english by default", nil, "", []string{`<html lang="en">`, "Payments API v1 will be shut down on 15 March 2027 02:00 CST.",
			"5 January 2027 10:00 CST", `href="https://example.com/migrate"`, `href="/feedback/pay-v1"`, `href="/survey/pay-v1"`,
			"Payments API v1 will be shut down on 15 March 2027 02:00 CST</h3>", `id="notice-0"`, `href="/p/pay-v1/feed.atom"`}},
		{"chinese by Accept-Language", []string{"Accept-Language", "zh-CN,zh;q=0.9"}, "", []string{`<html lang="zh-Hans">`,
			"支付 API v1将于以下时间停止服务：2027年3月15日 02:00 CST。", "2027年1月5日 10:00 CST", "替代方案", `href="/feedback/pay-v1?lang=zh"`}},
		{"chinese by ?lang=zh", nil, "?lang=zh", []string{`<html lang="zh-Hans">`, "支付 API v1将于 2027年3月15日 02:00 CST 停止服务</h3>"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := b.do(t, "GET", "/p/pay-v1"+c.query, "", c.header...)
			if r.status != 200 || r.mediaType() != "text/html" {
				t.Fatalf("%d %s", r.status, r.mediaType())
			}
			body := string(r.body)
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(body, "Hello there") || strings.Contains(body, "您好") {
				t.Error("the public page greets a recipient")
			}
			m := styleNonce.FindStringSubmatch(body)
			csp := r.header.Get("Content-Security-Policy")
			if m == nil || !strings.Contains(csp, "style-src 'nonce-"+m[1]+"'") || !strings.Contains(csp, "default-src 'none'") ||
				strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP %q does not pin the style block", csp)
			}
			if strings.Contains(body, "<script") || regexp.MustCompile(`(src|href)="https?://[^"]*\.(css|js)`).MatchString(body) {
				t.Error("the page loads scripts or external assets")
			}
		})
	}
	if r := b.do(t, "GET", "/p/nope", ""); r.status != 404 {
		t.Errorf("unknown sunset: %d", r.status)
	}
}

// atomDoc reads an Atom feed strictly enough to check RFC 4287's required elements.
type atomDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"http://www.w3.org/2005/Atom id"`
	Title   string   `xml:"http://www.w3.org/2005/Atom title"`
	Updated string   `xml:"http://www.w3.org/2005/Atom updated"`
	Author  []struct {
		Name string `xml:"http://www.w3.org/2005/Atom name"`
	} `xml:"http://www.w3.org/2005/Atom author"`
	Links []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"http://www.w3.org/2005/Atom link"`
	Entries []struct {
		ID      string `xml:"http://www.w3.org/2005/Atom id"`
		Title   string `xml:"http://www.w3.org/2005/Atom title"`
		Updated string `xml:"http://www.w3.org/2005/Atom updated"`
		Content struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"http://www.w3.org/2005/Atom content"`
	} `xml:"http://www.w3.org/2005/Atom entry"`
}

func TestFeedIsAtomWithTheAnnouncementsThatAskedForIt(t *testing.T) {
	b := setupPublic(t)
	b.runNotice(t, announceAt, "notice/0")
	b.runNotice(t, announceAt.Add(24*time.Hour), "notice/1") // email only: not in the feed
	for _, c := range []struct{ query, title, content string }{
		{"", "Payments API v1 will be shut down on 15 March 2027 02:00 CST", "Please move to Payments API v2"},
		{"?lang=zh", "支付 API v1将于 2027年3月15日 02:00 CST 停止服务", "请迁移到Payments API v2"},
	} {
		r := b.do(t, "GET", "/p/pay-v1/feed.atom"+c.query, "")
		if r.status != 200 || r.mediaType() != "application/atom+xml" {
			t.Fatalf("%d %s", r.status, r.mediaType())
		}
		dec := xml.NewDecoder(strings.NewReader(string(r.body)))
		dec.Strict = true
		var f atomDoc
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("not well-formed Atom: %v\n%s", err, r.body)
		}
		if f.ID != "https://sunset.example.com/p/pay-v1" || f.Title == "" || len(f.Author) != 1 || f.Author[0].Name == "" {
			t.Errorf("feed id %q title %q author %+v", f.ID, f.Title, f.Author)
		}
		updated, err := time.Parse(time.RFC3339, f.Updated)
		if err != nil || !updated.Equal(announceAt) {
			t.Errorf("updated = %q (%v), want the newest entry's instant %s", f.Updated, err, announceAt)
		}
		self := false
		for _, l := range f.Links {
			self = self || (l.Rel == "self" && strings.HasPrefix(l.Href, "https://sunset.example.com/p/pay-v1/feed.atom"))
		}
		if !self {
			t.Errorf("no self link: %+v", f.Links)
		}
		if len(f.Entries) != 1 {
			t.Fatalf("%d entries, want 1 (the reminder went by email only)", len(f.Entries))
		}
		e := f.Entries[0]
		if e.ID != "https://sunset.example.com/p/pay-v1#notice-0" || e.Title != c.title || e.Content.Type != "text" ||
			!strings.Contains(e.Content.Body, c.content) {
			t.Errorf("entry = %+v", e)
		}
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
			t.Errorf("entry updated %q: %v", e.Updated, err)
		}
	}
}

func TestAnnouncementsJSONAndBannerScriptAreEmbeddableFromAnyOrigin(t *testing.T) {
	b := setupPublic(t)
	b.runNotice(t, announceAt, "notice/0")
	r := b.do(t, "GET", "/p/pay-v1/announcements.json", "", "Origin", "https://shop.example.org")
	if r.status != 200 || r.mediaType() != "application/json" || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("%d %s CORS %q", r.status, r.mediaType(), r.header.Get("Access-Control-Allow-Origin"))
	}
	var a client.PublicAnnouncements
	r.decode(t, &a)
	if len(a.Announcements) != 1 || !a.Announcements[0].Banner || a.Announcements[0].Title.ZH == "" || a.Announcements[0].Title.EN == "" ||
		a.Announcements[0].URL != "https://sunset.example.com/p/pay-v1#notice-0" || a.Title.ZH != "支付 API v1" {
		t.Fatalf("announcements = %+v", a)
	}

	r = b.do(t, "GET", "/p/pay-v1/banner.js", "")
	if r.status != 200 || r.mediaType() != "text/javascript" || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("%d %s %v", r.status, r.mediaType(), r.header)
	}
	if strings.Contains(string(r.body), "innerHTML") || strings.Contains(string(r.body), "import ") {
		t.Error("the banner uses innerHTML or imports a module")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Skip(t, "banner script syntax", "node is not installed")
	}
	file := filepath.Join(t.TempDir(), "banner.js")
	if err := os.WriteFile(file, r.body, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), node, "--check", file).CombinedOutput(); err != nil {
		t.Fatalf("node --check banner.js: %v\n%s", err, out)
	}
}

func TestUnsubscribeLinkSuppressesAllButMandatoryNotices(t *testing.T) {
	b := setupPublic(t)
	b.runNotice(t, announceAt, "notice/0")
	token := notify.UnsubscribeToken([]byte(testUnsubscribeKey), "ops@acme.example.com")
	path := notify.UnsubscribePath + token

	r := b.do(t, "GET", path+"?lang=zh", "")
	if r.status != 200 || !strings.Contains(string(r.body), "ops@acme.example.com") || !strings.Contains(string(r.body), `<form method="post"`) ||
		!strings.Contains(string(r.body), "退订") {
		t.Fatalf("confirm page: %d\n%s", r.status, r.body)
	}
	for _, bad := range []string{token + "x", "bm90LXNpZ25lZA.AAAA", "nodot"} {
		if r := b.do(t, "GET", notify.UnsubscribePath+bad, ""); r.status != 403 {
			t.Errorf("tampered token %q: %d", bad, r.status)
		}
		if r := b.do(t, "POST", notify.UnsubscribePath+bad, "List-Unsubscribe=One-Click", "Content-Type", "application/x-www-form-urlencoded"); r.status != 403 {
			t.Errorf("POST tampered token %q: %d", bad, r.status)
		}
	}
	// The GET changed nothing: the reminder reaches Acme... unless it unsubscribes, which the
	// mail client does in one click (RFC 8058).
	r = b.do(t, "POST", path, "List-Unsubscribe=One-Click", "Content-Type", "application/x-www-form-urlencoded")
	if r.status != 200 || !strings.Contains(string(r.body), "You are unsubscribed") {
		t.Fatalf("one-click: %d\n%s", r.status, r.body)
	}
	b.runNotice(t, announceAt.Add(24*time.Hour), "notice/1")
	b.runNotice(t, announceAt.Add(48*time.Hour), "notice/2")
	l, err := b.db.Outbox().Ledger(t.Context(), "pay-v1", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"notice/1": {0, 1}, "notice/2": {1, 0}} // acme: delivered, suppressed
	for _, line := range l.Lines {
		if w, ok := want[line.Notice]; ok && (line.Delivered != w[0] || line.Suppressed != w[1]) {
			t.Errorf("%s: delivered %d suppressed %d, want %d %d (Zhongshan's mail always fails)", line.Notice, line.Delivered, line.Suppressed, w[0], w[1])
		}
	}
}

// memNotices is an in-memory Notices with one announcement and one delivered email.
type memNotices struct{ suppressed []string }

func (m *memNotices) Ledger(_ context.Context, name string, _ int) (*notify.Ledger, error) {
	if name == "nope" {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "no sunset named %q", name)
	}
	counts := []notify.LedgerCount{{Notice: "notice/0", Template: "announce", Channel: "email", Status: notify.StatusDelivered, Count: 1}}
	at := time.Date(2027, 1, 4, 10, 0, 0, 0, time.UTC)
	return &notify.Ledger{Sunset: name, Counts: counts, Lines: notify.Lines(counts), Recipients: 1, Aware: 1,
		Consumers:      []notify.ConsumerAwareness{{ID: "acme", Email: "ops@acme.example.com", Reached: []string{"email"}, FirstReached: at, InBand: at, Aware: true}},
		ConsumersKnown: 1, ConsumersAware: 1, InBand: 1, Failures: []notify.Delivery{}, Retrying: []notify.Delivery{}}, nil
}

func (m *memNotices) Announcements(_ context.Context, name string) ([]notify.Announcement, error) {
	return []notify.Announcement{{Sunset: name, Notice: "notice/0", Template: "announce", Channels: []string{"banner", "feed"},
		At: time.Date(2027, 1, 4, 10, 0, 0, 0, time.UTC)}}, nil
}

func (m *memNotices) Suppress(_ context.Context, address, _ string, _ time.Time) error {
	m.suppressed = append(m.suppressed, address)
	return nil
}
