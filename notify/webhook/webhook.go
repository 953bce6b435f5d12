// Package webhook sends notices as JSON to HTTP endpoints, signed as Standard Webhooks
// (https://www.standardwebhooks.com): the webhook-id header is the delivery's idempotency key
// (the same on every retry, so receivers can drop repeats), webhook-timestamp the Unix time of
// the attempt, and webhook-signature "v1," followed by the base64 HMAC-SHA256 of
// "id.timestamp.body" under the endpoint's secret.
package webhook

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
	"strconv"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify/channel"
)

// Channel posts to one endpoint.
type Channel struct {
	URL string
	// Secret signs the payloads: "whsec_" followed by base64 (the Standard Webhooks form), or
	// raw bytes otherwise. Empty: no signature header.
	Secret string
	Client *http.Client
	// Runtime's clock stamps webhook-timestamp. Leave it the wall clock (the zero Runtime's):
	// receivers reject timestamps far from theirs.
	Runtime sunset.Runtime
}

// Interface guards.
var (
	_ channel.Channel = (*Channel)(nil)
	_ channel.Local   = (*Channel)(nil)
)

// Local reports whether the endpoint is on a loopback address (a receiver on this machine).
func (c *Channel) Local() bool { return channel.LoopbackURL(c.URL) }

// Payload is the JSON body of a notice webhook.
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Data      `json:"data"`
}

// Data is the notice inside a Payload.
type Data struct {
	Sunset      string            `json:"sunset"`
	Notice      string            `json:"notice"`
	Template    string            `json:"template"`
	Recipient   channel.Recipient `json:"recipient"`
	Locale      string            `json:"locale"`
	Subject     string            `json:"subject"`
	Text        string            `json:"text"`
	Mandatory   bool              `json:"mandatory,omitempty"`
	StatusURL   string            `json:"status_url,omitempty"`
	Unsubscribe string            `json:"unsubscribe_url,omitempty"`
}

// Send posts m. 2xx is delivered; 408, 429 and 5xx answers and network errors are worth a
// retry; other answers are permanent failures.
func (c *Channel) Send(ctx context.Context, m channel.Message) (bool, error) {
	now := c.Runtime.Now()
	body, err := json.Marshal(Payload{Type: "sunset.notice", Timestamp: now.UTC().Truncate(time.Second), Data: Data{
		Sunset: m.Sunset, Notice: m.Notice, Template: m.Template, Recipient: m.To, Locale: m.Locale,
		Subject: m.Subject, Text: m.Text, Mandatory: m.Mandatory, StatusURL: m.StatusURL, Unsubscribe: m.Unsubscribe,
	}})
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sunset-notify")
	req.Header.Set("webhook-id", m.Key)
	req.Header.Set("webhook-timestamp", ts)
	if c.Secret != "" {
		key, err := Key(c.Secret)
		if err != nil {
			return false, err
		}
		req.Header.Set("webhook-signature", Sign(key, m.Key, ts, body))
	}
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return true, fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("webhook: %s answered %s", c.URL, resp.Status)
	}
	return false, fmt.Errorf("webhook: %s answered %s", c.URL, resp.Status)
}

// Key decodes a signing secret: the base64 after "whsec_", or the raw bytes of any other string.
func Key(secret string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		k, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, fmt.Errorf("webhook: the whsec_ secret is not base64: %w", err)
		}
		return k, nil
	}
	return []byte(secret), nil
}

// Sign returns the webhook-signature header value for a message id, timestamp and body.
func Sign(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
