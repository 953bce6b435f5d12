package chat_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify/channel"
	"github.com/sunsetops/sunset/notify/chat"
)

// now is the instant the bots' signatures are made at.
var now = time.Date(2027, 1, 5, 2, 0, 0, 0, time.UTC)

// message is a notice with the characters chat formats give a meaning (<, >, &) and Chinese.
var message = channel.Message{
	Key: "msg_0123456789abcdefghijklmnop", Sunset: "orders-api-v1", Notice: "notice/0", Template: "announce",
	Channel: "chat:ops", StatusURL: "https://sunset.example.com/p/orders-api-v1",
	Rendered: channel.Rendered{Locale: "zh", Subject: "订单 API v1将于 2027年3月15日 停止服务",
		Text: "请迁移到 <Orders API v2> & 查看 https://example.com/migrate?a=1&b=2\n"},
}

// request is one request a bot server received.
type request struct {
	Method, Path, ContentType string
	Query                     url.Values
	Header                    http.Header
	Body                      []byte
}

// bot is an HTTP server on 127.0.0.1 that records requests and answers with status and answer.
type bot struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	status   int
	answer   string
}

func newBot(t *testing.T, status int, answer string) *bot {
	t.Helper()
	b := &bot{status: status, answer: answer}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.requests = append(b.requests, request{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		b.mu.Unlock()
		w.WriteHeader(b.status)
		_, _ = io.WriteString(w, b.answer)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *bot) only(t *testing.T) request {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) != 1 {
		t.Fatalf("%d requests, want 1", len(b.requests))
	}
	r := b.requests[0]
	if r.Method != http.MethodPost {
		t.Errorf("method %s, want POST", r.Method)
	}
	return r
}

// hmacSHA256 is the test's own HMAC-SHA256, base64: the signatures are checked against it, not
// against the code under test.
func hmacSHA256(key, data string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func send(t *testing.T, c channel.Channel, m channel.Message) (bool, error) {
	t.Helper()
	return c.Send(t.Context(), m)
}

func TestSlack(t *testing.T) {
	b := newBot(t, http.StatusOK, "ok")
	c := &chat.Channel{Kind: chat.Slack, URL: b.URL + "/services/T000/B000/XXXX"}
	if _, err := send(t, c, message); err != nil {
		t.Fatal(err)
	}
	r := b.only(t)
	if r.Path != "/services/T000/B000/XXXX" || r.ContentType != "application/json" {
		t.Errorf("path %s, content type %s", r.Path, r.ContentType)
	}
	// Slack reads <…> as links and mentions and & as an entity: the text escapes them.
	want := `{"text":"*订单 API v1将于 2027年3月15日 停止服务*\n请迁移到 \u0026lt;Orders API v2\u0026gt; \u0026amp; 查看 https://example.com/migrate?a=1\u0026amp;b=2\n"}`
	if string(r.Body) != want {
		t.Errorf("body\n%s\nwant\n%s", r.Body, want)
	}
}

func TestDingTalkSignsTheURL(t *testing.T) {
	const secret = "SEC0123456789abcdef"
	b := newBot(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	c := &chat.Channel{Kind: chat.DingTalk, URL: b.URL + "/robot/send?access_token=tok123", Secret: secret, Runtime: sunset.Runtime{Clock: sunset.NewFixedClock(now)}}
	if _, err := send(t, c, message); err != nil {
		t.Fatal(err)
	}
	r := b.only(t)
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	if r.Path != "/robot/send" || r.Query.Get("access_token") != "tok123" || r.Query.Get("timestamp") != ts {
		t.Errorf("path %s, query %v; want access_token kept and timestamp %s (ms)", r.Path, r.Query, ts)
	}
	// DingTalk: sign = base64(HMAC-SHA256(key: secret, data: timestamp+"\n"+secret)), URL-encoded.
	if got, want := r.Query.Get("sign"), hmacSHA256(secret, ts+"\n"+secret); got != want {
		t.Errorf("sign %q, want %q", got, want)
	}
	var body struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Title, Text string
		} `json:"markdown"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.MsgType != "markdown" || body.Markdown.Title != message.Subject || body.Markdown.Text != "### "+message.Subject+"\n\n"+message.Text {
		t.Errorf("body %s", r.Body)
	}
}

func TestFeishuSignsTheBody(t *testing.T) {
	const secret = "feishu-secret"
	b := newBot(t, http.StatusOK, `{"code":0,"msg":"success"}`)
	c := &chat.Channel{Kind: chat.Feishu, URL: b.URL + "/open-apis/bot/v2/hook/abc", Secret: secret, Runtime: sunset.Runtime{Clock: sunset.NewFixedClock(now)}}
	if _, err := send(t, c, message); err != nil {
		t.Fatal(err)
	}
	r := b.only(t)
	var body struct {
		Timestamp string `json:"timestamp"`
		Sign      string `json:"sign"`
		MsgType   string `json:"msg_type"`
		Content   struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	// Feishu: sign = base64(HMAC-SHA256(key: timestamp+"\n"+secret, data: empty)), seconds.
	if body.Timestamp != ts || body.Sign != hmacSHA256(ts+"\n"+secret, "") {
		t.Errorf("timestamp %q sign %q, want %q and %q", body.Timestamp, body.Sign, ts, hmacSHA256(ts+"\n"+secret, ""))
	}
	if body.MsgType != "text" || body.Content.Text != message.Subject+"\n\n"+message.Text {
		t.Errorf("body %s", r.Body)
	}
}

func TestFeishuWithoutSecretSendsNoSign(t *testing.T) {
	b := newBot(t, http.StatusOK, `{"code":0}`)
	c := &chat.Channel{Kind: chat.Feishu, URL: b.URL}
	if _, err := send(t, c, message); err != nil {
		t.Fatal(err)
	}
	if r := b.only(t); strings.Contains(string(r.Body), `"sign"`) || strings.Contains(string(r.Body), `"timestamp"`) {
		t.Errorf("unsigned bot got %s", r.Body)
	}
}

func TestWeCom(t *testing.T) {
	b := newBot(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	c := &chat.Channel{Kind: chat.WeCom, URL: b.URL + "/cgi-bin/webhook/send?key=k1"}
	if _, err := send(t, c, message); err != nil {
		t.Fatal(err)
	}
	r := b.only(t)
	want := `{"markdown":{"content":"### 订单 API v1将于 2027年3月15日 停止服务\n请迁移到 \u003cOrders API v2\u003e \u0026 查看 https://example.com/migrate?a=1\u0026b=2\n"},"msgtype":"markdown"}`
	if string(r.Body) != want || r.Query.Get("key") != "k1" {
		t.Errorf("body\n%s\nwant\n%s (query %v)", r.Body, want, r.Query)
	}
}

// TestWeComCutsLongMessages: WeCom refuses markdown content over 4096 bytes (errcode 40058); a
// long Chinese notice is cut on a character boundary instead.
func TestWeComCutsLongMessages(t *testing.T) {
	b := newBot(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	c := &chat.Channel{Kind: chat.WeCom, URL: b.URL}
	long := message
	long.Text = strings.Repeat("服务即将下线，请尽快迁移。", 200) // 7,800 bytes
	if _, err := send(t, c, long); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Markdown struct{ Content string } `json:"markdown"`
	}
	if err := json.Unmarshal(b.only(t).Body, &body); err != nil {
		t.Fatal(err)
	}
	content := body.Markdown.Content
	if len(content) > chat.WeComMaxBytes || !utf8.ValidString(content) || !strings.HasSuffix(content, "…") || !strings.HasPrefix(content, "### "+message.Subject) {
		t.Errorf("content of %d bytes (valid UTF-8: %v), ends %q", len(content), utf8.ValidString(content), content[max(0, len(content)-12):])
	}
}

// TestBotsReportRefusals: the bots answer 200 with an error code in the body; a 429 or 5xx is
// worth a retry, another 4xx is not.
func TestBotsReportRefusals(t *testing.T) {
	cases := []struct {
		kind, answer string
		status       int
		retry        bool
		err          string
	}{
		{chat.DingTalk, `{"errcode":310000,"errmsg":"sign not match"}`, 200, false, "310000 sign not match"},
		{chat.WeCom, `{"errcode":93000,"errmsg":"invalid webhook url"}`, 200, false, "93000 invalid webhook url"},
		{chat.Feishu, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`, 200, false, "19021 sign match fail"},
		{chat.Slack, "invalid_payload", 400, false, "400 Bad Request"},
		{chat.Slack, "rate_limited", 429, true, "429 Too Many Requests"},
		{chat.DingTalk, "", 503, true, "503 Service Unavailable"},
		{chat.Feishu, "not json", 200, false, ""}, // a 2xx that is not JSON counts as delivered
	}
	for _, c := range cases {
		t.Run(c.kind+"/"+strconv.Itoa(c.status), func(t *testing.T) {
			b := newBot(t, c.status, c.answer)
			retry, err := send(t, &chat.Channel{Kind: c.kind, URL: b.URL, Secret: "s"}, message)
			switch {
			case c.err == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("error %v, want one with %q", err, c.err)
			case retry != c.retry:
				t.Errorf("retry %v, want %v", retry, c.retry)
			}
		})
	}
}

func TestUnknownChatKind(t *testing.T) {
	if _, err := send(t, &chat.Channel{Kind: "irc", URL: "http://127.0.0.1:1"}, message); err == nil || !strings.Contains(err.Error(), `unknown kind "irc"`) {
		t.Errorf("error %v", err)
	}
}

func TestMastodon(t *testing.T) {
	b := newBot(t, http.StatusOK, `{"id":"1","visibility":"public"}`)
	c := &chat.Mastodon{Server: b.URL + "/", Token: "tok-abc"}
	if _, err := send(t, c, message); err != nil {
		t.Fatal(err)
	}
	r := b.only(t)
	if r.Path != "/api/v1/statuses" || r.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("path %s content type %s", r.Path, r.ContentType)
	}
	if r.Header.Get("Authorization") != "Bearer tok-abc" || r.Header.Get("Idempotency-Key") != message.Key {
		t.Errorf("Authorization %q Idempotency-Key %q", r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key"))
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"status": {message.Subject + "\n" + message.StatusURL}, "visibility": {"public"}, "language": {"zh"}}
	if form.Encode() != want.Encode() {
		t.Errorf("form %v, want %v", form, want)
	}
}

// TestMastodonShortensTheSubjectNotTheLink keeps a status within 500 characters without cutting
// the link to the status page.
func TestMastodonShortensTheSubjectNotTheLink(t *testing.T) {
	b := newBot(t, http.StatusOK, `{}`)
	long := message
	long.Subject = strings.Repeat("停", 600)
	if _, err := send(t, &chat.Mastodon{Server: b.URL, Token: "t"}, long); err != nil {
		t.Fatal(err)
	}
	form, _ := url.ParseQuery(string(b.only(t).Body))
	status := form.Get("status")
	if n := utf8.RuneCountInString(status); n > chat.MastodonMaxChars || !strings.HasSuffix(status, "…\n"+message.StatusURL) {
		t.Errorf("status of %d characters: ...%q", n, status[max(0, len(status)-60):])
	}
}

// TestMastodonRetriesOnlyTransientAnswers: 5xx and 429 are retried with the same key; 401 and 422
// are permanent.
func TestMastodonRetriesOnlyTransientAnswers(t *testing.T) {
	for status, retry := range map[int]bool{500: true, 429: true, 401: false, 422: false} {
		b := newBot(t, status, `{"error":"x"}`)
		got, err := send(t, &chat.Mastodon{Server: b.URL, Token: "t"}, message)
		if err == nil || got != retry {
			t.Errorf("%d: retry %v err %v, want retry %v and an error", status, got, err, retry)
		}
	}
}

// FuzzBotAnswers feeds arbitrary answers and message texts to a DingTalk and a WeCom bot: Send
// never panics, a refusal in the answer is an error, and WeCom's content stays within its limit
// and valid UTF-8.
func FuzzBotAnswers(f *testing.F) {
	f.Add(`{"errcode":0,"errmsg":"ok"}`, "hello")
	f.Add(`{"errcode":310000}`, strings.Repeat("服", 2000))
	f.Add(`{"code":"x"}`, "<a>&")
	f.Add(`[1,2`, "")
	var mu sync.Mutex
	answer, content := "", ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m struct {
			Markdown struct{ Content string } `json:"markdown"`
		}
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		content = m.Markdown.Content
		a := answer
		mu.Unlock()
		_, _ = io.WriteString(w, a)
	}))
	defer srv.Close()
	f.Fuzz(func(t *testing.T, a, text string) {
		mu.Lock()
		answer = a
		mu.Unlock()
		m := message
		m.Text = text
		var r struct {
			ErrCode *int `json:"errcode"`
			Code    *int `json:"code"`
		}
		refused := json.Unmarshal([]byte(a), &r) == nil && ((r.ErrCode != nil && *r.ErrCode != 0) || (r.Code != nil && *r.Code != 0))
		for _, kind := range []string{chat.DingTalk, chat.WeCom} {
			_, err := (&chat.Channel{Kind: kind, URL: srv.URL}).Send(t.Context(), m)
			if refused != (err != nil) {
				t.Errorf("%s: answer %q: error %v, refused %v", kind, a, err, refused)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(content) > chat.WeComMaxBytes || (utf8.ValidString(text) && !utf8.ValidString(content)) {
			t.Errorf("WeCom content of %d bytes, valid UTF-8 %v", len(content), utf8.ValidString(content))
		}
	})
}
