package auth

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/web/httpx"
)

// Route is one entry of a route table: a Go 1.22 ServeMux pattern, the least role a caller
// needs, and its handler. Every web package hands its routes to the assembler as Routes, so
// that the guard, the security test and the OpenAPI test see one table.
type Route struct {
	Pattern string
	// Role is the least role a caller needs; RolePublic routes need no credentials.
	Role    Role
	Handler http.Handler
	// MaxBody, when set, is the largest body the route takes from an authenticated caller,
	// above the default of about 10 MiB (a plan bundle carries its contacts).
	MaxBody int64
}

// Server guards the routes of a web server and serves the login pages. Set its fields, then
// call Guard for each route and mount Routes; the fields must not change afterwards.
type Server struct {
	// Auth turns authentication on; nil keeps the loopback-only default where every route
	// answers without credentials and X-Sunset-Actor names the actor.
	Auth *Auth
	// Runtime tells the time (the engine's clock, so that rehearsals agree) and takes the log
	// lines.
	Runtime sunset.Runtime
	// PublicURL is where the server is reached; an https URL makes the cookies Secure.
	PublicURL string
	// PublicPerMinute is how many requests a client address may make to the public routes each
	// minute; zero means 600.
	PublicPerMinute int
	// StoragePage, when set, answers a storage failure met by a person's browser with a page in
	// their language and reports true; it reports false for any other error or request, which
	// is then answered with a problem. Nil answers problems only.
	StoragePage func(w http.ResponseWriter, r *http.Request, err error) bool
	// public bounds the requests to the public routes per client address.
	public httpx.Limiter
}

// Routes are the login routes: the form, the post, the logout and the OpenID Connect login.
func (s *Server) Routes() []Route {
	hf := func(f http.HandlerFunc) http.Handler { return f }
	return []Route{
		{Pattern: "GET /login", Role: RolePublic, Handler: hf(s.handleLoginForm)},
		{Pattern: "POST /login", Role: RolePublic, Handler: hf(s.handleLoginPost)},
		{Pattern: "POST /logout", Role: RoleViewer, Handler: hf(s.handleLogout)},
		{Pattern: "GET /login/oidc", Role: RolePublic, Handler: hf(s.handleOIDCLogin)},
		{Pattern: "GET /login/oidc/callback", Role: RolePublic, Handler: hf(s.handleOIDCCallback)},
	}
}

// On reports whether the server has authentication configured (Auth is set), whether or not
// Auth.Enabled answers true right now.
func (s *Server) On() bool { return s.Auth != nil }

// logger returns the server's logger.
func (s *Server) logger() *slog.Logger { return s.Runtime.Log() }

// now tells the time.
func (s *Server) now() time.Time { return s.Runtime.Now() }

// writeError answers err as a problem.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if s.StoragePage != nil && s.StoragePage(w, r, err) {
		return
	}
	httpx.WriteError(s.logger(), w, r, err)
}
