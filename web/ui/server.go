package ui

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/runbook/runs"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/httpx"
)

// Engine is what the operator pages need of the engine; *engine.Engine implements it.
type Engine interface {
	Statuses(ctx context.Context) ([]*engine.Status, error)
	Status(ctx context.Context, name string) (*engine.Status, error)
	Actions(ctx context.Context, name string) ([]engine.Action, error)
	Plan(ctx context.Context, name string) (*plan.Plan, *plan.Timeline, error)
	Events(ctx context.Context, name string) ([]engine.Event, error)
	VerifyEvents(ctx context.Context, name string) (*engine.Verification, error)
	Guardrails(ctx context.Context, name string) ([]engine.GuardrailResult, error)
	Pause(ctx context.Context, name, actor, reason string) (*engine.Sunset, error)
	Resume(ctx context.Context, name, actor, reason string) (*engine.Sunset, error)
	Signoff(ctx context.Context, name, stakeholder, actor string) (*engine.Sunset, error)
}

// Runbooks is what the pages need of the runbook: the latest run, and approvals.
type Runbooks interface {
	Status(ctx context.Context, name string) (*runs.RunView, error)
	Approve(ctx context.Context, name, step, person, role string) (*runs.RunView, error)
}

// Exports tells where the per-user exports of a sunset stand.
type Exports interface {
	ExportStatus(ctx context.Context, name string) (*client.ExportStatus, error)
}

// Notices shows the ledger of who was told.
type Notices interface {
	Ledger(ctx context.Context, name string, failures int) (*notify.Ledger, error)
}

// FeedbackStore lists the feedback the page shows.
type FeedbackStore interface {
	List(ctx context.Context, sunsetName string, since time.Time) ([]feedback.Feedback, error)
}

// Reports keeps the lessons learned the page edits.
type Reports interface {
	PutLessons(ctx context.Context, name string, l report.Lessons) error
}

// Server serves the operator pages: the overview of every sunset and one sunset's page with
// its panels and forms (pause, resume, sign-off, approvals, lessons), their static assets, and
// the storage failure page other packages answer browsers with. Set its fields, then mount
// Routes; the fields must not change afterwards.
type Server struct {
	// Engine tells the sunsets and carries out the forms. Required.
	Engine Engine
	// Runbooks shows the latest run and takes approvals; nil leaves the runbook panel out.
	Runbooks Runbooks
	// Exports shows the export job; nil leaves the exports panel out.
	Exports Exports
	// Notices shows the ledger; nil leaves the notices panel out.
	Notices Notices
	// Feedback lists the latest messages; nil shows the summary only.
	Feedback FeedbackStore
	// Reports keeps the lessons learned; nil offers no lessons form.
	Reports Reports
	// Breakers tells the notice worker's circuit breakers, shown with the ledger; nil shows none.
	Breakers func() []notify.BreakerState
	// Version is shown in the pages' footer.
	Version string
	// Identify names the caller when authentication is off (see web.Server.Identify).
	Identify func(r *http.Request) (string, error)
	// Runtime tells the time (the engine's clock) and takes the log lines.
	Runtime sunset.Runtime
	// CSRFToken is the anti-forgery token the forms of r's answer carry (auth.Server.CSRFToken).
	CSRFToken func(r *http.Request) string
	// ReportInput gathers the report's input of a sunset, for the figures panels; themes asks
	// for the feedback's themes too (their dictionary takes seconds to load once).
	ReportInput func(ctx context.Context, name string, themes bool) (*report.Input, error)
	// GatewayPhase fills the phase the gateways enforce into st, beside the engine's.
	GatewayPhase func(ctx context.Context, st *engine.Status)
	// Audit records an event of a change made through a form (the lessons).
	Audit func(r *http.Request, name, typ, actor string, data map[string]any) error
	// NotFound answers a path no route matches.
	NotFound http.Handler
}

// Routes are the operator pages' routes.
func (s *Server) Routes() []auth.Route {
	hf := func(f http.HandlerFunc) http.Handler { return f }
	return []auth.Route{
		{Pattern: "GET /{$}", Role: auth.RoleViewer, Handler: hf(s.handleOverview)},
		{Pattern: "GET /s/{name}", Role: auth.RoleViewer, Handler: hf(s.handleSunsetPage)},
		{Pattern: "POST /s/{name}/approvals", Role: auth.RoleApprover, Handler: hf(s.handleUIApprove)},
		{Pattern: "POST /s/{name}/lessons", Role: auth.RoleOperator, Handler: hf(s.handleUILessons)},
		{Pattern: "POST /s/{name}/pause", Role: auth.RoleOperator, Handler: hf(s.handleUIPause)},
		{Pattern: "POST /s/{name}/resume", Role: auth.RoleOperator, Handler: hf(s.handleUIResume)},
		{Pattern: "POST /s/{name}/signoffs", Role: auth.RoleApprover, Handler: hf(s.handleUISignoff)},
		{Pattern: "GET /static/{file}", Role: auth.RolePublic, Handler: hf(s.handleStatic)},
	}
}

// logger returns the server's logger.
func (s *Server) logger() *slog.Logger { return s.Runtime.Log() }

// now tells the time.
func (s *Server) now() time.Time { return s.Runtime.Now() }

// writeError answers err: a page for a browser's storage failure, else a problem.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if s.StoragePage(w, r, err) {
		return
	}
	httpx.WriteError(s.logger(), w, r, err)
}

// actor names the caller of r.
func (s *Server) actor(r *http.Request) (string, error) { return auth.Actor(r, s.Identify) }

// handleNotFound answers a path no route matches.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) { s.NotFound.ServeHTTP(w, r) }

// runbooksEnabled answers a 404 problem when the server runs no runbooks.
func (s *Server) runbooksEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Runbooks == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Runbooks are not run by this server."))
		return false
	}
	return true
}
