// Package smtp sends notices as email over SMTP with github.com/wneessen/go-mail: STARTTLS or
// implicit TLS, authentication, multipart text and HTML, List-Unsubscribe (RFC 2369 and the
// one-click form of RFC 8058) on notices one may opt out of, and a Message-ID derived from the
// delivery key so that a message re-sent after a crash carries the same id.
//
// Connections are kept open and reused, up to Conns at once. A session idle for longer than
// MaxIdle is not reused, every reused session gets a fresh deadline and a NOOP check, and a
// session the server dropped meanwhile is replaced without failing the message.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify/channel"
)

// TLS modes, as plan.EmailChannel.TLS names them.
const (
	StartTLS = "starttls"
	Implicit = "implicit"
	NoTLS    = "none"
)

// Config is one SMTP server and sender.
type Config struct {
	// Addr is host:port.
	Addr string
	// TLS is StartTLS (default), Implicit or NoTLS.
	TLS string
	// From is the sender, "Name <addr>" or "addr".
	From               string
	Username, Password string
	// TLSConfig overrides the TLS settings (tests trust their own CA with it).
	TLSConfig *tls.Config
	// Conns is how many sessions may be open at once, idle or busy; a send waits for one.
	// Default 8.
	Conns int
	// Timeout bounds dialing and each command. Default 30s.
	Timeout time.Duration
	// MaxIdle is how long a session may wait in the pool and still be reused; an older one is
	// closed and a new one opened. Default DefaultMaxIdle.
	MaxIdle time.Duration
	// Runtime tells the time MaxIdle is measured in (the zero Runtime: the wall clock).
	Runtime sunset.Runtime
}

// DefaultMaxIdle is how long an idle session is kept for reuse by default: well under the idle
// timeouts mail servers commonly apply (30 s and up), so that a reused session is rarely one the
// server has already dropped.
const DefaultMaxIdle = 10 * time.Second

// Channel sends email through one server.
type Channel struct {
	cfg    Config
	host   string
	port   int
	domain string
	// mailer holds the connection settings (TLS, authentication, HELO); it is never dialed
	// itself: each pooled connection is one go-mail smtp.Client it makes.
	mailer *mail.Client
	pool   chan *conn
	// slots holds one token per open session, idle or busy: at most Conns sessions are open at
	// once, as servers limit the sessions of one client (Exim's smtp_accept_max, Postfix's
	// smtpd_client_connection_count_limit) and answer 421 beyond.
	slots chan struct{}
}

// conn is one open SMTP session and when it went back to the pool.
type conn struct {
	sc        *gosmtp.Client
	idleSince time.Time
}

// Interface guard.
var _ channel.Channel = (*Channel)(nil)

// New checks cfg and returns a Channel; it connects on first use.
func New(cfg Config) (*Channel, error) {
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp: %q is not host:port", cfg.Addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("smtp: port %q is not a number", portStr)
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 8
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = DefaultMaxIdle
	}
	if cfg.TLS == "" {
		cfg.TLS = StartTLS
	}
	domain := "sunset.invalid"
	if i := strings.LastIndexByte(cfg.From, '@'); i >= 0 {
		domain = strings.TrimRight(cfg.From[i+1:], "> ")
	}
	c := &Channel{cfg: cfg, host: host, port: port, domain: domain, pool: make(chan *conn, cfg.Conns), slots: make(chan struct{}, cfg.Conns)}
	if c.mailer, err = c.newMailer(); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return c, nil
}

// Close closes the idle connections.
func (c *Channel) Close() error {
	for {
		select {
		case cn := <-c.pool:
			c.close(cn)
		default:
			return nil
		}
	}
}

// newMailer returns the go-mail client that holds cfg's connection settings.
func (c *Channel) newMailer() (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(c.port), mail.WithTimeout(c.cfg.Timeout), mail.WithHELO("localhost")}
	switch c.cfg.TLS {
	case Implicit:
		// go-mail dials implicit TLS itself: only then does it know the session is encrypted
		// and allow PLAIN or LOGIN authentication over it.
		opts = append(opts, mail.WithSSL())
	case NoTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS), mail.WithDialContextFunc(c.dialTCP))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithDialContextFunc(c.dialTCP))
	}
	tc := c.cfg.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: c.host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, mail.WithTLSConfig(tc))
	if c.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.cfg.Username), mail.WithPassword(c.cfg.Password))
	}
	return mail.NewClient(c.host, opts...)
}

// dialTCP opens the TCP connection of a plain or STARTTLS session with a deadline already set,
// so that a server that accepts and then says nothing cannot hold the greeting forever.
func (c *Channel) dialTCP(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{Timeout: c.cfg.Timeout}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if err := nc.SetDeadline(time.Now().Add(c.cfg.Timeout)); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// get returns an open session: an idle one from the pool when one is young enough, else a new
// one once fewer than Conns are open; it waits for either, or for ctx. reused tells which.
func (c *Channel) get(ctx context.Context) (cn *conn, reused bool, err error) {
	for {
		// An idle session first, without waiting.
		select {
		case cn = <-c.pool:
		default:
			select {
			case cn = <-c.pool:
			case c.slots <- struct{}{}:
				sc, err := c.mailer.DialToSMTPClientWithContext(ctx)
				if err != nil {
					<-c.slots
					return nil, false, err
				}
				return &conn{sc: sc}, false, nil
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
		}
		// A session idle past MaxIdle may have been dropped by the server (many close idle
		// sessions after 30 to 60 s): close it rather than find out by failing a message.
		if c.cfg.Runtime.Now().Sub(cn.idleSince) > c.cfg.MaxIdle {
			c.close(cn)
			continue
		}
		return cn, true, nil
	}
}

// put returns an open session to the pool, or closes it when the pool is full.
func (c *Channel) put(cn *conn) {
	cn.idleSince = c.cfg.Runtime.Now()
	select {
	case c.pool <- cn:
	default:
		c.close(cn)
	}
}

// close ends a session and frees its slot.
func (c *Channel) close(cn *conn) {
	_ = c.mailer.CloseWithSMTPClient(cn.sc)
	<-c.slots
}

// Message builds the email of m.
func (c *Channel) Message(m channel.Message) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8))
	if err := msg.From(c.cfg.From); err != nil {
		return nil, fmt.Errorf("smtp: sender %q: %w", c.cfg.From, err)
	}
	to := m.To.Email
	var err error
	if m.To.Name != "" {
		err = msg.AddToFormat(m.To.Name, to)
	} else {
		err = msg.To(to)
	}
	if err != nil {
		return nil, fmt.Errorf("smtp: recipient %q: %w", to, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.Key + "@" + c.domain)
	msg.SetDate()
	lang := "en"
	if m.Locale == "zh" {
		lang = "zh-CN"
	}
	msg.SetGenHeader(mail.Header("Content-Language"), lang)
	msg.SetGenHeader(mail.Header("X-Sunset-Notice"), m.Sunset+" "+m.Notice)
	if m.Unsubscribe != "" {
		msg.SetGenHeaderPreformatted(mail.Header("List-Unsubscribe"), "<"+m.Unsubscribe+">")
		msg.SetGenHeader(mail.Header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// Send sends m over a pooled connection. A 4xx reply or a connection failure is worth a retry; a
// 5xx reply is permanent, and the reason carries the server's reply code.
//
// A pooled session the server has dropped meanwhile (an idle timeout, a limit of messages per
// session answered with 421) is not a delivery failure: when a reused session fails before the
// server accepted the message's data, Send opens a new session and sends once more. Nothing can
// arrive twice that way, since the server had not taken the message.
func (c *Channel) Send(ctx context.Context, m channel.Message) (bool, error) {
	if m.To.Email == "" {
		return false, errors.New("smtp: the recipient has no email address")
	}
	msg, err := c.Message(m)
	if err != nil {
		return false, err
	}
	for {
		cn, reused, err := c.get(ctx)
		if err != nil {
			return true, fmt.Errorf("smtp: connect to %s: %w", c.cfg.Addr, err)
		}
		err = cn.sc.UpdateDeadline(c.cfg.Timeout)
		if err == nil {
			err = c.mailer.SendWithSMTPClient(cn.sc, msg)
		}
		if err == nil {
			c.put(cn)
			return false, nil
		}
		c.close(cn)
		if reused && stale(err) {
			continue // the next round takes another pooled session or dials a new one
		}
		return classify(err, c.cfg.Addr, m.To.Email)
	}
}

// stale reports whether err says that a session ended before the server took the message: the
// connection check failed, or a command before the end of DATA met a closed connection or a
// 421 ("closing transmission channel").
func stale(err error) bool {
	var se *mail.SendError
	if !errors.As(err, &se) {
		return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded)
	}
	switch se.Reason {
	case mail.ErrConnCheck:
		return true
	case mail.ErrSMTPReset, mail.ErrSMTPMailFrom, mail.ErrSMTPRcptTo, mail.ErrSMTPData:
		code := se.ErrorCode()
		return code == 0 || code == 421
	}
	return false
}

// classify turns a failed send into Send's answer: whether a retry may help, and the reason.
func classify(err error, addr, to string) (bool, error) {
	var se *mail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		if code >= 500 {
			return false, fmt.Errorf("smtp: %s refused %s: %d %w", addr, to, code, err)
		}
		if code >= 400 || se.IsTemp() {
			return true, fmt.Errorf("smtp: %s deferred %s: %d %w", addr, to, code, err)
		}
	}
	return true, fmt.Errorf("smtp: send to %s via %s: %w", to, addr, err)
}
