// Package chat posts notices to chat rooms through incoming webhooks — Slack-compatible (also
// Mattermost, Rocket.Chat, Discord's /slack endpoint), DingTalk (signed), Feishu/Lark (signed)
// and WeCom — and to a Mastodon-compatible server as a public status.
package chat

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify/channel"
)

// Chat kinds, as plan.ChatChannel.Kind names them.
const (
	Slack    = "slack"
	DingTalk = "dingtalk"
	Feishu   = "feishu"
	WeCom    = "wecom"
)

// Channel posts to one chat incoming webhook.
type Channel struct {
	Kind string
	URL  string
	// Secret signs DingTalk and Feishu requests; empty when the bot has no signing secret.
	Secret string
	Client *http.Client
	// Runtime's clock stamps the DingTalk and Feishu signatures. Leave it the wall clock (the
	// zero Runtime's): the chat services check the timestamp against theirs.
	Runtime sunset.Runtime
}

// Interface guards.
var (
	_ channel.Channel = (*Channel)(nil)
	_ channel.Channel = (*Mastodon)(nil)
	_ channel.Local   = (*Channel)(nil)
	_ channel.Local   = (*Mastodon)(nil)
)

// Local reports whether the chat webhook is on a loopback address (a bot on this machine).
func (c *Channel) Local() bool { return channel.LoopbackURL(c.URL) }

// Local reports whether the Mastodon server is on a loopback address.
func (c *Mastodon) Local() bool { return channel.LoopbackURL(c.Server) }

// Send posts m in the bot format of c.Kind.
func (c *Channel) Send(ctx context.Context, m channel.Message) (bool, error) {
	now := c.Runtime.Now()
	text := m.Subject + "\n\n" + m.Text
	target := c.URL
	var body any
	switch c.Kind {
	case Slack:
		body = map[string]any{"text": "*" + slackEscape(m.Subject) + "*\n" + slackEscape(m.Text)}
	case DingTalk:
		body = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": m.Subject, "text": "### " + m.Subject + "\n\n" + m.Text}}
		if c.Secret != "" {
			ts, sign := DingTalkSign(c.Secret, now)
			u, err := url.Parse(c.URL)
			if err != nil {
				return false, fmt.Errorf("chat: dingtalk URL: %w", err)
			}
			q := u.Query()
			q.Set("timestamp", ts)
			q.Set("sign", sign)
			u.RawQuery = q.Encode()
			target = u.String()
		}
	case Feishu:
		b := map[string]any{"msg_type": "text", "content": map[string]string{"text": text}}
		if c.Secret != "" {
			ts, sign := FeishuSign(c.Secret, now)
			b["timestamp"], b["sign"] = ts, sign
		}
		body = b
	case WeCom:
		body = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": truncate("### "+m.Subject+"\n"+m.Text, WeComMaxBytes)}}
	default:
		return false, fmt.Errorf("chat: unknown kind %q", c.Kind)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return false, err
	}
	return post(ctx, c.Client, target, "application/json", raw, nil, c.Kind != Slack)
}

// WeComMaxBytes is the most UTF-8 bytes a WeCom bot accepts in a markdown message's content
// (it refuses longer ones with errcode 40058).
const WeComMaxBytes = 4096

// slackEscape escapes the three characters Slack's message text gives a meaning (&, <, >), so
// that a notice's text shows as written instead of being read as links or mentions.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most max bytes without splitting a UTF-8 character, ending it with "…"
// when it had to cut. Invalid bytes become U+FFFD first, as JSON encoding would make them, so
// that the encoded text is no longer than the cut one.
func truncate(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// DingTalkSign returns the timestamp (ms) and sign query parameters of a DingTalk robot with a
// signing secret: base64 of HMAC-SHA256 over "timestamp\nsecret" keyed by the secret.
func DingTalkSign(secret string, now time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return timestamp, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// FeishuSign returns the timestamp (s) and sign body fields of a Feishu bot with a signing
// secret: base64 of HMAC-SHA256 over nothing, keyed by "timestamp\nsecret".
func FeishuSign(secret string, now time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(timestamp+"\n"+secret))
	return timestamp, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// MastodonMaxChars is the length of a status Mastodon accepts by default.
const MastodonMaxChars = 500

// Mastodon posts public statuses to a Mastodon-compatible server (POST /api/v1/statuses),
// with the delivery key as Idempotency-Key so that a retry never posts twice.
type Mastodon struct {
	Server string
	Token  string
	Client *http.Client
}

// Send posts m's subject and its status page link as a public status of at most
// MastodonMaxChars characters (the subject is shortened, never the link).
func (c *Mastodon) Send(ctx context.Context, m channel.Message) (bool, error) {
	status := m.Subject
	room := MastodonMaxChars
	if m.StatusURL != "" {
		room -= 1 + len([]rune(m.StatusURL)) // the link is never cut
	}
	if r := []rune(status); len(r) > room {
		status = string(r[:max(room-1, 0)]) + "…"
	}
	if m.StatusURL != "" {
		status += "\n" + m.StatusURL
	}
	form := url.Values{"status": {status}, "visibility": {"public"}, "language": {map[bool]string{true: "zh", false: "en"}[m.Locale == "zh"]}}
	hdr := http.Header{"Authorization": {"Bearer " + c.Token}, "Idempotency-Key": {m.Key}}
	return post(ctx, c.Client, strings.TrimRight(c.Server, "/")+"/api/v1/statuses", "application/x-www-form-urlencoded", []byte(form.Encode()), hdr, false)
}

// post sends body and classifies the answer; checkCode also reads the bots' {"errcode": N} or
// {"code": N}, which report failures with a 200 status.
func post(ctx context.Context, client *http.Client, target, ctype string, body []byte, hdr http.Header, checkCode bool) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", ctype)
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return true, fmt.Errorf("chat: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	host := req.URL.Host
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("chat: %s answered %s", host, resp.Status)
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return false, fmt.Errorf("chat: %s answered %s", host, resp.Status)
	}
	if checkCode {
		var r struct {
			ErrCode *int   `json:"errcode"`
			Code    *int   `json:"code"`
			ErrMsg  string `json:"errmsg"`
			Msg     string `json:"msg"`
		}
		if json.Unmarshal(answer, &r) == nil {
			if r.ErrCode != nil && *r.ErrCode != 0 {
				return false, fmt.Errorf("chat: %s refused the message: %d %s", host, *r.ErrCode, r.ErrMsg)
			}
			if r.Code != nil && *r.Code != 0 {
				return false, fmt.Errorf("chat: %s refused the message: %d %s", host, *r.Code, r.Msg)
			}
		}
	}
	return false, nil
}
