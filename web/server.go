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
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/web/httpx"
)

// Engine is what the server needs of the engine; *engine.Engine implements it. Errors are
// *sunset.Error values (ENOTFOUND for an unknown sunset, ECONFLICT for a wrong state, EINVALID
// for bad input); any other error is internal.
type Engine interface {
	// Apply creates or re-plans the sunset described by the plan in data, read as file.
	Apply(ctx context.Context, file string, data []byte, actor string) (*engine.ApplyResult, error)
	// ApplyBundle is Apply with the files the plan references (a request's parts).
	ApplyBundle(ctx context.Context, file string, data []byte, files plan.Files, actor string) (*engine.ApplyResult, error)
	// Revisions returns the sunset's applied revisions and the files each carried.
	Revisions(ctx context.Context, name string) ([]engine.Revision, error)
	// EraseContacts removes contacts by id from every stored revision of the sunset.
	EraseContacts(ctx context.Context, name string, ids []string, actor string) (int64, error)
	// Statuses returns the status of every sunset.
	Statuses(ctx context.Context) ([]*engine.Status, error)
	// Get returns one sunset's record; the public routes serve only announced ones.
	Get(ctx context.Context, name string) (*engine.Sunset, error)
	// Status returns the status of one sunset.
	Status(ctx context.Context, name string) (*engine.Status, error)
	// Actions returns the sunset's timeline actions as the engine tracks them.
	Actions(ctx context.Context, name string) ([]engine.Action, error)
	// Plan returns the sunset's current plan and its compiled timeline.
	Plan(ctx context.Context, name string) (*plan.Plan, *plan.Timeline, error)
	// Events returns the sunset's audit events, oldest first.
	Events(ctx context.Context, name string) ([]engine.Event, error)
	// VerifyEvents checks the sunset's hash chain.
	VerifyEvents(ctx context.Context, name string) (*engine.Verification, error)
	// Pause holds the sunset's future actions.
	Pause(ctx context.Context, name, actor, reason string) (*engine.Sunset, error)
	// Resume releases a paused sunset; reason is required.
	Resume(ctx context.Context, name, actor, reason string) (*engine.Sunset, error)
	// Cancel ends the sunset for good.
	Cancel(ctx context.Context, name, actor, reason string) (*engine.Sunset, error)
	// Skip marks one action of the sunset skipped, with a reason; a sunset paused by that
	// action's failures resumes.
	Skip(ctx context.Context, name, key, actor, reason string) (*engine.Sunset, error)
	// Signoff records a stakeholder's sign-off.
	Signoff(ctx context.Context, name, stakeholder, actor string) (*engine.Sunset, error)
	// Shift moves every instant still ahead by `by`; reason is required.
	Shift(ctx context.Context, name, by, actor, reason string) (*engine.ShiftResult, error)
	// Guardrails evaluates the sunset's guardrails now.
	Guardrails(ctx context.Context, name string) ([]engine.GuardrailResult, error)
	// MarkEvaluated moves a shut-down sunset to evaluated once its report is written.
	MarkEvaluated(ctx context.Context, name, actor string) (*engine.Sunset, error)
}

// ContactStore reads the contacts stored with a sunset's current plan revision; the store
// implements it. The server never opens a contacts file.
type ContactStore interface {
	// EachContact streams the contacts in file order.
	EachContact(ctx context.Context, sunset string, fn func(contacts.Contact) error) error
	// SummarizeContacts counts them by tier and locale.
	SummarizeContacts(ctx context.Context, sunset string) (*contacts.Summary, error)
}

// The engine is the implementation Engine describes.
var _ Engine = (*engine.Engine)(nil)

// Server serves the Sunset API, probes, metrics and status page. Set its fields, then call
// Handler; the fields must not change afterwards.
type Server struct {
	// Engine carries out the requests. Required.
	Engine Engine
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
	Feedback FeedbackStore
	// Themer finds the themes of feedback text; nil leaves summaries without themes.
	Themer *feedback.Themer
	// Now tells the time for received feedback (the engine's clock, so rehearsals agree);
	// nil means time.Now.
	Now func() time.Time
	// limiter bounds feedback posts per client address.
	limiter httpx.Limiter
	// IntakeKey signs the per-page tokens of the public feedback and survey forms (intake.go);
	// every replica sharing a database should get the same key (store.DB.SigningKey "intake").
	// Nil means a random key made by Handler: forms served before a restart must be sent again.
	IntakeKey []byte
	// FeedbackPerSunset is how many feedback and survey posts one sunset takes a minute from
	// all clients together (then 429); zero means 60.
	FeedbackPerSunset int
	// ephemeralIntakeKey is the key Handler made when IntakeKey is nil.
	ephemeralIntakeKey []byte
	// perSunset bounds feedback posts per sunset.
	perSunset httpx.Limiter
	// Usage records the usage flushes of gateways; nil answers them 503.
	Usage UsageRecorder
	// Phases tells the phase a runbook switched a sunset to ahead of its timeline, applied to
	// the policy served to gateways; nil means the timeline alone.
	Phases PhaseOverrides
	// Runbooks starts, shows, approves, resumes and aborts runbook runs and takes the declared
	// backups; nil turns the runbook and backup routes off (404).
	Runbooks Runbooks
	// Exports serves export status and the public download pages; nil turns them off (404).
	Exports Exports
	// Retention approves and performs the deletion of a sunset's data; nil turns its routes off
	// (404).
	Retention Retention
	// Reports keeps the report's stored figures and lessons; nil turns the report routes off (404).
	Reports Reports
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
	// Auth, when set, demands credentials on every route that is not public (auth.go); nil
	// keeps the loopback-only default where X-Sunset-Actor names the actor.
	Auth *Auth
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
	// planSlots bounds the plans being parsed (plan_limit.go).
	planSlots planSlots
	// Contacts reads the contacts stored with each sunset's plan bundle (the report's names and
	// tiers, the consumers table); nil means none are known.
	Contacts ContactStore
	// public bounds the requests to the public routes per client address.
	public httpx.Limiter
}

// DefaultActor is the actor recorded when a request names none.
const DefaultActor = "api"

// maxActorLen is the longest actor name accepted, in characters.
const maxActorLen = 100

// HeaderActor reads the actor from the X-Sunset-Actor header: trimmed, at most 100 printable
// characters. A request without it (or with only spaces) is DefaultActor; a malformed one is
// refused with EINVALID rather than recorded under another name.
func HeaderActor(r *http.Request) (string, error) {
	v := strings.TrimSpace(r.Header.Get(client.ActorHeader))
	if v == "" {
		return DefaultActor, nil
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxActorLen {
		return "", sunset.Errorf(sunset.EINVALID, "the %s header must be valid UTF-8 of at most %d characters", client.ActorHeader, maxActorLen)
	}
	for _, c := range v {
		if !unicode.IsPrint(c) {
			return "", sunset.Errorf(sunset.EINVALID, "the %s header must hold printable characters only", client.ActorHeader)
		}
	}
	return v, nil
}

// actor names the caller of r through Identify.
func (s *Server) actor(r *http.Request) (string, error) {
	if name, ok := authActor(r); ok {
		return name, nil
	}
	if s.Identify != nil {
		return s.Identify(r)
	}
	return HeaderActor(r)
}

// logger returns the server's logger.
func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// route is one entry of the route table: a Go 1.22 ServeMux pattern and its handler.
type route struct {
	pattern string
	// role is the least role a caller needs; RolePublic routes need no credentials.
	role    Role
	handler http.Handler
}

// routes is the route table. Every route the server answers is here, so that the OpenAPI test
// can walk it; Handler adds only the 404 and 405 fallbacks.
func (s *Server) routes(m *metrics) []route {
	hf := func(f http.HandlerFunc) http.Handler { return f }
	return []route{
		{"GET /{$}", RoleViewer, hf(s.handleOverview)},
		{"GET /s/{name}", RoleViewer, hf(s.handleSunsetPage)},
		{"POST /s/{name}/approvals", RoleApprover, hf(s.handleUIApprove)},
		{"POST /s/{name}/lessons", RoleOperator, hf(s.handleUILessons)},
		{"POST /s/{name}/pause", RoleOperator, hf(s.handleUIPause)},
		{"POST /s/{name}/resume", RoleOperator, hf(s.handleUIResume)},
		{"POST /s/{name}/signoffs", RoleApprover, hf(s.handleUISignoff)},
		{"GET /static/{file}", RolePublic, hf(s.handleStatic)},
		{"GET /healthz", RolePublic, hf(s.handleHealth)},
		{"GET /readyz", RolePublic, hf(s.handleReady)},
		{"GET /metrics", RoleViewer, m.handler()},
		{"GET /api/v1/openapi.json", RolePublic, hf(s.handleOpenAPI)},
		{bundleRoute, RoleOperator, hf(s.handlePlanApply)},
		{"GET /api/v1/sunsets", RoleViewer, hf(s.handleSunsetList)},
		{"GET /api/v1/sunsets/{name}", RoleViewer, hf(s.handleSunsetGet)},
		{"GET /api/v1/sunsets/{name}/timeline", RoleViewer, hf(s.handleTimelineGet)},
		{"GET /api/v1/sunsets/{name}/plan", RoleViewer, hf(s.handleSunsetPlanGet)},
		{"GET /api/v1/sunsets/{name}/next-plan", RoleViewer, hf(s.handleNextPlan)},
		{"GET /api/v1/sunsets/{name}/events", RoleViewer, hf(s.handleEventList)},
		{"GET /api/v1/sunsets/{name}/events/verify", RoleViewer, hf(s.handleEventVerify)},
		{"POST /api/v1/sunsets/{name}/pause", RoleOperator, hf(s.handleSunsetPause)},
		{"POST /api/v1/sunsets/{name}/resume", RoleOperator, hf(s.handleSunsetResume)},
		{"POST /api/v1/sunsets/{name}/skip", RoleOperator, hf(s.handleSunsetSkip)},
		{"POST /api/v1/sunsets/{name}/cancel", RoleOperator, hf(s.handleSunsetCancel)},
		{"POST /api/v1/sunsets/{name}/signoffs", RoleApprover, hf(s.handleSignoffCreate)},
		{"GET /api/v1/sunsets/{name}/policy", RoleViewer, hf(s.handlePolicyGet)},
		{"POST /api/v1/sunsets/{name}/usage", RoleOperator, hf(s.handleUsageCreate)},
		{"POST /api/v1/sunsets/{name}/replan", RoleOperator, hf(s.handleSunsetReplan)},
		{"GET /api/v1/sunsets/{name}/guardrails", RoleViewer, hf(s.handleGuardrailList)},
		{"POST /api/v1/sunsets/{name}/feedback", RolePublic, hf(s.handleFeedbackCreate)},
		{"POST /api/v1/sunsets/{name}/feedback/import", RoleOperator, hf(s.handleFeedbackImport)},
		{"GET /api/v1/sunsets/{name}/feedback/summary", RoleViewer, hf(s.handleFeedbackSummary)},
		{"GET /api/v1/sunsets/{name}/runbook", RoleViewer, hf(s.handleRunbookGet)},
		{"POST /api/v1/sunsets/{name}/runbook/runs", RoleOperator, hf(s.handleRunbookStart)},
		{"POST /api/v1/sunsets/{name}/runbook/approvals", RoleApprover, hf(s.handleRunbookApprove)},
		{"POST /api/v1/sunsets/{name}/runbook/resume", RoleOperator, hf(s.handleRunbookResume)},
		{"POST /api/v1/sunsets/{name}/runbook/abort", RoleOperator, hf(s.handleRunbookAbort)},
		{"GET /api/v1/sunsets/{name}/backups", RoleViewer, hf(s.handleBackupList)},
		{"POST /api/v1/sunsets/{name}/backups", RoleOperator, hf(s.handleBackupCreate)},
		{"GET /api/v1/sunsets/{name}/exports", RoleViewer, hf(s.handleExportStatus)},
		{"POST /api/v1/sunsets/{name}/exports/run", RoleOperator, hf(s.handleExportRun)},
		{"GET /api/v1/sunsets/{name}/exports/check", RoleViewer, hf(s.handleExportCheck)},
		{"POST /api/v1/sunsets/{name}/exports/keep", RoleOperator, hf(s.handleExportKeep)},
		{"GET /api/v1/sunsets/{name}/exports/links/{user}", RoleOperator, hf(s.handleExportLink)},
		{"POST /api/v1/sunsets/{name}/data/delete-approvals", RoleApprover, hf(s.handleDeleteApprove)},
		{"POST /api/v1/sunsets/{name}/data/delete", RoleOperator, hf(s.handleDataDelete)},
		{"GET /api/v1/sunsets/{name}/report", RoleViewer, hf(s.handleReport)},
		{"POST /api/v1/sunsets/{name}/report", RoleOperator, hf(s.handleReport)},
		{"PUT /api/v1/sunsets/{name}/lessons", RoleOperator, hf(s.handleLessonsPut)},
		{"GET /api/v1/sunsets/{name}/contacts", RoleViewer, hf(s.handleContactsGet)},
		{"DELETE /api/v1/sunsets/{name}/contacts/{id}", RoleOperator, hf(s.handleContactErase)},
		{"GET /exports/{name}/{token}", RolePublic, hf(s.handleExportPage)},
		{"GET /exports/{name}/{token}/download", RolePublic, hf(s.handleExportDownload)},
		{"GET /feedback/{name}", RolePublic, hf(s.handleFeedbackForm)},
		{"POST /feedback/{name}", RolePublic, hf(s.handleFeedbackPost)},
		{"GET /survey/{name}", RolePublic, hf(s.handleSurveyForm)},
		{"POST /survey/{name}", RolePublic, hf(s.handleSurveyPost)},
		{"GET /api/v1/sunsets/{name}/notices", RoleViewer, hf(s.handleNoticeLedger)},
		{"GET /p/{name}", RolePublic, hf(s.handlePublicPage)},
		{"GET /p/{name}/feed.atom", RolePublic, hf(s.handlePublicFeed)},
		{"GET /p/{name}/announcements.json", RolePublic, hf(s.handlePublicAnnouncements)},
		{"GET /p/{name}/banner.js", RolePublic, hf(s.handleBannerScript)},
		{"GET /unsubscribe/{token}", RolePublic, hf(s.handleUnsubscribeForm)},
		{"POST /unsubscribe/{token}", RolePublic, hf(s.handleUnsubscribePost)},
		{"GET /login", RolePublic, hf(s.handleLoginForm)},
		{"POST /login", RolePublic, hf(s.handleLoginPost)},
		{"POST /logout", RoleViewer, hf(s.handleLogout)},
		{"GET /login/oidc", RolePublic, hf(s.handleOIDCLogin)},
		{"GET /login/oidc/callback", RolePublic, hf(s.handleOIDCCallback)},
	}
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
	m := newMetrics(s)
	s.perSunset.N = s.perSunsetLimit()
	if len(s.IntakeKey) == 0 && s.ephemeralIntakeKey == nil {
		s.ephemeralIntakeKey = randomIntakeKey()
	}
	mux := http.NewServeMux()
	allow := map[string][]string{}
	for _, rt := range s.routes(m) {
		method, path := splitPattern(rt.pattern)
		h := rt.handler
		if rt.role == RolePublic && namesSunset(path) {
			h = s.darkUntilAnnounced(h)
		}
		mux.Handle(rt.pattern, m.instrument(rt.pattern, s.recoverer(s.guard(rt.role, rt.pattern, h))))
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
		httpx.WriteProblem(w, client.NewProblem(client.CodeMethodNotAllowed,
			fmt.Sprintf("%s is not allowed on %s; use %s.", r.Method, r.URL.Path, allow), nil))
	})
}

// handleNotFound answers every path no route matches.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	httpx.WriteProblem(w, client.NewProblem(sunset.ENOTFOUND,
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
				httpx.WriteProblem(rw, client.NewProblem(sunset.EINTERNAL, httpx.InternalDetail, nil))
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
