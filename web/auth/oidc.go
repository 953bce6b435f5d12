package auth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
)

// OIDC login: GET /login/oidc sends the browser to the provider (authorization code flow with
// PKCE, a state and a nonce kept in a short-lived cookie); the provider sends it back to GET
// /login/oidc/callback, where the code is exchanged, the ID token's signature, issuer, audience,
// expiry and nonce are checked (go-oidc), and a claim (groups by default) is mapped to a role.

// oidcCookie carries the state, nonce and PKCE verifier between the two legs of the login.
const oidcCookie = "sunset_oidc"

// OIDC configures login with an OpenID Connect provider.
type OIDC struct {
	// Issuer is the provider's issuer URL; its /.well-known/openid-configuration is read at the
	// first login.
	Issuer string
	// ClientID and ClientSecret are the client registered with the provider.
	ClientID, ClientSecret string
	// RedirectURL is where the provider sends the browser back: PUBLIC_URL/login/oidc/callback.
	RedirectURL string
	// RoleClaim names the ID token claim mapped to roles (a string or a list of strings); empty
	// means "groups".
	RoleClaim string
	// Roles maps a value of RoleClaim to a role; a user with several values gets the highest
	// role, one with none is refused.
	Roles map[string]Role
	// NameClaim names the claim recorded as the actor; empty means email, then
	// preferred_username, then sub.
	NameClaim string
	// HTTPClient talks to the provider; nil means a client with a 10-second timeout.
	HTTPClient *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

// client returns the HTTP client for the provider.
func (o *OIDC) client() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// setup discovers the provider once it answers; a failure is retried at the next login.
func (o *OIDC) setup(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client()), o.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("oidc: discover %s: %w", o.Issuer, err)
		}
		o.provider = p
	}
	cfg := &oauth2.Config{
		ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL,
		Endpoint: o.provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email", "groups"},
	}
	return o.provider, cfg, nil
}

// role maps the claims to the highest role their RoleClaim values grant.
func (o *OIDC) role(claims map[string]any) Role {
	key := o.RoleClaim
	if key == "" {
		key = "groups"
	}
	var values []string
	switch v := claims[key].(type) {
	case string:
		values = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				values = append(values, s)
			}
		}
	}
	best := RolePublic
	for _, v := range values {
		if r, ok := o.Roles[v]; ok && r > best {
			best = r
		}
	}
	return best
}

// name picks the actor's name from the claims.
func (o *OIDC) name(claims map[string]any) string {
	keys := []string{"email", "preferred_username", "sub"}
	if o.NameClaim != "" {
		keys = append([]string{o.NameClaim}, keys...)
	}
	for _, k := range keys {
		if s, ok := claims[k].(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// oidcEnabled answers 404 when OIDC login is not configured.
func (s *Server) oidcEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Auth == nil || s.Auth.OIDC == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Single sign-on is not configured on this server."))
		return false
	}
	return true
}

// handleOIDCLogin serves GET /login/oidc: it sends the browser to the provider.
func (s *Server) handleOIDCLogin(w http.ResponseWriter, r *http.Request) {
	if !s.oidcEnabled(w, r) {
		return
	}
	_, cfg, err := s.Auth.OIDC.setup(r.Context())
	if err != nil {
		s.logger().Error("single sign-on", "error", err.Error())
		s.writeError(w, r, &sunset.Error{Code: problem.CodeUnavailable, Message: "The single sign-on provider cannot be reached; try again later or log in with a token."})
		return
	}
	state, nonce, verifier := randomValue(), randomValue(), oauth2.GenerateVerifier()
	next := localNext(r.URL.Query().Get("next"))
	http.SetCookie(w, &http.Cookie{
		Name: oidcCookie, Value: state + "." + nonce + "." + verifier + "." + urlSafe(next), Path: "/login/oidc",
		MaxAge: 600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookie(r),
	})
	http.Redirect(w, r, cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// urlSafe encodes next for the cookie, whose parts are separated by dots.
func urlSafe(next string) string {
	return strings.NewReplacer("%", "%25", ".", "%2E", ";", "%3B", ",", "%2C", " ", "%20", "\"", "%22", "\\", "%5C").Replace(next)
}

// fromURLSafe decodes what urlSafe encoded.
func fromURLSafe(s string) string {
	return strings.NewReplacer("%2E", ".", "%3B", ";", "%2C", ",", "%20", " ", "%22", "\"", "%5C", "\\", "%25", "%").Replace(s)
}

// handleOIDCCallback serves GET /login/oidc/callback: the provider's answer starts a session.
func (s *Server) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	if !s.oidcEnabled(w, r) {
		return
	}
	c, err := r.Cookie(oidcCookie)
	parts := []string{}
	if err == nil {
		parts = strings.SplitN(c.Value, ".", 4)
	}
	q := r.URL.Query()
	if len(parts) != 4 || q.Get("state") == "" || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(q.Get("state"))) != 1 {
		s.writeError(w, r, sunset.Errorf(problem.CodeForbidden, "The sign-on answer does not belong to a login started here; start again at /login."))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Path: "/login/oidc", MaxAge: -1, HttpOnly: true})
	if e := q.Get("error"); e != "" {
		s.writeError(w, r, sunset.Errorf(sunset.EUNAUTHORIZED, "The sign-on provider refused the login (%s).", e))
		return
	}
	provider, cfg, err := s.Auth.OIDC.setup(r.Context())
	if err != nil {
		s.logger().Error("single sign-on", "error", err.Error())
		s.writeError(w, r, &sunset.Error{Code: problem.CodeUnavailable, Message: "The single sign-on provider cannot be reached; try again later or log in with a token."})
		return
	}
	ctx := oidc.ClientContext(r.Context(), s.Auth.OIDC.client())
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(parts[2]))
	if err != nil {
		s.logger().Info("single sign-on: code exchange refused", "error", err.Error())
		s.writeError(w, r, sunset.Errorf(sunset.EUNAUTHORIZED, "The sign-on provider did not accept the login; start again at /login."))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.VerifierContext(ctx, &oidc.Config{ClientID: s.Auth.OIDC.ClientID, Now: s.now}).Verify(ctx, raw)
	if err != nil || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(parts[1])) != 1 {
		reason := "nonce mismatch"
		if err != nil {
			reason = err.Error()
		}
		s.logger().Info("single sign-on: ID token refused", "reason", reason)
		s.writeError(w, r, sunset.Errorf(sunset.EUNAUTHORIZED, "The sign-on answer is not valid; start again at /login."))
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		s.writeError(w, r, sunset.Errorf(sunset.EUNAUTHORIZED, "The sign-on answer is not valid; start again at /login."))
		return
	}
	name, role := s.Auth.OIDC.name(claims), s.Auth.OIDC.role(claims)
	if name == "" || role == RolePublic {
		s.logger().Info("single sign-on: no role", "actor", name)
		s.writeError(w, r, sunset.Errorf(problem.CodeForbidden, "Your account has no Sunset role; ask an administrator to add you to a mapped group."))
		return
	}
	s.startSession(w, r, name, role, localNext(fromURLSafe(parts[3])))
}
