package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/web/httpx"
)

// Authentication. With Server.Auth set (and Auth.Enabled, when given, answering true), every
// route whose least role is not RolePublic demands credentials: an API token (Authorization:
// Bearer sst_...) or the operator UI's session cookie. The caller's role must be at least the
// route's; a session must also carry the anti-forgery token on every request that changes
// something. The caller's name is the actor of the events its calls record, whatever
// X-Sunset-Actor says.

// AuthStore keeps the credentials: API tokens, users' passwords and the UI's sessions. Roles
// are spelled as Role.String spells them. Every refusal is a *sunset.Error with code
// EUNAUTHORIZED whose message may be shown to the caller; any other error is internal.
// *store.Credentials implements it.
type AuthStore interface {
	// Token returns who holds the API token secret and the role it grants.
	Token(ctx context.Context, secret string, now time.Time) (name, role string, err error)
	// Password returns the role of username when password is theirs.
	Password(ctx context.Context, username, password string) (role string, err error)
	// CreateSession starts a session for name with role until expires and returns its secret.
	CreateSession(ctx context.Context, name, role string, now, expires time.Time) (string, error)
	// Session returns who a live session belongs to.
	Session(ctx context.Context, secret string, now time.Time) (name, role string, err error)
	// DeleteSession ends a session; an unknown one is no error.
	DeleteSession(ctx context.Context, secret string) error
}

// storedRole reads a role the AuthStore answered with; a role that is not known grants nothing.
func storedRole(name, role string, err error) (string, Role, error) {
	if err != nil {
		return "", RolePublic, err
	}
	r, perr := ParseRole(role)
	if perr != nil {
		return "", RolePublic, sunset.Errorf(sunset.EUNAUTHORIZED, "These credentials carry no known role.")
	}
	return name, r, nil
}

// Auth turns authentication on for a Server.
type Auth struct {
	// Store keeps tokens, users and sessions. Required.
	Store AuthStore
	// SecureCookie marks the session cookie Secure, so browsers send it over HTTPS only. Set it
	// when the server is reached over TLS (its own, or the public URL is https).
	SecureCookie bool
	// SessionTTL is how long a UI session lasts; zero means 12 hours.
	SessionTTL time.Duration
	// OIDC, when set, offers a login with an OpenID Connect provider (oidc.go).
	OIDC *OIDC
	// Enabled, when set, tells whether authentication is on at now: whether the database holds
	// any live token or user, so that `sunset token create` on the database of a running server
	// turns authentication on without a restart. The server asks at most once every
	// AuthRecheck and uses that answer in between, so a request costs no query for it; an
	// error refuses the request (closed, not open). Nil means always on.
	Enabled func(ctx context.Context, now time.Time) (bool, error)

	// state is Enabled's last answer; stateMu lets one request at a time ask again.
	state   atomic.Pointer[authState]
	stateMu sync.Mutex
	// login bounds login attempts per client address.
	login     httpx.Limiter
	loginOnce sync.Once
}

// AuthRecheck is how long a server uses Auth.Enabled's answer before asking again: a token
// created, or the last one revoked, on a running server's database changes whether it demands
// credentials within this time.
const AuthRecheck = 2 * time.Second

// authState is one answer of Auth.Enabled and when it was asked (a monotonic reading of the
// wall clock, not the server's clock, which a rehearsal may pin).
type authState struct {
	on    bool
	asked time.Time
}

// fresh returns st's answer when st was asked less than AuthRecheck ago.
func (st *authState) fresh() (on, ok bool) {
	if st == nil || time.Since(st.asked) >= AuthRecheck {
		return false, false
	}
	return st.on, true
}

// authOn reports whether the server demands credentials now: never without Auth, always
// without Auth.Enabled, else Enabled's answer of at most AuthRecheck ago. Only a request that
// finds the answer stale asks again, holding the others that find it stale until it has the
// new one, so no request is decided on an older answer.
func (s *Server) authOn(ctx context.Context) (bool, error) {
	a := s.Auth
	if a == nil {
		return false, nil
	}
	if a.Enabled == nil {
		return true, nil
	}
	if on, ok := a.state.Load().fresh(); ok {
		return on, nil
	}
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	prev := a.state.Load()
	if on, ok := prev.fresh(); ok {
		return on, nil
	}
	asked := time.Now()
	on, err := a.Enabled(ctx, s.now())
	if err != nil {
		return false, err
	}
	a.state.Store(&authState{on: on, asked: asked})
	if prev != nil && prev.on != on {
		if on {
			s.logger().Info("authentication is now on: a token or user exists in the database; every route that is not public needs credentials")
		} else {
			s.logger().Warn("authentication is now off: no live token or user is left in the database; the API answers without credentials (loopback only)")
		}
	}
	return on, nil
}

// Names of what authentication puts on the wire.
const (
	// SessionCookie is the cookie that carries a UI session's secret.
	SessionCookie = "sunset_session"
	// CSRFHeader carries the anti-forgery token on scripted UI requests (forms use CSRFField).
	CSRFHeader = "X-CSRF-Token"
	// CSRFField is the hidden field that carries the anti-forgery token in the operator UI's
	// forms.
	CSRFField = "csrf_token"
)

// DefaultSessionTTL is a UI session's life when Auth.SessionTTL is zero.
const DefaultSessionTTL = 12 * time.Hour

// ParseRole reads a role as the CLI and the API spell it: viewer, operator, approver or admin.
func ParseRole(s string) (Role, error) {
	for r := RoleViewer; r <= RoleAdmin; r++ {
		if strings.EqualFold(strings.TrimSpace(s), r.String()) {
			return r, nil
		}
	}
	return RolePublic, sunset.Errorf(sunset.EINVALID, "role %q: use viewer, operator, approver or admin", s)
}

// Principal is the authenticated caller of a request.
type Principal struct {
	// Name is who the caller is: a token's name, a username, an OIDC user. It is the actor of
	// the events the call records.
	Name string
	// Role is what the caller may do.
	Role Role
	// session is the session's secret when the caller came with the UI's cookie, empty for a
	// bearer token; the anti-forgery token derives from it.
	session string
}

// principalKey keys the Principal in a request's context.
type principalKey struct{}

// PrincipalFrom returns the authenticated caller of the request whose context is ctx, or nil
// when authentication is off or the route is public.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// authenticate finds the caller of r: a bearer token first, else the session cookie. No
// credentials at all is EUNAUTHORIZED too.
func (s *Server) authenticate(r *http.Request) (*Principal, error) {
	ctx, now := r.Context(), s.now()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			return nil, sunset.Errorf(sunset.EUNAUTHORIZED, "The Authorization header must be \"Bearer TOKEN\".")
		}
		name, role, err := storedRole(s.Auth.Store.Token(ctx, strings.TrimSpace(secret), now))
		if err != nil {
			return nil, err
		}
		return &Principal{Name: name, Role: role}, nil
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		name, role, err := storedRole(s.Auth.Store.Session(ctx, c.Value, now))
		if err != nil {
			return nil, err
		}
		return &Principal{Name: name, Role: role, session: c.Value}, nil
	}
	return nil, sunset.Errorf(sunset.EUNAUTHORIZED, "This needs credentials: send \"Authorization: Bearer TOKEN\" (sunset token create) or log in at /login.")
}

// Guard wraps the handler of the route rt according to its least role: public routes get the public
// limits; any other demands credentials when authentication is on, a high enough role, and the
// anti-forgery token on a session's unsafe requests.
func (s *Server) Guard(rt Route) http.Handler {
	role, next := rt.Role, rt.Handler
	if role == RolePublic {
		return s.publicLimits(rt.Pattern, next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		on, err := s.authOn(r.Context())
		if err != nil {
			s.writeError(w, r, fmt.Errorf("read whether authentication is on: %w", err))
			return
		}
		if !on {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			s.refuseUnauthenticated(w, r, err)
			return
		}
		if p.Role < role {
			s.writeError(w, r, sunset.Errorf(problem.CodeForbidden, "This needs the %s role; %s has %s.", role, p.Name, p.Role))
			return
		}
		if !safeMethod(r.Method) {
			limit := int64(maxBody)
			if rt.MaxBody > limit {
				limit = rt.MaxBody // a plan bundle carries its contacts
			}
			if r.ContentLength > limit {
				s.writeError(w, r, httpx.TooLarge("The request body", limit))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			if p.session != "" && !s.validCSRF(r, p.session) {
				s.writeError(w, r, sunset.Errorf(problem.CodeForbidden, "The form's anti-forgery token is missing or wrong; reload the page and try again."))
				return
			}
			if err := checkForm(r); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// refuseUnauthenticated answers 401: a browser asking for a page gets the login form, anything
// else a problem with a WWW-Authenticate challenge.
func (s *Server) refuseUnauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html") {
		s.renderLogin(w, r, http.StatusUnauthorized, r.URL.RequestURI(), "")
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="sunset"`)
	s.writeError(w, r, err)
}

// maxBody bounds the body of any request to a route that is not public (413 over it): the
// largest the API takes (a plan, a CSV) is 10 MiB; each handler sets its own limit too.
const maxBody = 10<<20 + 64<<10

// checkForm refuses, on the operator UI's routes (outside /api/), a body that is not a form
// (415, which also keeps out the text/plain posts a foreign page may send without asking) or a
// malformed one (400). An empty body passes.
func checkForm(r *http.Request) error {
	if strings.HasPrefix(r.URL.Path, "/api/") || r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return formError(err)
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return formError(err)
		}
	default:
		return sunset.Errorf(problem.CodeUnsupportedMedia, "The operator UI takes forms (application/x-www-form-urlencoded or multipart/form-data), not %q.", mt)
	}
	return nil
}

// safeMethod reports whether method only reads (RFC 9110 section 9.2.1).
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// CSRFFor derives the anti-forgery token of the session whose secret is session: an HMAC of a
// fixed label under the secret, so it is bound to the session, needs no storage, and tells
// nothing of the secret.
func CSRFFor(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("sunset csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF reports whether r carries the session's anti-forgery token, in the X-CSRF-Token
// header or the csrf_token form field.
func (s *Server) validCSRF(r *http.Request, session string) bool {
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	want := CSRFFor(session)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// CSRFToken returns the anti-forgery token of r's session, which the operator UI's forms embed
// in their CSRFField. It is empty when r has no live session (and always without
// authentication, the loopback-only default).
func (s *Server) CSRFToken(r *http.Request) string {
	if p := PrincipalFrom(r.Context()); p != nil && p.session != "" {
		return CSRFFor(p.session)
	}
	if on, err := s.authOn(r.Context()); err != nil || !on {
		return ""
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	if _, _, err := s.Auth.Store.Session(r.Context(), c.Value, s.now()); err != nil {
		return ""
	}
	return CSRFFor(c.Value)
}
