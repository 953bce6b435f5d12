package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/notify/notifytest"
)

// --public-url is where users reach the public pages: the feed's links name it, not the
// listening address.
func TestServePublicURLNamesThePublicPagesInLinks(t *testing.T) {
	t.Parallel()
	api, stop := server(t, "sqlite:"+filepath.Join(t.TempDir(), "sunset.db"), "--public-url", "https://sunset.example.com/", "--now", afterAnnounce)
	defer stop()
	// Unapproved, the example is not public yet: the same 404 as an unknown sunset.
	for _, name := range []string{"orders-api-v1", "nobody-v1"} {
		if code := getStatus(t, api+"/p/"+name+"/feed.atom"); code != http.StatusNotFound {
			t.Errorf("feed of %s before the announcement: %d, want 404", name, code)
		}
	}
	signOff(t, api)
	eventually(t, "the example is announced", func() bool { return getStatus(t, api+"/p/orders-api-v1/feed.atom") == http.StatusOK })
	resp, err := http.Get(api + "/p/orders-api-v1/feed.atom")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "https://sunset.example.com/p/orders-api-v1") {
		t.Errorf("feed: %d, want links to https://sunset.example.com/p/orders-api-v1:\n%.1500s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "127.0.0.1") {
		t.Errorf("the feed names the listening address:\n%.1500s", body)
	}
}

func TestServeRefusesABadPublicURL(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"sunset.example.com", "ftp://x", "https://", "https://x/?a=1"} {
		code, _, errs := run(t, context.Background(), "serve", "--db", "sqlite:"+filepath.Join(t.TempDir(), "s.db"), "--public-url", bad)
		if code != 2 || !strings.Contains(errs, "--public-url") {
			t.Errorf("--public-url %q: exit %d, %s", bad, code, errs)
		}
	}
}

// getStatus returns the status of a GET of url.
func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// loopbackPlan sends its announcement by email (to the test's SMTP server) and to a webhook on
// this machine; %s are the contacts file, the SMTP address and the webhook URL.
const loopbackPlan = `service:
  name: mail-v1
  title: {en: Mail API v1, zh: 邮件 API v1}
  timezone: Asia/Shanghai
consumers:
  contacts: %s
milestones:
  announce: 2027-01-05T10:00
  deprecate: announce
  shutdown: 2027-03-15T02:00
notices:
  - {at: announce, to: all, channels: [email, webhook], template: announce}
channels:
  email: {smtp: "%s", tls: none, from: "Sunset <noreply@example.com>"}
  webhooks:
    - {name: ops, url: "%s", secret: "env:TEST_HOOK_SECRET"}
`

// mailFolder is an operator's folder holding loopbackPlan and its two contacts (acme, zs), with
// the test's SMTP server and webhook receiver the plan sends to.
type mailFolder struct {
	dir, plan string
	sink      *notifytest.SMTPSink
	hooks     *notifytest.WebhookSink
}

func newMailFolder(t *testing.T) *mailFolder {
	t.Helper()
	f := &mailFolder{dir: t.TempDir()}
	var err error
	if f.sink, err = notifytest.NewSMTPSink(true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.sink.Close() })
	f.hooks = notifytest.NewWebhookSink([]byte(hookSecret), true)
	hookSrv := httptest.NewServer(f.hooks)
	t.Cleanup(hookSrv.Close)
	contacts := filepath.Join(f.dir, "contacts.csv")
	f.plan = filepath.Join(f.dir, "mail.yaml")
	if err := os.WriteFile(contacts, []byte("id,email,name,locale,tier\nacme,ops@acme.example.com,Acme,en,gold\nzs,it@zhongshan.example.cn,中山贸易,zh-CN,free\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.plan, fmt.Appendf(nil, loopbackPlan, contacts, f.sink.Addr, hookSrv.URL), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// hookSecret signs the test webhook's payloads.
const hookSecret = "test-hook-signing-key"

// serveCapture starts serve like server and returns a stop function that gives what it printed.
func serveCapture(t *testing.T, args ...string) (string, func() (stdout, stderr string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "TEST_HOOK_SECRET" {
			return hookSecret
		}
		return ""
	}, ready: ready}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn", "--example=false"}, args...))
	}()
	select {
	case addr := <-ready:
		return "http://" + addr, func() (string, string) {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d: %s", code, errb.String())
			}
			return out.String(), errb.String()
		}
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d before listening:\n%s%s", code, out.String(), errb.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start in 30s")
	}
	return "", nil
}

// Without --public-url notices would link to 127.0.0.1: serve and apply warn, email is held
// (visible in notify status) while a webhook on this machine gets its message, and a restart
// with --public-url sends the held mail once, with the public links.
func TestServeHoldsLoopbackNoticesUntilItHasAPublicURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMailFolder(t)
	dir, sink, hooks, planFile := f.dir, f.sink, f.hooks, f.plan
	db := "sqlite:" + filepath.Join(dir, "sunset.db")

	api, stop := serveCapture(t, "--db", db, "--now", afterAnnounce)
	code, out, errs := run(t, ctx, "apply", planFile, "--server", api)
	if code != 0 || !strings.Contains(out, "WARN: notices link to http://127.0.0.1:") || !strings.Contains(out, "are held") {
		t.Fatalf("apply without --public-url: exit %d, want a warning about loopback links:\n%s%s", code, out, errs)
	}
	var status string
	eventually(t, "notify status shows the held email", func() bool {
		_, status, _ = run(t, ctx, "notify", "status", "mail-v1", "--server", api)
		return strings.Contains(status, "2 held, not sent") && len(hooks.Hooks()) == 2
	}, &status)
	if !regexp.MustCompile(`notice/0\s+announce\s+email\s+0\s+0\s+0\s+0\s+0\s+0\s+2`).MatchString(status) ||
		!strings.Contains(status, "--public-url") {
		t.Errorf("notify status does not show the email line held with its reason:\n%s", status)
	}
	if n := len(sink.Mails()); n != 0 {
		t.Errorf("%d emails with loopback links were sent", n)
	}
	banner, logs := stop()
	if !strings.Contains(banner, "WARN: notices link to http://127.0.0.1:") {
		t.Errorf("the startup banner does not warn:\n%s", banner)
	}
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "notices link to a loopback address") {
		t.Errorf("the log does not warn:\n%s", logs)
	}

	// Restarted with a public URL: the held mail goes out once, linking to it; no warning.
	api, stop = serveCapture(t, "--db", db, "--now", afterAnnounce, "--public-url", "https://sunset.example.com")
	eventually(t, "the held emails are sent", func() bool { return len(sink.Mails()) == 2 })
	for _, m := range sink.Mails() {
		if raw := string(m.Raw); strings.Contains(raw, "127.0.0.1") || !strings.Contains(raw, "https://sunset.example.com/p/mail-v1") {
			t.Errorf("the released email to %v does not link to the public URL:\n%.1500s", m.To, raw)
		}
	}
	delivered := regexp.MustCompile(`notice/0\s+announce\s+email\s+0\s+0\s+0\s+2\s+0\s+0\s+0`)
	eventually(t, "notify status shows the email delivered", func() bool {
		_, status, _ = run(t, ctx, "notify", "status", "mail-v1", "--server", api)
		return delivered.MatchString(status)
	}, &status)
	if strings.Contains(status, "held, not sent") {
		t.Errorf("notify status after the restart still holds:\n%s", status)
	}
	if n := len(hooks.Hooks()); n != 2 {
		t.Errorf("the local webhook got %d messages, want its 2 (nothing twice)", n)
	}
	banner, _ = stop()
	if strings.Contains(banner, "WARN") {
		t.Errorf("the banner warns although --public-url is set:\n%s", banner)
	}
}
