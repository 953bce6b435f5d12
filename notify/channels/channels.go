// Package channels builds the channel.Channel of each endpoint a plan configures (email, its
// webhooks, its chat rooms, Mastodon), resolving the plan's env: and file: secrets. cmd/sunset
// hands Factory to the notify worker.
package channels

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sunsetops/sunset/notify/channel"
	"github.com/sunsetops/sunset/notify/chat"
	"github.com/sunsetops/sunset/notify/smtp"
	"github.com/sunsetops/sunset/notify/webhook"
	"github.com/sunsetops/sunset/plan"
)

// Options tune the channels Factory builds.
type Options struct {
	// Getenv reads env: secrets; os.Getenv when nil.
	Getenv func(string) string
	// HTTP is the client of webhooks, chat and Mastodon. Default: 10s timeout, 64 idle
	// connections per host.
	HTTP *http.Client
	// SMTPTLS overrides the TLS settings of SMTP connections (tests trust their own CA).
	SMTPTLS *tls.Config
	// SMTPConns is how many SMTP connections one server may have open. Default 8.
	SMTPConns int
}

// Factory returns a channel.Factory for o.
func Factory(o Options) channel.Factory {
	if o.HTTP == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		o.HTTP = &http.Client{Timeout: 10 * time.Second, Transport: tr}
	}
	return func(p *plan.Plan, endpoint string) (channel.Channel, error) {
		kind, name, _ := strings.Cut(endpoint, ":")
		secret := func(s plan.Secret) (string, error) { return channel.ResolveSecret(s, o.Getenv) }
		switch kind {
		case channel.Email:
			e := p.Channels.Email
			if e == nil {
				return nil, fmt.Errorf("the plan configures no email channel (channels.email)")
			}
			pw, err := secret(e.Password)
			if err != nil {
				return nil, err
			}
			return smtp.New(smtp.Config{Addr: e.SMTP, TLS: e.TLS, From: e.From, Username: e.Username, Password: pw,
				TLSConfig: o.SMTPTLS, Conns: o.SMTPConns})
		case channel.Webhook:
			for _, w := range p.Channels.Webhooks {
				if w.Name == name {
					s, err := secret(w.Secret)
					if err != nil {
						return nil, err
					}
					return &webhook.Channel{URL: w.URL, Secret: s, Client: o.HTTP}, nil
				}
			}
		case channel.Chat:
			for _, c := range p.Channels.Chat {
				if c.Name == name {
					// The URL may be written in clear when it carries no token (validation
					// refuses one that does), or referenced like a secret.
					u := string(c.URL)
					if strings.HasPrefix(u, "env:") || strings.HasPrefix(u, "file:") {
						var err error
						if u, err = secret(c.URL); err != nil {
							return nil, err
						}
					}
					s, err := secret(c.Secret)
					if err != nil {
						return nil, err
					}
					return &chat.Channel{Kind: c.Kind, URL: u, Secret: s, Client: o.HTTP}, nil
				}
			}
		case channel.Mastodon:
			if m := p.Channels.Mastodon; m != nil {
				tok, err := secret(m.Token)
				if err != nil {
					return nil, err
				}
				return &chat.Mastodon{Server: m.Server, Token: tok, Client: o.HTTP}, nil
			}
		}
		return nil, fmt.Errorf("the plan configures no channel %q", endpoint)
	}
}
