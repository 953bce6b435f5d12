package public

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/httpx"
	"github.com/sunsetops/sunset/web/intake"
)

// Engine is what the public pages need of the engine; *engine.Engine implements it.
type Engine interface {
	// Get returns one sunset's record; the pages serve only announced ones.
	Get(ctx context.Context, name string) (*engine.Sunset, error)
	// Status returns the status of one sunset.
	Status(ctx context.Context, name string) (*engine.Status, error)
	// Plan returns the sunset's current plan and its compiled timeline.
	Plan(ctx context.Context, name string) (*plan.Plan, *plan.Timeline, error)
	// Events returns the sunset's audit events, oldest first (a suspect pause is marked).
	Events(ctx context.Context, name string) ([]engine.Event, error)
}

// Notices is what the public pages need of the notices: the announcements the status page, the
// feed and the banner show, and the unsubscribes of the signed links.
type Notices interface {
	// Announcements returns the sunset's notices published on its public pages, newest first.
	Announcements(ctx context.Context, name string) ([]notify.Announcement, error)
	// Suppress records that address unsubscribed from the sunset's notices at now.
	Suppress(ctx context.Context, address, sunset string, now time.Time) error
}

// Exports is what the download pages need of the per-user exports. Errors are *sunset.Error
// values, except ErrLinkInvalid and ErrLinkExpired.
type Exports interface {
	// OpenExport checks a download link's token and returns the export it names.
	OpenExport(ctx context.Context, name, token string) (*ExportDownload, error)
}

// FeedbackStore keeps what the feedback form and the survey post.
type FeedbackStore interface {
	// Add stores feedback.
	Add(ctx context.Context, items []feedback.Feedback) error
}

// Server serves the public pages: the status page, its Atom feed, announcements and banner
// script, the feedback form, the survey, the export download pages and the unsubscribe page.
// Set its fields, then mount Routes; the fields must not change afterwards.
type Server struct {
	// Engine tells the sunsets' plans and states. Required.
	Engine Engine
	// Notices shows the announcements and keeps unsubscribes; nil shows none and answers the
	// unsubscribe pages 404.
	Notices Notices
	// Exports opens the download links; nil answers the download pages 404.
	Exports Exports
	// Feedback keeps the form's and the survey's posts; nil answers them 404.
	Feedback FeedbackStore
	// Intake screens the form posts (tokens, other sites, limits). Required.
	Intake *intake.Intake
	// UnsubscribeKey checks the signed unsubscribe links (the key notify's worker signs them
	// with).
	UnsubscribeKey []byte
	// PublicURL is where the public pages are reached, for the absolute links of the feed and
	// the announcements; empty means the request's own host.
	PublicURL string
	// Runtime tells the time (the engine's clock, so that rehearsals agree) and takes the log
	// lines.
	Runtime sunset.Runtime
	// StoragePage, when set, answers a storage failure met by a person's browser with a page in
	// their language and reports true; it reports false for any other error or request, which
	// is then answered with a problem. Nil answers problems only.
	StoragePage func(w http.ResponseWriter, r *http.Request, err error) bool
}

// Routes are the public routes. Every one that names a sunset is served only once the sunset
// is announced (DarkUntilAnnounced, applied by the assembler).
func (s *Server) Routes() []auth.Route {
	hf := func(f http.HandlerFunc) http.Handler { return f }
	return []auth.Route{
		{Pattern: "GET /exports/{name}/{token}", Role: auth.RolePublic, Handler: hf(s.handleExportPage)},
		{Pattern: "GET /exports/{name}/{token}/download", Role: auth.RolePublic, Handler: hf(s.handleExportDownload)},
		{Pattern: "GET /feedback/{name}", Role: auth.RolePublic, Handler: hf(s.handleFeedbackForm)},
		{Pattern: "POST /feedback/{name}", Role: auth.RolePublic, Handler: hf(s.handleFeedbackPost)},
		{Pattern: "GET /survey/{name}", Role: auth.RolePublic, Handler: hf(s.handleSurveyForm)},
		{Pattern: "POST /survey/{name}", Role: auth.RolePublic, Handler: hf(s.handleSurveyPost)},
		{Pattern: "GET /p/{name}", Role: auth.RolePublic, Handler: hf(s.handlePublicPage)},
		{Pattern: "GET /p/{name}/feed.atom", Role: auth.RolePublic, Handler: hf(s.handlePublicFeed)},
		{Pattern: "GET /p/{name}/announcements.json", Role: auth.RolePublic, Handler: hf(s.handlePublicAnnouncements)},
		{Pattern: "GET /p/{name}/banner.js", Role: auth.RolePublic, Handler: hf(s.handleBannerScript)},
		{Pattern: "GET /unsubscribe/{token}", Role: auth.RolePublic, Handler: hf(s.handleUnsubscribeForm)},
		{Pattern: "POST /unsubscribe/{token}", Role: auth.RolePublic, Handler: hf(s.handleUnsubscribePost)},
	}
}

// Limits and names of the public forms.
const (
	maxFeedbackForm  = 16 << 10 // bytes of a form post
	feedbackFormPath = "/feedback/"
	// HoneypotField is the form field that people never see and robots fill: a post that fills
	// it is thanked and dropped.
	HoneypotField = "website"
)

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

// intakes returns the server's Intake.
func (s *Server) intakes() *intake.Intake { return s.Intake }

// feedbackEnabled answers a 404 problem when the server keeps no feedback.
func (s *Server) feedbackEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Feedback == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Feedback is not kept by this server."))
		return false
	}
	return true
}

// noticesEnabled answers a 404 problem when the server keeps no notices.
func (s *Server) noticesEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Notices == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Notices are not kept by this server."))
		return false
	}
	return true
}

// exportsEnabled answers a 404 problem when the server serves no exports.
func (s *Server) exportsEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Exports == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Exports are not served by this server."))
		return false
	}
	return true
}
