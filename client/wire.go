package client

import (
	"time"

	"github.com/sunsetops/sunset/backup/export/progress"
	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/plan"
)

// TransitionRequest is the body of POST /api/v1/sunsets/{name}/pause, /resume and /cancel.
type TransitionRequest struct {
	// Reason says why; required to pause and to resume, optional to cancel. It is recorded in
	// the event.
	Reason string `json:"reason,omitempty"`
}

// SignoffRequest is the body of POST /api/v1/sunsets/{name}/signoffs.
type SignoffRequest struct {
	// Stakeholder is the name of a stakeholder of the plan.
	Stakeholder string `json:"stakeholder"`
}

// SkipRequest is the body of POST /api/v1/sunsets/{name}/skip.
type SkipRequest struct {
	// Action is the key of the action to skip, as `sunset status` and the timeline name it
	// ("notice/0", "runbook/start").
	Action string `json:"action"`
	// Reason says why it shall not run; required, recorded in the event.
	Reason string `json:"reason"`
}

// ReplanRequest is the body of POST /api/v1/sunsets/{name}/replan.
type ReplanRequest struct {
	// Shift moves every instant still ahead, e.g. "14d" or "-1w".
	Shift string `json:"shift"`
	// Reason says why; required. It is recorded in the event.
	Reason string `json:"reason"`
}

// RunStartRequest is the body of POST /api/v1/sunsets/{name}/runbook/runs.
type RunStartRequest struct {
	// DryRun describes the steps and the point of no return; nothing is started.
	DryRun bool `json:"dry_run,omitempty"`
}

// ApprovalRequest is the body of POST /api/v1/sunsets/{name}/runbook/approvals.
type ApprovalRequest struct {
	Step string `json:"step"`
	Role string `json:"role,omitempty"`
}

// UsageResult is the answer to a usage flush.
type UsageResult struct {
	// Applied is false when the flush (gateway, seq) had already been recorded.
	Applied bool `json:"applied"`
}

// ContactsAnswer is the body of GET /api/v1/sunsets/{name}/contacts: the counts, and the rows
// when asked for with ?rows=1.
type ContactsAnswer struct {
	contacts.Summary
	// Revisions are the applied revisions and the files each carried.
	Revisions []engine.Revision  `json:"revisions"`
	Rows      []contacts.Contact `json:"rows,omitempty"`
}

// Erased is the body of DELETE /api/v1/sunsets/{name}/contacts/{id}.
type Erased struct {
	// Removed counts the rows removed, one per stored revision's copy.
	Removed int64 `json:"removed"`
}

// ImportResult is the answer of a CSV import.
type ImportResult struct {
	Imported int                      `json:"imported"`
	Problems []feedback.ImportProblem `json:"problems"`
}

// Timeline is the body of GET /api/v1/sunsets/{name}/timeline: the sunset's actions with the
// engine's progress on each, their instants shown in the plan's time zone.
type Timeline struct {
	// Service is the name of the service being retired.
	Service string `json:"service"`
	// TimeZone is the plan's IANA time zone; every At is written in it.
	TimeZone string `json:"timezone"`
	// Actions are sorted by instant.
	Actions []TimelineAction `json:"actions"`
}

// TimelineAction is one action of a Timeline.
type TimelineAction struct {
	// Key identifies the action across re-plans ("milestone/shutdown", "notice/2").
	Key string `json:"key"`
	// At is when the action is due, in the plan's time zone (RFC 3339 in JSON).
	At time.Time `json:"at"`
	// Kind is milestone, feature, brownout, notice, guardrail, runbook or data.
	Kind string `json:"kind"`
	// Name is the action's name; a milestone's is the milestone's own.
	Name string `json:"name"`
	// Detail describes the action in a sentence.
	Detail string `json:"detail"`
	// Status is pending, enqueued, done, held, superseded or cancelled.
	Status engine.ActionStatus `json:"status"`
	// DoneAt is when the action ran, in the plan's time zone; absent until then.
	DoneAt *time.Time `json:"done_at,omitempty"`
}

// ExportRunRequest is the body of POST /api/v1/sunsets/{name}/exports/run. Zero values mean the
// server's defaults.
type ExportRunRequest struct {
	// Batch is how many users are handled between two saves of the job.
	Batch int `json:"batch,omitempty"`
	// Workers is how many users are fetched at once.
	Workers int `json:"workers,omitempty"`
	// RetryFailed exports again the users whose export failed.
	RetryFailed bool `json:"retry_failed,omitempty"`
}

// DeleteApprovals are the people who approved the deletion of a sunset's data, and how many
// approvals its plan asks for (data.retention.approvals).
type DeleteApprovals struct {
	ApprovedBy []string `json:"approved_by"`
	Needed     int      `json:"needed"`
}

// ExportStatus is where the exports of a sunset stand: the job, the counts, and whether this
// server is running the job.
type ExportStatus struct {
	progress.Status
	// Running is true while the server runs the job; RunError is why its last run stopped early.
	Running  bool   `json:"running"`
	RunError string `json:"run_error,omitempty"`
}

// ExportKept is the answer of POST /api/v1/sunsets/{name}/exports/keep: the verified backup
// archive that now keeps the exports no one downloaded (empty when there was nothing to keep),
// and how many it keeps.
type ExportKept struct {
	Archive string `json:"archive,omitempty"`
	Kept    int64  `json:"kept"`
}

// ExportLink is one user's download link.
type ExportLink struct {
	User string `json:"user"`
	URL  string `json:"url"`
}

// PublicAnnouncements is the answer of GET /p/{name}/announcements.json: the service and its
// published notices, newest first, in English and Chinese.
type PublicAnnouncements struct {
	Sunset   string    `json:"sunset"`
	Title    plan.Text `json:"title"`
	State    string    `json:"state"`
	Shutdown time.Time `json:"shutdown,omitzero"`
	// StatusURL, FeedbackURL and FeedURL are absolute links to the public pages.
	StatusURL     string               `json:"status_url"`
	FeedbackURL   string               `json:"feedback_url"`
	FeedURL       string               `json:"feed_url"`
	Announcements []PublicAnnouncement `json:"announcements"`
}

// PublicAnnouncement is one published notice in both languages.
type PublicAnnouncement struct {
	ID       string   `json:"id"`
	Notice   string   `json:"notice"`
	Template string   `json:"template"`
	Channels []string `json:"channels"`
	// Banner is true when the notice asked for the website banner.
	Banner    bool      `json:"banner"`
	Mandatory bool      `json:"mandatory"`
	At        time.Time `json:"at"`
	Title     plan.Text `json:"title"`
	Text      plan.Text `json:"text"`
	URL       string    `json:"url"`
}

// ActorHeader is the request header that names the actor of a mutating call until
// authentication exists.
const ActorHeader = "X-Sunset-Actor"
