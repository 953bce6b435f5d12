package gateway

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
)

// Options configure a Gateway. The zero value is usable.
type Options struct {
	// Clock tells the instant policies are decided at; nil means the wall clock.
	Clock sunset.Clock
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// Usage counts requests and awareness; nil counts nothing.
	Usage *Usage
	// Metrics receives per-phase counts; nil records none.
	Metrics *Metrics
	// NoSimulate ignores the Sunset-Simulate header.
	NoSimulate bool
	// Logger receives policy changes; nil means slog.Default().
	Logger *slog.Logger
}

// Gateway enforces the current policy on requests. Its policy can be swapped at any time
// (SetPolicy) while requests are served; each request is decided under one policy.
type Gateway struct {
	opts Options
	// rt tells the instant: Options.Clock, or the wall clock.
	rt    sunset.Runtime
	state atomic.Pointer[state]
}

// state is one policy and what is derived from it once.
type state struct {
	pol *policy.Policy
	id  Identifier
	// headers holds, per feature index+1 (0 is the service), the header values as ready-made
	// slices, so that the pass path does not allocate them. Their capacity equals their length,
	// so an Add by the upstream's headers copies instead of writing into them.
	headers [][3][]string
	// allow is the Allow header of a 405: the standard methods and the plan's extra ones.
	allow string
}

// New returns a Gateway enforcing pol; a nil pol passes every request untouched until SetPolicy.
func New(pol *policy.Policy, opts Options) *Gateway {
	g := &Gateway{opts: opts, rt: sunset.Runtime{Clock: opts.Clock}}
	if pol != nil {
		g.SetPolicy(pol)
	}
	return g
}

// Middleware compiles a validated plan and returns the middleware enforcing it, for Go services
// that embed the gateway instead of running it in front.
func Middleware(p *plan.Plan, opts Options) (func(http.Handler) http.Handler, error) {
	pol, err := policy.Compile(p, policy.Options{})
	if err != nil {
		return nil, err
	}
	return New(pol, opts).Wrap, nil
}

// SetPolicy makes pol the policy of every request that starts from now on.
func (g *Gateway) SetPolicy(pol *policy.Policy) {
	s := &state{pol: pol, id: newIdentifier(pol.Identify(), g.opts.TrustedProxies),
		allow: strings.Join(append([]string{standardAllow}, pol.Methods()...), ", ")}
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}[:1:1]
	}
	add := func(f *policy.Feature) {
		s.headers = append(s.headers, [3][]string{one(f.Deprecation), one(f.Sunset), one(f.Link)})
	}
	add(pol.Service())
	for i := range pol.Features() {
		add(&pol.Features()[i])
	}
	g.state.Store(s)
}

// Policy returns the policy in force, nil if none.
func (g *Gateway) Policy() *policy.Policy {
	if s := g.state.Load(); s != nil {
		return s.pol
	}
	return nil
}

// Wrap returns next behind the gateway: next is called only for requests the policy passes,
// with the sunset headers already set on w.
func (g *Gateway) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// CONNECT would make the gateway a tunnel to anywhere, TRACE echoes a request's
		// credentials back: neither reaches a retiring service through it.
		if r.Method == http.MethodConnect || r.Method == http.MethodTrace {
			writeMethodProblem(w, r, standardAllow)
			return
		}
		s := g.state.Load()
		if s == nil {
			next.ServeHTTP(w, r)
			return
		}
		// A method the service is not known to serve could mean anything to it (a WebDAV
		// MOVE, a framework's override): only the plan can vouch for it.
		if !s.pol.AllowsMethod(r.Method) {
			writeMethodProblem(w, r, s.allow)
			return
		}
		consumer := s.id.Identify(r)
		req := policy.Request{Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), Consumer: consumer}
		if !g.opts.NoSimulate {
			req.Simulate = simulated(r)
		}
		now := g.rt.Now()
		d := policy.Decide(s.pol, now, req)
		if d.BadPath {
			writeGatewayProblem(w, r, http.StatusBadRequest, "path")
			return
		}
		if d.Path != req.Path {
			// Forward what was decided on, never a spelling the service may read otherwise.
			r = withPath(r, d.Path)
		}
		if d.Warn {
			hv := &s.headers[d.Feature.Index+1]
			h := w.Header()
			if hv[0] != nil {
				h["Deprecation"] = hv[0]
			}
			if hv[1] != nil {
				h["Sunset"] = hv[1]
			}
			if hv[2] != nil {
				h["Link"] = hv[2]
			}
		}
		if u := g.opts.Usage; u != nil && !d.Simulated {
			u.Count(d.Feature.Name, consumer, now)
			if d.Warn {
				u.Told(consumer, now)
			}
		}
		if m := g.opts.Metrics; m != nil {
			m.request(d)
		}
		if d.Pass {
			u := g.opts.Usage
			if u == nil || d.Simulated {
				next.ServeHTTP(w, r)
				return
			}
			sw := statusWriters.Get().(*statusWriter)
			sw.ResponseWriter, sw.status = w, 0
			next.ServeHTTP(sw, r)
			if sw.status >= http.StatusInternalServerError {
				u.Error(d.Feature.Name, consumer, now)
			}
			sw.ResponseWriter = nil
			statusWriters.Put(sw)
			return
		}
		answer(w, r, s.pol, d)
	})
}

// withPath returns a shallow copy of r whose URL has the escaped path p (as http.StripPrefix
// does), so that the service receives the canonical path the policy decided on.
func withPath(r *http.Request, p string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	r2.URL = &u
	unescaped, err := url.PathUnescape(p)
	if err != nil {
		// Not reachable: a canonical path is validly escaped. Keep it as data.
		unescaped = p
	}
	u.Path, u.RawPath = unescaped, p
	if u.EscapedPath() != p || (&url.URL{Path: unescaped}).EscapedPath() == p {
		u.RawPath = ""
	}
	return r2
}

// statusWriters recycles the writers that note the status of passed requests, so that the
// pass path allocates nothing.
var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

// statusWriter notes the final status of an answer (the first one of 200 and above).
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader notes code and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write passes b on; a body without a status is a 200.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush flushes the underlying writer when it can, for streaming answers.
func (w *statusWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection over when the underlying writer can (protocol upgrades).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
