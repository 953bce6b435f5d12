package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/web/auth"
)

// oidcOptions are serve's flags for single sign-on with an OpenID Connect provider.
type oidcOptions struct {
	issuer, clientID, clientSecret, roleClaim, roles, redirectURL string
}

// add declares the flags on f.
func (o *oidcOptions) add(f *pflag.FlagSet) {
	f.StringVar(&o.issuer, "oidc-issuer", "", "single sign-on: the OpenID Connect provider's issuer URL (turns authentication on)")
	f.StringVar(&o.clientID, "oidc-client-id", "", "single sign-on: the client id registered with the provider")
	f.StringVar(&o.clientSecret, "oidc-client-secret", "env:SUNSET_OIDC_CLIENT_SECRET", "single sign-on: the client secret, as env:NAME or file:PATH")
	f.StringVar(&o.roleClaim, "oidc-role-claim", "groups", "single sign-on: the ID token claim mapped to roles")
	f.StringVar(&o.roles, "oidc-roles", "", "single sign-on: claim values and their roles, e.g. sre=operator,release-managers=approver")
	f.StringVar(&o.redirectURL, "oidc-redirect-url", "", "single sign-on: where the provider sends browsers back, e.g. https://sunset.example.com/login/oidc/callback (default: this server's address)")
}

// config builds the web server's OIDC settings; nil when --oidc-issuer is not given.
func (o *oidcOptions) config(publicURL string, getenv func(string) string) (*auth.OIDC, error) {
	if o.issuer == "" {
		return nil, nil
	}
	if o.clientID == "" || o.roles == "" {
		return nil, &exitError{code: 2, msg: "--oidc-issuer needs --oidc-client-id and --oidc-roles (e.g. sre=operator,release-managers=approver)"}
	}
	if !strings.HasPrefix(o.clientSecret, "env:") && !strings.HasPrefix(o.clientSecret, "file:") {
		return nil, &exitError{code: 2, msg: "--oidc-client-secret must be an env:NAME or file:PATH reference, never the secret itself"}
	}
	secret, err := notify.ResolveSecret(plan.Secret(o.clientSecret), getenv)
	if err != nil {
		return nil, fail("--oidc-client-secret: %v", err)
	}
	roles := map[string]auth.Role{}
	for _, pair := range strings.Split(o.roles, ",") {
		value, role, ok := strings.Cut(strings.TrimSpace(pair), "=")
		r, err := auth.ParseRole(role)
		if !ok || value == "" || err != nil {
			return nil, &exitError{code: 2, msg: fmt.Sprintf("--oidc-roles %q: use VALUE=ROLE pairs with roles viewer, operator, approver or admin", pair)}
		}
		roles[value] = r
	}
	redirect := o.redirectURL
	if redirect == "" {
		redirect = strings.TrimRight(publicURL, "/") + "/login/oidc/callback"
	}
	return &auth.OIDC{
		Issuer: o.issuer, ClientID: o.clientID, ClientSecret: secret, RoleClaim: o.roleClaim, Roles: roles,
		RedirectURL: redirect,
	}, nil
}

// serveAuth sets up authentication for serve and reports whether it is on at start. It is on
// for good with --auth, with OIDC, or on an address beyond loopback (unless
// --insecure-listen-anywhere; checkListenAddr refuses that address while authentication is off
// at start); otherwise it follows the database while the server runs: on
// whenever a live token or user exists, read again at most every auth.AuthRecheck, so that
// `sunset token create --db` protects a running server without a restart. A server started open
// stays on its loopback address when that turns authentication on.
func serveAuth(ctx context.Context, o serveOptions, st *store.DB, now time.Time, publicURL string, getenv func(string) string, logger *slog.Logger) (*auth.Auth, bool, error) {
	oidc, err := o.oidc.config(publicURL, getenv)
	if err != nil {
		return nil, false, err
	}
	loopback, err := isLoopback(o.addr)
	if err != nil {
		return nil, false, err
	}
	a := &auth.Auth{Store: st.Credentials(), SecureCookie: strings.HasPrefix(publicURL, "https://"), OIDC: oidc}
	if oidc != nil && strings.HasPrefix(oidc.RedirectURL, "https://") {
		a.SecureCookie = true
	}
	forced := o.auth || oidc != nil
	if !forced && (loopback || o.allowInsecure) {
		// Revoking the last token of an open server's database makes it open again, as a restart
		// would; a server that must not be open is started with --auth.
		a.Enabled = st.AuthConfigured
	}
	configured, err := st.AuthConfigured(ctx, now)
	if err != nil {
		return nil, false, fail("read the credentials: %v", err)
	}
	if forced || configured {
		logger.Info("authentication is on: every route that is not public needs a token or a session")
		return a, true, nil
	}
	logger.Info("authentication is off until a token or user exists in the database: `sunset token create` turns it on without a restart", "within", auth.AuthRecheck)
	return a, false, nil
}

// isLoopback reports whether the host of addr (HOST:PORT) is a loopback address or localhost.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, &exitError{code: 2, msg: fmt.Sprintf("--addr %q: use HOST:PORT, e.g. 127.0.0.1:8080", addr)}
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// checkListenAddr refuses a non-loopback address unless authentication is on (or allow, the
// --insecure-listen-anywhere override): anyone who can reach the API could otherwise pause or
// cancel a sunset.
func checkListenAddr(addr string, authOn, allow bool) error {
	loop, err := isLoopback(addr)
	if err != nil {
		return err
	}
	if loop || authOn || allow {
		return nil
	}
	return fail("refusing to listen on %s: the API has no authentication configured, so only loopback addresses are allowed (create a token with `sunset token create --role admin --name YOU`, or pass --auth, or --insecure-listen-anywhere to override)", addr)
}

// tokenClient returns an HTTP client with a 10-second timeout that presents token as
// "Authorization: Bearer TOKEN" on every request; an empty token presents nothing.
func tokenClient(token string) *http.Client {
	c := &http.Client{Timeout: 10 * time.Second}
	if token != "" {
		c.Transport = bearerTransport{token: token, next: http.DefaultTransport}
	}
	return c
}

// bearerTransport adds a bearer token to each request it sends.
type bearerTransport struct {
	token string
	next  http.RoundTripper
}

// RoundTrip sends a copy of req carrying the token.
func (t bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(req)
}
