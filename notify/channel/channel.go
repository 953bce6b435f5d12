// Package channel is what a notify channel adapter needs to know: the Message it sends, the
// Channel interface it implements, and the small helpers adapters share (loopback detection,
// secret references). It imports the plan's types and the standard library only, so that the
// adapters (notify/smtp, notify/webhook, notify/chat) and their factory (notify/channels) do not
// pull in the outbox, the engine or River. Package notify names the same types (notify.Message
// is channel.Message) for the worker and its callers.
package channel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/sunsetops/sunset/plan"
)

// Channel kinds as the plan names them in a notice's channels.
const (
	Email    = "email"
	Webhook  = "webhook"
	Chat     = "chat"
	Mastodon = "mastodon"
)

// Recipient is someone a notice is for: a contact of the plan's consumers, an owner or a
// stakeholder. ID is unique within its sunset; owners and stakeholders get "owner:EMAIL" and
// "stakeholder:NAME" so they never collide with consumer ids.
type Recipient struct {
	ID       string `json:"id"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	Locale   string `json:"locale,omitempty"`
	Tier     string `json:"tier,omitempty"`
	TimeZone string `json:"timezone,omitempty"`
}

// Rendered is one message in one locale, ready for a channel.
type Rendered struct {
	// Locale is the locale the message was written in: "zh" or "en".
	Locale  string
	Subject string
	// Text is the plain-text body; HTML the same body as simple HTML (paragraphs, links).
	Text string
	HTML string
	// Links are the links the message carries (status page, unsubscribe…).
	Links plan.LinksData
}

// Message is what a Channel sends: one rendered delivery.
type Message struct {
	// Key is the delivery's idempotency key (notify's Delivery.Key).
	Key      string
	Sunset   string
	Notice   string
	Template string
	// Channel is the endpoint name ("webhook:crm").
	Channel   string
	To        Recipient
	Mandatory bool
	Rendered
	// Unsubscribe is the one-click unsubscribe URL; empty on mandatory notices.
	Unsubscribe string
	// StatusURL is the service's public status page.
	StatusURL string
}

// Channel sends messages over one endpoint. Send reports whether a failure is worth retrying
// (a timeout, a 5xx answer, an SMTP 4xx reply) or permanent (a rejected address, a 4xx answer);
// the reason is err's message. Send must honour ctx and be safe for concurrent use.
type Channel interface {
	Send(ctx context.Context, m Message) (retryable bool, err error)
}

// Func adapts a function to Channel.
type Func func(ctx context.Context, m Message) (bool, error)

// Send calls f.
func (f Func) Send(ctx context.Context, m Message) (bool, error) { return f(ctx, m) }

// Factory builds the Channel of endpoint ("email", "webhook:crm", "chat:ops", "mastodon") as
// plan p configures it. The notify worker caches the result per plan revision.
type Factory func(p *plan.Plan, endpoint string) (Channel, error)

// Local is implemented by channels that can tell whether they deliver to this machine (a
// webhook or chat endpoint on 127.0.0.1): loopback links are fine there. A channel that does not
// implement it (email above all: a mailbox is never on the loopback address) is taken to reach
// someone elsewhere.
type Local interface {
	// Local reports whether the channel's receiver is on a loopback address.
	Local() bool
}

// LoopbackURL reports whether raw is a URL whose host is a loopback address (127.0.0.0/8, ::1,
// localhost and *.localhost) or the unspecified address, which nobody elsewhere can open. An
// unparsable URL is not loopback.
func LoopbackURL(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// ResolveSecret reads the secret a plan references: env:NAME from getenv (os.Getenv when nil),
// file:PATH from the file, without its trailing newline. The empty reference is the empty
// secret. Errors name the reference, never the value.
func ResolveSecret(s plan.Secret, getenv func(string) string) (string, error) {
	ref := string(s)
	switch {
	case ref == "":
		return "", nil
	case strings.HasPrefix(ref, "env:"):
		if getenv == nil {
			getenv = os.Getenv
		}
		v := getenv(ref[len("env:"):])
		if v == "" {
			return "", fmt.Errorf("secret %s: the environment variable is not set", ref)
		}
		return v, nil
	case strings.HasPrefix(ref, "file:"):
		b, err := os.ReadFile(ref[len("file:"):])
		if err != nil {
			return "", fmt.Errorf("secret %s: %w", ref, errors.Unwrap(err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", errors.New("secret is not an env: or file: reference")
}
