package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/web/httpx"
)

// Public intake (the feedback form, the survey and the feedback API) feeds the guardrails that
// can pause a sunset, so a hostile website must not be able to make its visitors post to it:
//
//   - A form post that a browser marks as coming from another site (Sec-Fetch-Site cross-site
//     or same-site, or an Origin other than the server's own) is refused; same-origin posts and
//     posts without either header (old browsers, curl) pass to the token check.
//   - Every form page carries a per-page token: an HMAC, under the server's intake key, of the
//     page, the sunset, the client's address and the instant the page was served. A post
//     without a valid token younger than intakeTokenTTL is refused. Either refusal answers the
//     form again, in the reader's language, with what they typed and a fresh token, so that
//     pressing Send once more is all it takes: nothing is lost.
//   - The feedback API takes application/json only (415 otherwise), which a cross-site page
//     cannot send without a CORS preflight that the server never grants; an Origin header other
//     than the server's own is refused too.
//   - Beside the per-address limit, every sunset takes at most FeedbackPerSunset posts a minute
//     from everybody together, so that a crowd of addresses cannot flood one guardrail.

// Names and bounds of the per-page token.
const (
	// intakeTokenField is the hidden form field that carries the token.
	intakeTokenField = "intake_token"
	// intakeTokenTTL is how long a served form stays postable.
	intakeTokenTTL = 4 * time.Hour
	// intakeTokenSkew is how far in the future a token's instant may be (replicas' clocks).
	intakeTokenSkew = 5 * time.Minute
	// intakeTokenVersion starts every token, so that the format can change.
	intakeTokenVersion = "v1"
	// intakeMACLen is the bytes of the HMAC a token keeps (128 bits).
	intakeMACLen = 16
	// maxIntakeToken bounds a token's length before it is parsed.
	maxIntakeToken = 64
)

// The pages a token may be issued for.
const (
	intakePageFeedback = "feedback"
	intakePageSurvey   = "survey"
)

// defaultFeedbackPerSunset is the per-sunset budget of posts a minute when
// Server.FeedbackPerSunset is zero.
const defaultFeedbackPerSunset = 60

// Reasons a post is refused before it is read, as refusedPost reports them.
const (
	refusedCrossSite    = "cross_site"
	refusedTokenMissing = "token_missing"
	refusedTokenExpired = "token_expired"
	refusedTokenInvalid = "token_invalid"
)

// errTokenMalformed is what parseIntakeToken returns for anything that is not a token.
var errTokenMalformed = errors.New("malformed intake token")

// intakeToken is a parsed token: the instant it was issued and its MAC.
type intakeToken struct {
	issued int64 // Unix seconds
	mac    []byte
}

// parseIntakeToken reads "v1.<unix seconds>.<base64url MAC>". It never panics and refuses
// anything else: another version, a sign, leading zeros, spaces, a MAC of another length.
func parseIntakeToken(s string) (intakeToken, error) {
	if len(s) == 0 || len(s) > maxIntakeToken {
		return intakeToken{}, errTokenMalformed
	}
	version, rest, ok := strings.Cut(s, ".")
	if !ok || version != intakeTokenVersion {
		return intakeToken{}, errTokenMalformed
	}
	issued, mac, ok := strings.Cut(rest, ".")
	if !ok || issued == "" || len(issued) > 12 || (len(issued) > 1 && issued[0] == '0') {
		return intakeToken{}, errTokenMalformed
	}
	for _, c := range issued {
		if c < '0' || c > '9' {
			return intakeToken{}, errTokenMalformed
		}
	}
	n, err := strconv.ParseInt(issued, 10, 64)
	if err != nil {
		return intakeToken{}, errTokenMalformed
	}
	sum, err := base64.RawURLEncoding.Strict().DecodeString(mac)
	if err != nil || len(sum) != intakeMACLen {
		return intakeToken{}, errTokenMalformed
	}
	return intakeToken{issued: n, mac: sum}, nil
}

// intakeMAC is the MAC of a token issued at issued for page of sunset name, to the client whose
// address scope is scope.
func intakeMAC(key []byte, page, name, scope string, issued int64) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sunset intake v1\x00" + page + "\x00" + name + "\x00" + scope + "\x00" + strconv.FormatInt(issued, 10)))
	return m.Sum(nil)[:intakeMACLen]
}

// addressScope is what a token is bound to of a client address: the whole IPv4 address, or the
// /64 network of an IPv6 one (a host often moves inside its /64). Anything unparsable is kept as
// it is.
func addressScope(addr string) string {
	ip := net.ParseIP(addr)
	switch {
	case ip == nil:
		return addr
	case ip.To4() != nil:
		return ip.To4().String()
	default:
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
}

// intakeKey returns the key that signs the per-page tokens.
func (s *Server) intakeKey() []byte {
	if len(s.IntakeKey) > 0 {
		return s.IntakeKey
	}
	return s.ephemeralIntakeKey
}

// newIntakeToken issues a token for page of sunset name to r's client, now.
func (s *Server) newIntakeToken(r *http.Request, page, name string) string {
	issued := s.now().Unix()
	return formatIntakeToken(issued, intakeMAC(s.intakeKey(), page, name, addressScope(httpx.ClientAddress(r)), issued))
}

// formatIntakeToken writes a token as parseIntakeToken reads it.
func formatIntakeToken(issued int64, mac []byte) string {
	return intakeTokenVersion + "." + strconv.FormatInt(issued, 10) + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// checkIntakeToken reports why the token r posted for page of sunset name is not valid now, or
// "" when it is.
func (s *Server) checkIntakeToken(r *http.Request, page, name string) string {
	raw := r.PostForm.Get(intakeTokenField)
	if raw == "" {
		return refusedTokenMissing
	}
	tok, err := parseIntakeToken(raw)
	if err != nil {
		return refusedTokenInvalid
	}
	want := intakeMAC(s.intakeKey(), page, name, addressScope(httpx.ClientAddress(r)), tok.issued)
	if subtle.ConstantTimeCompare(tok.mac, want) != 1 {
		return refusedTokenInvalid
	}
	now := s.now()
	at := time.Unix(tok.issued, 0)
	if now.Sub(at) > intakeTokenTTL || at.Sub(now) > intakeTokenSkew {
		return refusedTokenExpired
	}
	return ""
}

// crossSite reports whether the browser says r comes from another site: Sec-Fetch-Site
// cross-site or same-site (a sibling subdomain may belong to somebody else), or an Origin that
// is not the server's own (including "null", sent by sandboxed frames). A request with neither
// header is not judged here: the form's token decides.
func (s *Server) crossSite(r *http.Request) bool {
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Sec-Fetch-Site"))) {
	case "cross-site", "same-site":
		return true
	}
	origin := strings.TrimSpace(r.Header.Get("Origin"))
	return origin != "" && !s.ownOrigin(r, origin)
}

// ownOrigin reports whether origin is where the server's pages are served: the origin of
// PublicURL, or the scheme and host r came in on.
func (s *Server) ownOrigin(r *http.Request, origin string) bool {
	own := []string{s.requestOrigin(r)}
	if s.PublicURL != "" {
		if u, err := url.Parse(s.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
			own = append(own, u.Scheme+"://"+u.Host)
		}
	}
	for _, o := range own {
		if strings.EqualFold(strings.TrimRight(origin, "/"), o) {
			return true
		}
	}
	return false
}

// requestOrigin is the origin r was addressed to.
func (s *Server) requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// allowSunsetIntake applies the per-sunset limit to a post about sunset name: every client
// together may post FeedbackPerSunset times a minute.
func (s *Server) allowSunsetIntake(name string) bool {
	return s.perSunset.Allow(name, s.now())
}

// perSunsetLimit is the per-sunset budget of posts a minute.
func (s *Server) perSunsetLimit() int {
	if s.FeedbackPerSunset > 0 {
		return s.FeedbackPerSunset
	}
	return defaultFeedbackPerSunset
}

// tooManyForSunset is the problem of a post over the per-sunset limit.
func tooManyForSunset(w http.ResponseWriter) error {
	w.Header().Set("Retry-After", "60")
	return &sunset.Error{Code: client.CodeTooMany, Message: "Too many messages are arriving for this service right now; try again in a minute."}
}

// checkAPIIntake refuses a feedback API request that a cross-site page could have sent: a body
// that is not application/json (415), or a browser's mark of another site (403).
func (s *Server) checkAPIIntake(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return sunset.Errorf(client.CodeUnsupportedMedia, "Feedback is sent as application/json; this request's body is %q.", r.Header.Get("Content-Type"))
	}
	if s.crossSite(r) {
		return sunset.Errorf(client.CodeForbidden, "Feedback is not taken from another website's pages; post it from the feedback form or from a server.")
	}
	return nil
}

// randomIntakeKey makes a key for a server that was given none.
func randomIntakeKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// Reasons a form post is held back by a limit, beside the refusals above.
const (
	refusedTooMany = "too_many" // the client's address is over its limit
	refusedBusy    = "busy"     // the sunset is over its limit
)

// intakeRefusals are the sentences a refused form shows above what the person typed, by page
// language and reason. Each says that nothing was sent and how to send it.
var intakeRefusals = map[string]map[string]string{
	"en": {
		refusedCrossSite:    "This message reached us from another website, so it has not been sent. If you wrote it, check it below and press Send.",
		refusedTokenMissing: "This form could not be checked, so your message has not been sent yet. Check it below and press Send again.",
		refusedTokenExpired: "This page was open for a long time, so your message has not been sent yet. Check it below and press Send again.",
		refusedTokenInvalid: "This form could not be checked (it may come from another page or network), so your message has not been sent yet. Check it below and press Send again.",
		refusedTooMany:      "You have sent several messages in the last minute. Wait a minute, then press Send again; your message is kept below.",
		refusedBusy:         "Many messages are arriving for this service right now. Wait a minute, then press Send again; your message is kept below.",
	},
	"zh-Hans": {
		refusedCrossSite:    "这条留言是从其他网站提交过来的，因此尚未发送。如果是您本人所写，请核对下方内容后点击“提交”。",
		refusedTokenMissing: "无法校验此表单，您的留言尚未发送。请核对下方内容后再次点击“提交”。",
		refusedTokenExpired: "此页面打开时间较长，您的留言尚未发送。请核对下方内容后再次点击“提交”。",
		refusedTokenInvalid: "无法校验此表单（可能来自其他页面或网络），您的留言尚未发送。请核对下方内容后再次点击“提交”。",
		refusedTooMany:      "您在一分钟内发送了多条留言。请等待一分钟后再次点击“提交”，您的留言已保留在下方。",
		refusedBusy:         "此服务当前收到的留言过多。请等待一分钟后再次点击“提交”，您的留言已保留在下方。",
	},
}

// screenPublicForm decides whether a parsed form post for page of sunset name may be stored. It
// returns the reason it may not ("" when it may) and the status to answer with (403 for another
// site or a bad token, 429 with Retry-After for a limit), and spam when the honeypot field is
// filled (the caller thanks the sender and stores nothing). Only posts that pass the origin and
// token checks count against the limits.
func (s *Server) screenPublicForm(w http.ResponseWriter, r *http.Request, page, name string) (refusal string, status int, spam bool) {
	log := func(reason string) {
		s.logger().LogAttrs(r.Context(), slog.LevelInfo, "public form: post refused", slog.String("path", r.URL.Path),
			slog.String("reason", reason), slog.String("origin", r.Header.Get("Origin")), slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")))
	}
	if s.crossSite(r) {
		log(refusedCrossSite)
		return refusedCrossSite, http.StatusForbidden, false
	}
	if reason := s.checkIntakeToken(r, page, name); reason != "" {
		log(reason)
		return reason, http.StatusForbidden, false
	}
	if r.PostForm.Get(honeypotField) != "" {
		s.logger().LogAttrs(r.Context(), slog.LevelInfo, "public form: honeypot filled, dropped", slog.String("path", r.URL.Path))
		return "", 0, true
	}
	if !s.limiter.Allow(httpx.ClientAddress(r), s.now()) {
		w.Header().Set("Retry-After", "60")
		return refusedTooMany, http.StatusTooManyRequests, false
	}
	if !s.allowSunsetIntake(name) {
		log(refusedBusy)
		w.Header().Set("Retry-After", "60")
		return refusedBusy, http.StatusTooManyRequests, false
	}
	return "", 0, false
}
