package rehearse

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sunsetops/sunset/notify/notifytest"
)

// Sinks are where a rehearsal's notices go: an in-process SMTP server (emersion/go-smtp) and an
// HTTP server on 127.0.0.1 that takes the webhooks (checking their Standard Webhooks signature
// with the rehearsal's secret) at /hooks/NAME and the chat and Mastodon posts at /chat/NAME.
type Sinks struct {
	// SMTP is the SMTP sink's host:port; Hooks the base URL of the HTTP sink.
	SMTP, Hooks string

	mail  *notifytest.SMTPSink
	hooks *notifytest.WebhookSink
	chat  atomic.Int64
	srv   *http.Server

	mu   sync.Mutex
	seen int // mails handed out by NewMail
}

// StartSinks starts both sinks on free ports of 127.0.0.1; secret is the webhooks' signing key.
func StartSinks(secret string) (*Sinks, error) {
	mail, err := notifytest.NewSMTPSink(true)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		mail.Close()
		return nil, err
	}
	s := &Sinks{SMTP: mail.Addr, Hooks: "http://" + ln.Addr().String(), mail: mail, hooks: notifytest.NewWebhookSink([]byte(secret), false)}
	mux := http.NewServeMux()
	mux.Handle("/hooks/", s.hooks)
	mux.HandleFunc("/chat/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		s.chat.Add(1)
		// Chat webhooks and Mastodon answer a JSON document; an empty object satisfies both.
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"id":"1"}`)
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops both sinks.
func (s *Sinks) Close() {
	_ = s.srv.Close()
	_ = s.mail.Close()
}

// Delivered counts what arrived: emails, webhook calls with a good signature, chat posts.
type Delivered struct {
	Email, Webhook, Chat int
}

// Total is the sum of the three.
func (d Delivered) Total() int { return d.Email + d.Webhook + d.Chat }

// Delivered returns the counts so far.
func (s *Sinks) Delivered() Delivered {
	mails, _ := s.mail.Counts()
	hooks, _, _ := s.hooks.Counts()
	return Delivered{Email: mails, Webhook: hooks, Chat: int(s.chat.Load())}
}

// NewRecipients returns the addresses of the emails that arrived since the last call, one
// entry per recipient of each message, lower-cased.
func (s *Sinks) NewRecipients() []string {
	mails := s.mail.Mails()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range mails[min(s.seen, len(mails)):] {
		for _, to := range m.To {
			out = append(out, strings.ToLower(strings.Trim(to, "<> ")))
		}
	}
	s.seen = len(mails)
	return out
}
