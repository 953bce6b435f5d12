package auth

import (
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/web/httpx"
)

// Limits of the public routes, the ones anybody on the internet can call: each client address
// may make PublicPerMinute requests a minute (then 429 with Retry-After), and a request body may
// hold MaxPublicBody bytes (then 413). The probes and the API description are exempt, so that a
// load balancer is never rate-limited.

// defaultPublicPerMinute is the per-address budget when Server.PublicPerMinute is zero.
const defaultPublicPerMinute = 600

// MaxPublicBody bounds the body of a request to a public route.
const MaxPublicBody = 64 << 10

// unlimitedPublic are the public routes the limits leave alone.
var unlimitedPublic = map[string]bool{
	"GET /healthz":             true,
	"GET /readyz":              true,
	"GET /api/v1/openapi.json": true,
}

// publicLimits wraps the handler of the public route pattern with the rate and size limits.
func (s *Server) publicLimits(pattern string, next http.Handler) http.Handler {
	if unlimitedPublic[pattern] {
		return next
	}
	if s.public.N == 0 {
		s.public.N = s.PublicPerMinute
		if s.public.N <= 0 {
			s.public.N = defaultPublicPerMinute
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.public.Allow(httpx.ClientAddress(r), s.now()) {
			w.Header().Set("Retry-After", "60")
			s.writeError(w, r, &sunset.Error{Code: problem.CodeTooMany, Message: "Too many requests from your address; try again in a minute."})
			return
		}
		if r.ContentLength > MaxPublicBody {
			s.writeError(w, r, httpx.TooLarge("The request body", MaxPublicBody))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, MaxPublicBody)
		}
		next.ServeHTTP(w, r)
	})
}

// Unlimited reports whether the public route pattern is left alone by the rate and size limits
// (the probes and the API description).
func Unlimited(pattern string) bool { return unlimitedPublic[pattern] }
