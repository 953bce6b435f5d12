package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/httpx"
	"github.com/sunsetops/sunset/web/intake"
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

// Server serves the REST API under /api/v1 and its OpenAPI document. Set its fields, then
// mount Routes; the fields must not change afterwards.
type Server struct {
	// Engine carries out the requests. Required.
	Engine Engine
	// Runtime tells the time (the engine's clock, so rehearsals agree) and takes the log lines.
	Runtime sunset.Runtime
	// Identify names the caller when authentication is off (see web.Server.Identify).
	Identify func(r *http.Request) (actor string, err error)
	// AuthOn says the server has authentication configured: the contacts' rows then need the
	// operator role.
	AuthOn bool
	// Intake screens the feedback API's posts (the public forms share it). Required.
	Intake *intake.Intake
	// Feedback keeps users' feedback; nil turns the feedback routes off (404).
	Feedback FeedbackStore
	// Themer finds the themes of feedback text; nil leaves summaries without themes.
	Themer *feedback.Themer
	// Usage records the usage flushes of gateways; nil answers them 503.
	Usage UsageRecorder
	// Phases tells the phase a runbook switched a sunset to ahead of its timeline; nil means the
	// timeline alone.
	Phases PhaseOverrides
	// Runbooks runs the runbooks and takes the declared backups; nil turns their routes off.
	Runbooks Runbooks
	// Exports serves export status; nil turns its routes off (404).
	Exports Exports
	// Retention approves and performs the deletion of a sunset's data; nil turns it off.
	Retention Retention
	// Reports keeps the report's stored figures and lessons; nil turns the report routes off.
	Reports Reports
	// Notices shows the ledger of who was told; nil answers the ledger 404.
	Notices Notices
	// Breakers tells the notice worker's circuit breakers, shown with the ledger; nil shows none.
	Breakers func() []notify.BreakerState
	// NoticeLinksWarning, when set, is added to the warnings of every applied plan that sends
	// notices to people or endpoints (notify.LoopbackWarning).
	NoticeLinksWarning string
	// MaxBundle is the largest plan bundle accepted, in bytes; zero means DefaultMaxBundle.
	MaxBundle int64
	// MaxPlanParses is how many plans POST /api/v1/plans parses at once; zero means
	// DefaultMaxPlanParses. A request past it waits up to PlanWait (zero: DefaultPlanWait).
	MaxPlanParses int
	PlanWait      time.Duration
	// Contacts reads the contacts stored with each sunset's plan bundle; nil means none.
	Contacts ContactStore

	// planSlots bounds the plans being parsed (plan_limit.go).
	planSlots planSlots
}

// logger returns the server's logger.
func (s *Server) logger() *slog.Logger { return s.Runtime.Log() }

// writeError answers err as a problem.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(s.logger(), w, r, err)
}

// actor names the caller of r: the authenticated caller, else through Identify.
func (s *Server) actor(r *http.Request) (string, error) { return auth.Actor(r, s.Identify) }

// intakes returns the server's Intake.
func (s *Server) intakes() *intake.Intake { return s.Intake }
