package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/web/api"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/httpx"
	"github.com/sunsetops/sunset/web/intake"
	"github.com/sunsetops/sunset/web/public"
	"github.com/sunsetops/sunset/web/ui"
)

// The engine is the implementation Engine describes.
var _ api.Engine = (*engine.Engine)(nil)

// Exports is what the server needs of the per-user exports: the API's status, check, keep
// and links, and the public download pages' links.
type Exports interface {
	api.Exports
	public.Exports
}

// Notices is what the server needs of the notices: the API's ledger, and the public pages'
// announcements and unsubscribes.
type Notices interface {
	api.Notices
	public.Notices
}

// Server is the wiring of the HTTP server: the services each audience's package needs (api, ui,
// public, auth, intake) and the server's own settings. Set its fields, then call
// Handler; the fields must not change afterwards.
type Server struct {
	// Engine carries out the requests. Required.
	Engine api.Engine
	// Logger receives errors and panics; nil means slog.Default().
	Logger *slog.Logger
	// Ready reports whether the server can serve (store reachable, engine started); /readyz
	// answers 503 while it returns an error. Nil means always ready.
	Ready func(ctx context.Context) error
	// Version is shown on the status page and in the sunset_build_info metric.
	Version string
	// Replica names this process among replicas sharing one database; when set, it is the
	// replica label of sunset_build_info.
	Replica string
	// Identify names the caller of a mutating request, recorded as the actor of its events.
	// It is the seam where authentication plugs in: return a *sunset.Error with code
	// EUNAUTHORIZED to refuse the request. Nil means HeaderActor.
	Identify func(r *http.Request) (actor string, err error)
	// Feedback keeps users' feedback; nil turns the feedback routes off (404).
	Feedback api.FeedbackStore
	// Themer finds the themes of feedback text; nil leaves summaries without themes.
	Themer *feedback.Themer
	// Now tells the time for received feedback (the engine's clock, so rehearsals agree);
	// nil means time.Now.
	Now func() time.Time
	// IntakeKey signs the per-page tokens of the public feedback and survey forms (package web/intake);
	// every replica sharing a database should get the same key (store.DB.SigningKey "intake").
	// Nil means a random key made by Handler: forms served before a restart must be sent again.
	IntakeKey []byte
	// FeedbackPerSunset is how many feedback and survey posts one sunset takes a minute from
	// all clients together (then 429); zero means 60.
	FeedbackPerSunset int
	// Usage records the usage flushes of gateways; nil answers them 503.
	Usage api.UsageRecorder
	// Phases tells the phase a runbook switched a sunset to ahead of its timeline, applied to
	// the policy served to gateways; nil means the timeline alone.
	Phases api.PhaseOverrides
	// Runbooks starts, shows, approves, resumes and aborts runbook runs and takes the declared
	// backups; nil turns the runbook and backup routes off (404).
	Runbooks api.Runbooks
	// Exports serves export status and the public download pages; nil turns them off (404).
	Exports Exports
	// Retention approves and performs the deletion of a sunset's data; nil turns its routes off
	// (404).
	Retention api.Retention
	// Reports keeps the report's stored figures and lessons; nil turns the report routes off (404).
	Reports api.Reports
	// Notices shows the ledger of who was told, the announcements of the public pages, and
	// keeps unsubscribes; nil answers the ledger and unsubscribe routes 404 and shows no
	// announcements.
	Notices Notices
	// Breakers tells the notice worker's circuit breaker of each channel endpoint, shown with
	// the ledger; nil shows none.
	Breakers func() []notify.BreakerState
	// UnsubscribeKey checks the signed unsubscribe links (the key notify's worker signs them
	// with).
	UnsubscribeKey []byte
	// PublicURL is where the public pages are reached (https://sunset.example.com), for the
	// absolute links of the feed and the announcements; empty means the request's own host.
	PublicURL string
	// NoticeLinksWarning, when set, is added to the warnings of every applied plan that sends
	// notices to people or endpoints (not only to the public pages): the links in notices point
	// at a loopback address (notify.LoopbackWarning).
	NoticeLinksWarning string
	// MoreMetrics are served at /metrics beside the server's own: the in-process gateway's
	// (sunset serve --upstream). Nil means none.
	MoreMetrics prometheus.Gatherer
	// Auth, when set, demands credentials on every route that is not public (package web/auth); nil
	// keeps the loopback-only default where X-Sunset-Actor names the actor.
	Auth *auth.Auth
	// PublicPerMinute is how many requests a client address may make to the public routes each
	// minute; zero means 600.
	PublicPerMinute int
	// MaxBundle is the largest plan bundle accepted, in bytes; zero means DefaultMaxBundle.
	MaxBundle int64
	// MaxPlanParses is how many plans POST /api/v1/plans parses at once; zero means
	// DefaultMaxPlanParses. A request past it waits up to PlanWait (zero: DefaultPlanWait) for
	// its turn, then is answered 503 with Retry-After.
	MaxPlanParses int
	PlanWait      time.Duration
	// Contacts reads the contacts stored with each sunset's plan bundle (the report's names and
	// tiers, the consumers table); nil means none are known.
	Contacts api.ContactStore
	// guardSrv, intakeSrv and publicSrv are the parts of the last Handler (parts).
	guardSrv  *auth.Server
	intakeSrv *intake.Intake
	publicSrv *public.Server
	uiSrv     *ui.Server
	apiSrv    *api.Server
}

// runtime is the clock and logger the server hands its parts: Now as the clock (the wall
// clock when nil), Logger (slog.Default() when nil).
func (s *Server) runtime() sunset.Runtime {
	rt := sunset.Runtime{Logger: s.logger()}
	if s.Now != nil {
		rt.Clock = clockFunc(s.Now)
	}
	return rt
}

// clockFunc is a sunset.Clock that asks a function.
type clockFunc func() time.Time

// Now calls f.
func (f clockFunc) Now() time.Time { return f() }

// logger returns the server's logger.
func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// route is one entry of the route table (auth.Route).
type route = auth.Route

// routes is the route table. Every route the server answers is here, so that the OpenAPI test
// can walk it; Handler adds only the 404 and 405 fallbacks.
func (s *Server) routes(m *metrics) []route {
	hf := func(f http.HandlerFunc) http.Handler { return f }
	return append(append(s.ui().Routes(), []route{
		{Pattern: "GET /healthz", Role: auth.RolePublic, Handler: hf(s.handleHealth)},
		{Pattern: "GET /readyz", Role: auth.RolePublic, Handler: hf(s.handleReady)},
		{Pattern: "GET /metrics", Role: auth.RoleViewer, Handler: m.handler()},
	}...), append(append(s.api().Routes(), s.public().Routes()...), s.guard().Routes()...)...)
}

// parts builds the servers of each audience from the server's fields; Handler calls it, so a
// new Handler sees fields changed since the last one.
func (s *Server) parts() {
	rt := s.runtime()
	s.intakeSrv = &intake.Intake{Key: s.IntakeKey, PerSunset: s.FeedbackPerSunset, PublicURL: s.PublicURL, Clock: rt.Clock}
	s.publicSrv = &public.Server{Engine: s.Engine, Feedback: s.Feedback, Intake: s.intakeSrv, UnsubscribeKey: s.UnsubscribeKey,
		PublicURL: s.PublicURL, Runtime: rt, StoragePage: s.writeStoragePage}
	if s.Notices != nil {
		s.publicSrv.Notices = s.Notices
	}
	if s.Exports != nil {
		s.publicSrv.Exports = s.Exports
	}
	s.apiSrv = &api.Server{Engine: s.Engine, Runtime: rt, Identify: s.Identify, AuthOn: s.Auth != nil, Intake: s.intakeSrv,
		Feedback: s.Feedback, Themer: s.Themer, Usage: s.Usage, Phases: s.Phases, Runbooks: s.Runbooks, Retention: s.Retention,
		Reports: s.Reports, Breakers: s.Breakers, NoticeLinksWarning: s.NoticeLinksWarning, MaxBundle: s.MaxBundle,
		MaxPlanParses: s.MaxPlanParses, PlanWait: s.PlanWait, Contacts: s.Contacts}
	if s.Exports != nil {
		s.apiSrv.Exports = s.Exports
	}
	if s.Notices != nil {
		s.apiSrv.Notices = s.Notices
	}
	s.uiSrv = &ui.Server{Engine: s.Engine, Breakers: s.Breakers, Version: s.Version, Identify: s.Identify, Runtime: rt,
		ReportInput: s.apiSrv.ReportInput, GatewayPhase: s.apiSrv.WithGatewayPhase, Audit: s.apiSrv.Audit,
		NotFound:  http.HandlerFunc(s.handleNotFound),
		CSRFToken: func(r *http.Request) string { return s.guardSrv.CSRFToken(r) }}
	if s.Runbooks != nil {
		s.uiSrv.Runbooks = s.Runbooks
	}
	if s.Exports != nil {
		s.uiSrv.Exports = s.Exports
	}
	if s.Notices != nil {
		s.uiSrv.Notices = s.Notices
	}
	if s.Feedback != nil {
		s.uiSrv.Feedback = s.Feedback
	}
	if s.Reports != nil {
		s.uiSrv.Reports = s.Reports
	}
	s.guardSrv = &auth.Server{Auth: s.Auth, Runtime: rt, PublicURL: s.PublicURL, PublicPerMinute: s.PublicPerMinute, StoragePage: s.writeStoragePage}
}

// intakes returns the intake screen of the last Handler (made by parts).
func (s *Server) intakes() *intake.Intake {
	if s.intakeSrv == nil {
		s.parts()
	}
	return s.intakeSrv
}

// public returns the public pages of the last Handler (made by parts).
func (s *Server) public() *public.Server {
	if s.publicSrv == nil {
		s.parts()
	}
	return s.publicSrv
}

// api returns the REST API of the last Handler (made by parts).
func (s *Server) api() *api.Server {
	if s.apiSrv == nil {
		s.parts()
	}
	return s.apiSrv
}

// ui returns the operator pages of the last Handler (made by parts).
func (s *Server) ui() *ui.Server {
	if s.uiSrv == nil {
		s.parts()
	}
	return s.uiSrv
}

// guard returns the guard of the last Handler (made by parts).
func (s *Server) guard() *auth.Server {
	if s.guardSrv == nil {
		s.parts()
	}
	return s.guardSrv
}

// splitPattern splits "GET /path" into its method and path.
func splitPattern(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return "", pattern
	}
	return method, path
}

// Handler returns the HTTP handler serving every route. Each call builds a fresh handler with its
// own metrics registry.
func (s *Server) Handler() http.Handler {
	s.parts()
	m := newMetrics(s)
	mux := http.NewServeMux()
	allow := map[string][]string{}
	for _, rt := range s.routes(m) {
		method, path := splitPattern(rt.Pattern)
		if rt.Role == auth.RolePublic && public.NamesSunset(path) {
			rt.Handler = s.public().DarkUntilAnnounced(rt.Handler)
		}
		mux.Handle(rt.Pattern, m.instrument(rt.Pattern, s.recoverer(s.guard().Guard(rt))))
		allow[path] = append(allow[path], method)
		if method == http.MethodGet {
			allow[path] = append(allow[path], http.MethodHead)
		}
	}
	// A path-only pattern is less specific than the same path with a method, so it receives
	// exactly the requests whose method no route accepts: answer them with a 405 problem.
	for path, methods := range allow {
		slices.Sort(methods)
		mux.Handle(path, m.instrument(path, s.methodNotAllowed(methods)))
	}
	mux.Handle("/", m.instrument("unmatched", http.HandlerFunc(s.handleNotFound)))
	return s.recoverer(mux)
}

// methodNotAllowed answers 405 with the Allow header listing methods.
func (s *Server) methodNotAllowed(methods []string) http.Handler {
	allow := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		httpx.WriteProblem(w, problem.NewProblem(problem.CodeMethodNotAllowed,
			fmt.Sprintf("%s is not allowed on %s; use %s.", r.Method, r.URL.Path, allow), nil))
	})
}

// handleNotFound answers every path no route matches.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	httpx.WriteProblem(w, problem.NewProblem(sunset.ENOTFOUND,
		fmt.Sprintf("No such route: %s %s. The API is described at /api/v1/openapi.json.", r.Method, r.URL.Path), nil))
}

// recoverer turns a panic in next into a logged 500 problem, so that no panic reaches a client.
// http.ErrAbortHandler is let through: it is net/http's way to abort a response on purpose.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &statusWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger().LogAttrs(r.Context(), slog.LevelError, "panic serving request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Any("panic", v),
				slog.String("stack", string(debug.Stack())))
			if !rw.wroteHeader {
				httpx.WriteProblem(rw, problem.NewProblem(sunset.EINTERNAL, httpx.InternalDetail, nil))
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

// WriteHeader records code and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes b on.
func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status returns the status written, 200 if none was.
func (w *statusWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
