// Package smtp sends notices as email over SMTP with github.com/wneessen/go-mail: STARTTLS or
// implicit TLS, authentication, multipart text and HTML, List-Unsubscribe (RFC 2369 and the
// one-click form of RFC 8058) on notices one may opt out of, and a Message-ID derived from the
// delivery key so that a message re-sent after a crash carries the same id.
//
// Connections are kept open and reused, up to Conns at once.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/sunsetops/sunset/notify"
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
	// Conns is how many connections may be open at once. Default 8.
	Conns int
	// Timeout bounds dialing and each command. Default 30s.
	Timeout time.Duration
}

// Channel sends email through one server.
type Channel struct {
	cfg    Config
	host   string
	port   int
	domain string
	pool   chan *mail.Client
}

// Interface guard.
var _ notify.Channel = (*Channel)(nil)

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
	if cfg.TLS == "" {
		cfg.TLS = StartTLS
	}
	domain := "sunset.invalid"
	if i := strings.LastIndexByte(cfg.From, '@'); i >= 0 {
		domain = strings.TrimRight(cfg.From[i+1:], "> ")
	}
	return &Channel{cfg: cfg, host: host, port: port, domain: domain, pool: make(chan *mail.Client, cfg.Conns)}, nil
}

// Close closes the idle connections.
func (c *Channel) Close() error {
	for {
		select {
		case cl := <-c.pool:
			_ = cl.Close()
		default:
			return nil
		}
	}
}

func (c *Channel) dial(ctx context.Context) (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(c.port), mail.WithTimeout(c.cfg.Timeout), mail.WithHELO("localhost")}
	switch c.cfg.TLS {
	case Implicit:
		opts = append(opts, mail.WithSSL())
	case NoTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	tc := c.cfg.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: c.host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, mail.WithTLSConfig(tc))
	if c.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.cfg.Username), mail.WithPassword(c.cfg.Password))
	}
	cl, err := mail.NewClient(c.host, opts...)
	if err != nil {
		return nil, err
	}
	if err := cl.DialWithContext(ctx); err != nil {
		return nil, err
	}
	return cl, nil
}

// Message builds the email of m.
func (c *Channel) Message(m notify.Message) (*mail.Msg, error) {
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
func (c *Channel) Send(ctx context.Context, m notify.Message) (bool, error) {
	if m.To.Email == "" {
		return false, errors.New("smtp: the recipient has no email address")
	}
	msg, err := c.Message(m)
	if err != nil {
		return false, err
	}
	var cl *mail.Client
	select {
	case cl = <-c.pool:
	default:
		cl, err = c.dial(ctx)
		if err != nil {
			return true, fmt.Errorf("smtp: connect to %s: %w", c.cfg.Addr, err)
		}
	}
	if err := cl.Send(msg); err != nil {
		_ = cl.Close()
		var se *mail.SendError
		if errors.As(err, &se) {
			code := se.ErrorCode()
			if code >= 500 {
				return false, fmt.Errorf("smtp: %s refused %s: %d %w", c.cfg.Addr, m.To.Email, code, err)
			}
			if code >= 400 || se.IsTemp() {
				return true, fmt.Errorf("smtp: %s deferred %s: %d %w", c.cfg.Addr, m.To.Email, code, err)
			}
		}
		return true, fmt.Errorf("smtp: send to %s via %s: %w", m.To.Email, c.cfg.Addr, err)
	}
	select {
	case c.pool <- cl:
	default:
		_ = cl.Close()
	}
	return false, nil
}
