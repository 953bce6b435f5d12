// Package notifytest provides the real receivers notify's tests and benchmarks send to: an
// in-process SMTP server (github.com/emersion/go-smtp) and a Standard Webhooks HTTP sink that
// verifies every signature on its own, both on 127.0.0.1, counting messages by idempotency key.
package notifytest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// Mail is one message the SMTP sink accepted.
type Mail struct {
	From string
	To   []string
	Raw  []byte
	Msg  *mail.Message
	Body []byte
}

// SMTPSink is an SMTP server that keeps what it accepts. Recipients listed in Reject get the
// given reply code (451 for a temporary failure, 550 for a permanent one).
type SMTPSink struct {
	Addr string
	// KeepBodies keeps every message whole; otherwise only counts by Message-ID are kept.
	KeepBodies bool
	// Delay is how long the sink takes to accept each message (a slow provider); set it before
	// the first message.
	Delay time.Duration

	mu       sync.Mutex
	mails    []Mail
	byID     map[string]int
	reject   map[string]int
	total    atomic.Int64
	server   *smtp.Server
	listener net.Listener
	faults   Faults
	busy     atomic.Int64
	closed   chan struct{}
	sessions atomic.Int64
}

// Faults make the SMTP sink behave like the real servers that drop sessions: fixed when the sink
// starts.
type Faults struct {
	// IdleTimeout ends a session that sends nothing for this long with "421 Idle timeout" and
	// closes it (go-smtp's ReadTimeout). Zero: never.
	IdleTimeout time.Duration
	// MaxPerSession answers MAIL FROM with 421 once a session has delivered this many messages,
	// as servers limiting messages per connection do. Zero: no limit.
	MaxPerSession int
	// BusyGreetings is how many of the first connections are greeted with "421 busy" and closed
	// before the server works normally.
	BusyGreetings int
}

// NewSMTPSink starts an SMTP server on 127.0.0.1 (no TLS, no auth); Close stops it.
func NewSMTPSink(keepBodies bool) (*SMTPSink, error) {
	return NewFaultySMTPSink(keepBodies, Faults{})
}

// NewFaultySMTPSink starts an SMTP sink that injects the given faults.
func NewFaultySMTPSink(keepBodies bool, f Faults) (*SMTPSink, error) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &SMTPSink{Addr: inner.Addr().String(), KeepBodies: keepBodies, byID: map[string]int{}, reject: map[string]int{},
		faults: f, closed: make(chan struct{}, 1024)}
	s.busy.Store(int64(f.BusyGreetings))
	ln := &sinkListener{Listener: inner, s: s}
	s.listener = ln
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.ReadTimeout = f.IdleTimeout
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxRecipients = 100
	srv.ErrorLog = log.New(io.Discard, "", 0) // clients killed mid-session are expected
	s.server = srv
	go func() { _ = srv.Serve(ln) }()
	return s, nil
}

// sinkListener greets the first BusyGreetings connections with 421 and tells the sink when a
// session's connection closes.
type sinkListener struct {
	net.Listener
	s *SMTPSink
}

func (l *sinkListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.s.busy.Add(-1) >= 0 {
			_, _ = c.Write([]byte("421 4.3.2 Too busy, try again later\r\n"))
			_ = c.Close()
			continue
		}
		l.s.sessions.Add(1)
		return &sinkConn{Conn: c, s: l.s}, nil
	}
}

// sinkConn signals its first Close to the sink.
type sinkConn struct {
	net.Conn
	s    *SMTPSink
	once sync.Once
}

func (c *sinkConn) Close() error {
	c.once.Do(func() {
		select {
		case c.s.closed <- struct{}{}:
		default:
		}
	})
	return c.Conn.Close()
}

// SessionClosed receives once for every session whose connection the server closed (or the
// client ended).
func (s *SMTPSink) SessionClosed() <-chan struct{} { return s.closed }

// Sessions is how many sessions were accepted (busy greetings not counted).
func (s *SMTPSink) Sessions() int { return int(s.sessions.Load()) }

// Reject makes the sink answer code to RCPT TO address.
func (s *SMTPSink) Reject(address string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject[strings.ToLower(address)] = code
}

// Close stops the server.
func (s *SMTPSink) Close() error { return s.server.Close() }

// Mails returns the kept messages.
func (s *SMTPSink) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Counts returns how many messages arrived in all, and how many distinct Message-IDs.
func (s *SMTPSink) Counts() (total, distinct int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.total.Load()), len(s.byID)
}

// ByID returns how many times each Message-ID arrived.
func (s *SMTPSink) ByID() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.byID))
	for k, v := range s.byID {
		out[k] = v
	}
	return out
}

type session struct {
	s    *SMTPSink
	from string
	to   []string
	sent int
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if m := x.s.faults.MaxPerSession; m > 0 && x.sent >= m {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many messages in this session, closing"}
	}
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	code := x.s.reject[strings.ToLower(to)]
	x.s.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "rejected by the test sink"}
	}
	x.to = append(x.to, to)
	return nil
}
func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if x.s.Delay > 0 {
		time.Sleep(x.s.Delay)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unparseable message: " + err.Error()}
	}
	id := msg.Header.Get("Message-Id")
	x.sent++
	x.s.total.Add(1)
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.byID[id]++
	if x.s.KeepBodies {
		body, _ := io.ReadAll(msg.Body)
		msg2, _ := mail.ReadMessage(bytes.NewReader(raw))
		x.s.mails = append(x.s.mails, Mail{From: x.from, To: x.to, Raw: raw, Msg: msg2, Body: body})
	}
	return nil
}

// Hook is one webhook request the sink accepted.
type Hook struct {
	ID, Timestamp, Signature string
	Body                     []byte
}

// WebhookSink is an http.Handler that checks Standard Webhooks signatures with its own HMAC
// code (not notify/webhook's) and keeps the requests. Fail, when set, decides per request
// whether to answer 500 instead.
type WebhookSink struct {
	Key  []byte
	Keep bool
	Fail func(id string, n int) bool
	// Delay is how long the sink takes to answer each request; set it before the first one.
	Delay time.Duration

	mu       sync.Mutex
	hooks    []Hook
	byID     map[string]int
	seen     map[string]int // requests per id, failed ones included
	bad      int
	total    atomic.Int64
	requests atomic.Int64
}

// NewWebhookSink returns a sink verifying with the raw key.
func NewWebhookSink(key []byte, keep bool) *WebhookSink {
	return &WebhookSink{Key: key, Keep: keep, byID: map[string]int{}, seen: map[string]int{}}
}

// ServeHTTP verifies and records one request.
func (s *WebhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	if s.Delay > 0 {
		time.Sleep(s.Delay)
	}
	id, ts, sig := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
	mac := hmac.New(sha256.New, s.Key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	s.mu.Lock()
	s.seen[id]++
	n := s.seen[id]
	if !hmac.Equal([]byte(sig), []byte(want)) {
		s.bad++
		s.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if s.Fail != nil && s.Fail(id, n) {
		s.mu.Unlock()
		http.Error(w, "down for the test", http.StatusInternalServerError)
		return
	}
	s.byID[id]++
	s.total.Add(1)
	if s.Keep {
		s.hooks = append(s.hooks, Hook{ID: id, Timestamp: ts, Signature: sig, Body: body})
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Hooks returns the kept requests.
func (s *WebhookSink) Hooks() []Hook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Hook(nil), s.hooks...)
}

// Counts returns accepted requests in all, distinct webhook-ids accepted, and requests refused
// for a bad signature.
func (s *WebhookSink) Counts() (total, distinct, badSignatures int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.total.Load()), len(s.byID), s.bad
}

// Requests is how many requests arrived, failed ones included.
func (s *WebhookSink) Requests() int { return int(s.requests.Load()) }

// ByID returns how many accepted requests each webhook-id had.
func (s *WebhookSink) ByID() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.byID))
	for k, v := range s.byID {
		out[k] = v
	}
	return out
}
