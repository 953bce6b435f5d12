package intake

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
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
//     without a valid token younger than TokenTTL is refused. Either refusal answers the
//     form again, in the reader's language, with what they typed and a fresh token, so that
//     pressing Send once more is all it takes: nothing is lost.
//   - The feedback API takes application/json only (415 otherwise), which a cross-site page
//     cannot send without a CORS preflight that the server never grants; an Origin header other
//     than the server's own is refused too.
//   - Beside the per-address limit, every sunset takes at most FeedbackPerSunset posts a minute
//     from everybody together, so that a crowd of addresses cannot flood one guardrail.

// Intake screens the public intake of one server: it issues and checks the forms' per-page
// tokens, tells cross-site posts, and keeps the per-address and per-sunset limits. Set its
// fields before first use; its methods are safe for concurrent use.
type Intake struct {
	// Key signs the per-page tokens; every replica sharing a database should get the same key
	// (store.DB.SigningKey "intake"). Nil means a random key made on first use: forms served
	// before a restart must be sent again.
	Key []byte
	// PerSunset is how many posts one sunset takes a minute from all clients together (then
	// 429); zero means DefaultPerSunset.
	PerSunset int
	// PublicURL is where the public pages are reached; its origin is the server's own, beside
	// the one a request came in on.
	PublicURL string
	// Clock tells the time of tokens and limits; nil means the wall clock.
	Clock sunset.Clock

	once       sync.Once
	ephemeral  []byte
	limitsOnce sync.Once
	perSunset  httpx.Limiter
	perAddress httpx.Limiter
}

// Names and bounds of the per-page token.
const (
	// TokenField is the hidden form field that carries the token.
	TokenField = "intake_token"
	// TokenTTL is how long a served form stays postable.
	TokenTTL = 4 * time.Hour
	// tokenSkew is how far in the future a token's instant may be (replicas' clocks).
	tokenSkew = 5 * time.Minute
	// tokenVersion starts every token, so that the format can change.
	tokenVersion = "v1"
	// MACLen is the bytes of the HMAC a token keeps (128 bits).
	MACLen = 16
	// maxToken bounds a token's length before it is parsed.
	maxToken = 64
)

// The pages a token may be issued for.
const (
	PageFeedback = "feedback"
	PageSurvey   = "survey"
)

// DefaultPerSunset is the per-sunset budget of posts a minute when
// Intake.PerSunset is zero.
const DefaultPerSunset = 60

// Reasons a post is refused before it is read, as refusedPost reports them.
const (
	RefusedCrossSite    = "cross_site"
	RefusedTokenMissing = "token_missing"
	RefusedTokenExpired = "token_expired"
	RefusedTokenInvalid = "token_invalid"
)

// errTokenMalformed is what ParseToken returns for anything that is not a token.
var errTokenMalformed = errors.New("malformed intake token")

// Token is a parsed token: the instant it was issued and its MAC.
type Token struct {
	Issued int64 // Unix seconds
	MAC    []byte
}

// ParseToken reads "v1.<unix seconds>.<base64url MAC>". It never panics and refuses
// anything else: another version, a sign, leading zeros, spaces, a MAC of another length.
func ParseToken(s string) (Token, error) {
	if len(s) == 0 || len(s) > maxToken {
		return Token{}, errTokenMalformed
	}
	version, rest, ok := strings.Cut(s, ".")
	if !ok || version != tokenVersion {
		return Token{}, errTokenMalformed
	}
	issued, mac, ok := strings.Cut(rest, ".")
	if !ok || issued == "" || len(issued) > 12 || (len(issued) > 1 && issued[0] == '0') {
		return Token{}, errTokenMalformed
	}
	for _, c := range issued {
		if c < '0' || c > '9' {
			return Token{}, errTokenMalformed
		}
	}
	n, err := strconv.ParseInt(issued, 10, 64)
	if err != nil {
		return Token{}, errTokenMalformed
	}
	sum, err := base64.RawURLEncoding.Strict().DecodeString(mac)
	if err != nil || len(sum) != MACLen {
		return Token{}, errTokenMalformed
	}
	return Token{Issued: n, MAC: sum}, nil
}

// mac is the MAC of a token issued at issued for page of sunset name, to the client whose
// address scope is scope.
func mac(key []byte, page, name, scope string, issued int64) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sunset intake v1\x00" + page + "\x00" + name + "\x00" + scope + "\x00" + strconv.FormatInt(issued, 10)))
	return m.Sum(nil)[:MACLen]
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

// key returns the key that signs the per-page tokens: Key, else one made at random once.
func (s *Intake) key() []byte {
	if len(s.Key) > 0 {
		return s.Key
	}
	s.once.Do(func() { s.ephemeral = randomKey() })
	return s.ephemeral
}

// now tells the time.
func (s *Intake) now() time.Time { return sunset.Runtime{Clock: s.Clock}.Now() }

// TokenAt is the token for page of sunset name issued at issued to a client at addr.
func (s *Intake) TokenAt(page, name, addr string, issued int64) string {
	return FormatToken(issued, mac(s.key(), page, name, addressScope(addr), issued))
}

// NewToken issues a token for page of sunset name to r's client, now.
func (s *Intake) NewToken(r *http.Request, page, name string) string {
	issued := s.now().Unix()
	return FormatToken(issued, mac(s.key(), page, name, addressScope(httpx.ClientAddress(r)), issued))
}

// FormatToken writes a token as ParseToken reads it.
func FormatToken(issued int64, mac []byte) string {
	return tokenVersion + "." + strconv.FormatInt(issued, 10) + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// CheckToken reports why the token r posted for page of sunset name is not valid now, or
// "" when it is.
func (s *Intake) CheckToken(r *http.Request, page, name string) string {
	raw := r.PostForm.Get(TokenField)
	if raw == "" {
		return RefusedTokenMissing
	}
	tok, err := ParseToken(raw)
	if err != nil {
		return RefusedTokenInvalid
	}
	want := mac(s.key(), page, name, addressScope(httpx.ClientAddress(r)), tok.Issued)
	if subtle.ConstantTimeCompare(tok.MAC, want) != 1 {
		return RefusedTokenInvalid
	}
	now := s.now()
	at := time.Unix(tok.Issued, 0)
	if now.Sub(at) > TokenTTL || at.Sub(now) > tokenSkew {
		return RefusedTokenExpired
	}
	return ""
}

// CrossSite reports whether the browser says r comes from another site: Sec-Fetch-Site
// cross-site or same-site (a sibling subdomain may belong to somebody else), or an Origin that
// is not the server's own (including "null", sent by sandboxed frames). A request with neither
// header is not judged here: the form's token decides.
func (s *Intake) CrossSite(r *http.Request) bool {
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Sec-Fetch-Site"))) {
	case "cross-site", "same-site":
		return true
	}
	origin := strings.TrimSpace(r.Header.Get("Origin"))
	return origin != "" && !s.ownOrigin(r, origin)
}

// ownOrigin reports whether origin is where the server's pages are served: the origin of
// PublicURL, or the scheme and host r came in on.
func (s *Intake) ownOrigin(r *http.Request, origin string) bool {
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
func (s *Intake) requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// AllowSunset applies the per-sunset limit to a post about sunset name: every client together
// may post PerSunset times a minute.
func (s *Intake) AllowSunset(name string) bool {
	s.limitsOnce.Do(func() {
		s.perSunset.N = s.PerSunset
		if s.perSunset.N <= 0 {
			s.perSunset.N = DefaultPerSunset
		}
	})
	return s.perSunset.Allow(name, s.now())
}

// AllowAddress applies the per-address limit (httpx.DefaultPerMinute posts a minute) to a post
// from r's client.
func (s *Intake) AllowAddress(r *http.Request) bool {
	return s.perAddress.Allow(httpx.ClientAddress(r), s.now())
}

// TooManyForSunset is the problem of a post over the per-sunset limit.
func TooManyForSunset(w http.ResponseWriter) error {
	w.Header().Set("Retry-After", "60")
	return &sunset.Error{Code: problem.CodeTooMany, Message: "Too many messages are arriving for this service right now; try again in a minute."}
}

// CheckAPI refuses a feedback API request that a cross-site page could have sent: a body
// that is not application/json (415), or a browser's mark of another site (403).
func (s *Intake) CheckAPI(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return sunset.Errorf(problem.CodeUnsupportedMedia, "Feedback is sent as application/json; this request's body is %q.", r.Header.Get("Content-Type"))
	}
	if s.CrossSite(r) {
		return sunset.Errorf(problem.CodeForbidden, "Feedback is not taken from another website's pages; post it from the feedback form or from a server.")
	}
	return nil
}

// randomKey makes a key for a server that was given none.
func randomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// Reasons a form post is held back by a limit, beside the refusals above.
const (
	RefusedTooMany = "too_many" // the client's address is over its limit
	RefusedBusy    = "busy"     // the sunset is over its limit
)
