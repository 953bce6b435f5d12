package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/channels"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
)

// broadcastPlan tells four chat rooms and a Mastodon account at the server %s; the bots' URLs
// and secrets come from the environment.
const broadcastPlan = `
service: {name: orders-api-v1, title: Orders API v1, timezone: Asia/Shanghai}
milestones: {announce: 2027-01-05T10:00, deprecate: 2027-01-05T10:00, shutdown: 2027-03-15T02:00}
notices:
  - {at: announce, to: all, channels: [chat, mastodon], template: announce}
channels:
  chat:
    - {name: ops, kind: slack, url: "env:SLACK_URL"}
    - {name: cn-ops, kind: dingtalk, url: "env:DING_URL", secret: "env:DING_SECRET"}
    - {name: feishu, kind: feishu, url: "env:FEISHU_URL", secret: "env:FEISHU_SECRET"}
    - {name: wecom, kind: wecom, url: "env:WECOM_URL"}
  mastodon: {server: "%[1]s", token: "env:MASTODON_TOKEN"}
`

// TestBroadcastsReachEveryBotOnce runs a notice to four chat rooms and Mastodon through the
// engine, the outbox and the worker, with the secrets from the environment: each bot gets one
// message in its format, signed where it is signed, and the status carries its idempotency key.
func TestBroadcastsReachEveryBotOnce(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		var mu sync.Mutex
		got := map[string][]*http.Request{}
		bodies := map[string][]string{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			got[r.URL.Path] = append(got[r.URL.Path], r)
			bodies[r.URL.Path] = append(bodies[r.URL.Path], string(body))
			mu.Unlock()
			switch r.URL.Path {
			case "/dingtalk", "/wecom":
				io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
			case "/feishu":
				io.WriteString(w, `{"code":0,"msg":"success"}`)
			default:
				io.WriteString(w, "ok")
			}
		}))
		defer srv.Close()
		env := map[string]string{"DING_SECRET": "ding-secret", "FEISHU_SECRET": "feishu-secret", "SLACK_URL": srv.URL + "/slack",
			"DING_URL": srv.URL + "/dingtalk?access_token=t1", "FEISHU_URL": srv.URL + "/feishu",
			"WECOM_URL": srv.URL + "/wecom?key=k1", "MASTODON_TOKEN": "mtok"}

		clock := sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		db := st.(*store.DB)
		eng.Register(plan.KindNotice, &notify.Handler{Outbox: db.Outbox()})
		if _, err := eng.Apply(t.Context(), "plan.yaml", fmt.Appendf(nil, broadcastPlan, srv.URL), "test"); err != nil {
			var se *sunset.Error
			if errors.As(err, &se) {
				t.Fatal(se.Details)
			}
			t.Fatal(err)
		}
		b := &bundle{st: db, clock: clock, eng: eng}
		b.runNotice(t)
		w := &notify.Worker{Outbox: db.Outbox(), Clock: clock, PublicURL: "https://sunset.example.com",
			Channels: channels.Factory(channels.Options{Getenv: func(k string) string { return env[k] }})}
		before := time.Now()
		if _, err := w.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		after := time.Now()

		mu.Lock()
		defer mu.Unlock()
		for _, path := range []string{"/slack", "/dingtalk", "/feishu", "/wecom", "/api/v1/statuses"} {
			if len(got[path]) != 1 {
				t.Fatalf("%s got %d messages, want 1 (all: %v)", path, len(got[path]), bodies)
			}
		}
		sign := func(key, data string) string {
			m := hmac.New(sha256.New, []byte(key))
			m.Write([]byte(data))
			return base64.StdEncoding.EncodeToString(m.Sum(nil))
		}
		// DingTalk: the signature covers a millisecond timestamp of the real clock.
		q := got["/dingtalk"][0].URL.Query()
		ts := q.Get("timestamp")
		if q.Get("access_token") != "t1" || q.Get("sign") != sign("ding-secret", ts+"\n"+"ding-secret") || !within(ts, before.UnixMilli(), after.UnixMilli()) {
			t.Errorf("dingtalk query %v", q)
		}
		var fs struct{ Timestamp, Sign string }
		_ = json.Unmarshal([]byte(bodies["/feishu"][0]), &fs)
		if fs.Sign != sign(fs.Timestamp+"\n"+"feishu-secret", "") || !within(fs.Timestamp, before.Unix(), after.Unix()) {
			t.Errorf("feishu body %s", bodies["/feishu"][0])
		}
		if !strings.HasPrefix(bodies["/slack"][0], `{"text":"*Orders API v1 will be shut down on 15 March 2027 02:00 CST*\nHello everyone,`) {
			t.Errorf("slack body %s", bodies["/slack"][0])
		}
		if got["/wecom"][0].URL.Query().Get("key") != "k1" || !strings.Contains(bodies["/wecom"][0], `"msgtype":"markdown"`) {
			t.Errorf("wecom %s %s", got["/wecom"][0].URL, bodies["/wecom"][0])
		}
		m := got["/api/v1/statuses"][0]
		form, _ := url.ParseQuery(bodies["/api/v1/statuses"][0])
		key := notify.DeliveryKey("orders-api-v1", "notice/0", notify.Broadcast, notify.ChannelMastodon)
		if m.Header.Get("Authorization") != "Bearer mtok" || m.Header.Get("Idempotency-Key") != key ||
			form.Get("status") != "Orders API v1 will be shut down on 15 March 2027 02:00 CST\nhttps://sunset.example.com/p/orders-api-v1" {
			t.Errorf("mastodon: %v %v", m.Header, form)
		}
	})
}

// within reports whether the decimal s is between lo and hi.
func within(s string, lo, hi int64) bool {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return false
	}
	return n >= lo && n <= hi
}
