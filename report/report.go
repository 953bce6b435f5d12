package report

import (
	"slices"
	"time"

	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook/runs"
)

// Report is the evaluation after the shutdown. Its JSON field names are stable and documented
// in docs/report.md; durations are whole seconds, instants RFC 3339 in UTC.
type Report struct {
	// Kind is "report".
	Kind        string    `json:"kind"`
	Sunset      string    `json:"sunset"`
	Title       plan.Text `json:"title"`
	State       string    `json:"state"`
	TimeZone    string    `json:"timezone"`
	GeneratedAt time.Time `json:"generated_at"`

	Timeline   Timeline   `json:"timeline"`
	Consumers  Consumers  `json:"consumers"`
	Notices    Notices    `json:"notices"`
	Feedback   Feedback   `json:"feedback"`
	Guardrails Guardrails `json:"guardrails"`
	Runbook    Runbook    `json:"runbook"`
	Stragglers Stragglers `json:"stragglers"`
	// Business is present when an accounts CSV was given.
	Business *Business `json:"business,omitempty"`
	Events   Chain     `json:"events"`
	Lessons  Lessons   `json:"lessons"`
}

// LateAfter is the tolerance of "late": how long after its planned instant an action may run
// and still be on time. The dispatcher polls and a failing action is retried, so a few seconds
// or minutes of delay are normal.
const LateAfter = 5 * time.Minute

// The timings of a timeline entry (TimelineEntry.Timing).
const (
	// TimingOnTime: it ran no more than LateAfter after its planned instant.
	TimingOnTime = "on_time"
	// TimingLate: it ran more than LateAfter after its planned instant.
	TimingLate = "late"
	// TimingBeforeApply: its planned instant was before the sunset was applied, so it could
	// not run on time; it ran (or was passed over) when the plan was applied. Not late.
	TimingBeforeApply = "before_apply"
	// TimingSkipped: an operator skipped it, with a reason (sunset skip).
	TimingSkipped = "skipped"
	// TimingPending: it has not run (pending, held, cancelled).
	TimingPending = "pending"
	// TimingSuperseded: a re-plan removed it.
	TimingSuperseded = "superseded"
)

// Timeline compares each action's planned instant with when it ran.
type Timeline struct {
	Entries []TimelineEntry `json:"entries"`
	// Done counts the actions that ran; Late those that ran more than LateAfter
	// (LateAfterSeconds) after their planned instant, of those planned after the sunset was
	// applied; BeforeApply those planned before it was applied (never late); Skipped those an
	// operator skipped; Pending those that have not run (held, pending, cancelled...).
	Done             int   `json:"done"`
	Late             int   `json:"late"`
	BeforeApply      int   `json:"before_apply"`
	Skipped          int   `json:"skipped"`
	Pending          int   `json:"pending"`
	LateAfterSeconds int64 `json:"late_after_seconds"`
	// MaxSlipSeconds is the largest slip of the actions planned after the sunset was applied.
	MaxSlipSeconds int64 `json:"max_slip_seconds"`
	// AppliedAt is when the sunset was applied (its sunset.created event); zero when unknown.
	AppliedAt time.Time `json:"applied_at,omitzero"`
	// Shifts are the re-plans that moved dates (sunset.shifted and plan.replanned events).
	Shifts []Shift `json:"shifts"`
}

// TimelineEntry is one action: planned and actual instants. SlipSeconds is actual − planned
// (0 until the action ran, and for an action planned before the sunset was applied); Timing
// sums it up (TimingOnTime, TimingLate, TimingBeforeApply...).
type TimelineEntry struct {
	Key         string    `json:"key"`
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	Planned     time.Time `json:"planned"`
	Actual      time.Time `json:"actual,omitzero"`
	SlipSeconds int64     `json:"slip_seconds"`
	Timing      string    `json:"timing"`
}

// Shift is one re-plan of the sunset.
type Shift struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Type   string    `json:"type"`
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// ActivityWindow is how far back "active at an instant" looks: a consumer is active at the
// announcement (or the shutdown) when it called in the 7 days before it.
const ActivityWindow = 7 * 24 * time.Hour

// Consumers is how the callers went away.
type Consumers struct {
	// Announcement and Shutdown are the instants compared: when the milestone ran, else when
	// it was planned.
	Announcement time.Time `json:"announcement,omitzero"`
	Shutdown     time.Time `json:"shutdown,omitzero"`
	// AtAnnouncement and AtShutdown count the identified consumers active in the
	// ActivityWindow before each instant.
	AtAnnouncement int `json:"at_announcement"`
	AtShutdown     int `json:"at_shutdown"`
	// Migrated counts the consumers active at the announcement and no longer at the shutdown;
	// MigratedShare is Migrated / AtAnnouncement (0 without consumers).
	Migrated      int     `json:"migrated"`
	MigratedShare float64 `json:"migrated_share"`
	// Curve is the migration curve: distinct identified consumers and requests per day in the
	// plan's time zone, oldest first, with no gap between the first and the last day counted.
	Curve []DayPoint `json:"curve"`
	// LastCall is the day of the last counted request before the shutdown, and
	// DaysToZeroTraffic the whole days from the announcement to it (−1 when unknown).
	LastCall          string `json:"last_call,omitempty"`
	DaysToZeroTraffic int    `json:"days_to_zero_traffic"`
}

// DayPoint is one day of the migration curve.
type DayPoint struct {
	Date      string `json:"date"`
	Consumers int    `json:"consumers"`
	Requests  uint64 `json:"requests"`
}

// Notices is what the notices did.
type Notices struct {
	// ByChannel counts deliveries per channel endpoint ("email", "webhook:crm"), sorted.
	ByChannel []ChannelCount `json:"by_channel"`
	Total     ChannelCount   `json:"total"`
	// ConsumersKnown, ConsumersAware and InBand: see Awareness. AwareShare is aware / known.
	ConsumersKnown int     `json:"consumers_known"`
	ConsumersAware int     `json:"consumers_aware"`
	InBand         int     `json:"in_band"`
	AwareShare     float64 `json:"aware_share"`
}

// ChannelCount counts deliveries of one channel endpoint by outcome. Sent counts deliveries
// handed to the channel whose outcome is not recorded yet.
type ChannelCount struct {
	Channel string `json:"channel"`
	Queued  int    `json:"queued"`
	// Retrying counts deliveries that failed at least once and wait for another attempt.
	Retrying   int `json:"retrying"`
	Sent       int `json:"sent"`
	Delivered  int `json:"delivered"`
	Failed     int `json:"failed"`
	Suppressed int `json:"suppressed"`
	// Held counts deliveries held for their loopback links (no public URL).
	Held int `json:"held"`
}

// Feedback sums up what users said.
type Feedback struct {
	Total             int            `json:"total"`
	ByMood            map[string]int `json:"by_mood"`
	NegativeRatio     float64        `json:"negative_ratio"`
	ExtensionRequests int            `json:"extension_requests"`
	Themes            []Theme        `json:"themes"`
	Survey            Survey         `json:"survey"`
}

// Theme is a key phrase of the feedback and how many messages mention it.
type Theme struct {
	Phrase string `json:"phrase"`
	Count  int    `json:"count"`
}

// Survey sums up the survey after the shutdown.
type Survey struct {
	Responses    int            `json:"responses"`
	Satisfaction float64        `json:"satisfaction"`
	Yes          map[string]int `json:"yes"`
	No           map[string]int `json:"no"`
}

// Guardrails lists the trips and pauses.
type Guardrails struct {
	Trips  []Trip  `json:"trips"`
	Pauses []Pause `json:"pauses"`
	// PausedSeconds is the total time paused (an open pause counts until GeneratedAt).
	PausedSeconds int64 `json:"paused_seconds"`
}

// Trip is one guardrail trip.
type Trip struct {
	At time.Time `json:"at"`
	// Guardrails names the conditions that held.
	Guardrails []string `json:"guardrails"`
	// Before is the action the trip held back.
	Before string `json:"before,omitempty"`
	// Then is the guardrails' reaction: "pause", or "notify" (the owners were warned and the
	// sunset went on).
	Then string `json:"then"`
}

// Pause is one pause, by an operator or a guardrail, and how long it lasted.
type Pause struct {
	From time.Time `json:"from"`
	// Until is when it was resumed or cancelled; zero while still paused.
	Until           time.Time `json:"until,omitzero"`
	DurationSeconds int64     `json:"duration_seconds"`
	// Cause is "guardrail" or "operator".
	Cause  string `json:"cause"`
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
	// EndedBy and EndReason say who resumed (or cancelled) it and why.
	EndedBy   string `json:"ended_by,omitempty"`
	EndReason string `json:"end_reason,omitempty"`
}

// Runbook is the latest run of the shutdown runbook.
type Runbook struct {
	// State is the run's state; empty when no run exists.
	State        runs.State    `json:"state"`
	Steps        []RunbookStat `json:"steps"`
	TotalSeconds int64         `json:"total_seconds"`
}

// RunbookStat is one step's outcome and duration (0 when it did not start and end).
type RunbookStat struct {
	Name            string          `json:"name"`
	Kind            string          `json:"kind"`
	Status          runs.StepStatus `json:"status"`
	Attempts        int             `json:"attempts"`
	Started         time.Time       `json:"started,omitzero"`
	Ended           time.Time       `json:"ended,omitzero"`
	DurationSeconds int64           `json:"duration_seconds"`
}

// Stragglers is the traffic after the shutdown: who still knocks on the tombstone. It is
// counted from the shutdown instant, not from the next full hour: usage is kept per hour with
// the instant of each hour's latest request, so the hour the shutdown falls in counts when its
// latest request came at or after the shutdown (InShutdownHour says how many requests that
// hour holds, some of which may precede the shutdown) and not at all when it came before.
type Stragglers struct {
	// Since is the shutdown instant; zero when the sunset has no shutdown milestone.
	Since    time.Time `json:"since,omitzero"`
	Requests uint64    `json:"requests"`
	// InShutdownHour is how many of Requests were counted in the hour the shutdown fell in.
	InShutdownHour uint64      `json:"in_shutdown_hour,omitempty"`
	Consumers      []Straggler `json:"consumers"`
	// Unidentified counts requests from callers the gateway could not name.
	Unidentified uint64 `json:"unidentified"`
}

// Straggler is one consumer still calling after the shutdown.
type Straggler struct {
	Consumer string    `json:"consumer"`
	Name     string    `json:"name,omitempty"`
	Tier     string    `json:"tier,omitempty"`
	Requests uint64    `json:"requests"`
	LastSeen time.Time `json:"last_seen"`
	Features []string  `json:"features"`
}

// Business is the impact on the accounts of the accounts CSV.
type Business struct {
	Accounts []AccountOutcome `json:"accounts"`
	// Outcomes counts accounts per outcome: churned, migrated, retained, at_risk.
	Outcomes map[string]int `json:"outcomes"`
	// RevenueTotal sums every account; RevenueLost the churned ones; RevenueAtRisk those still
	// calling after the shutdown; RevenueMigrated the migrated ones; RevenueRetained the rest.
	RevenueTotal    float64 `json:"revenue_total"`
	RevenueLost     float64 `json:"revenue_lost"`
	RevenueAtRisk   float64 `json:"revenue_at_risk"`
	RevenueMigrated float64 `json:"revenue_migrated"`
	RevenueRetained float64 `json:"revenue_retained"`
}

// AccountOutcome is what became of one account.
type AccountOutcome struct {
	Account string  `json:"account"`
	Revenue float64 `json:"revenue"`
	// Outcome is churned, migrated, retained or at_risk; Source says whether the CSV stated it
	// ("csv") or traffic implied it ("traffic").
	Outcome   string   `json:"outcome"`
	Source    string   `json:"source"`
	Consumers []string `json:"consumers"`
	// StillCalling lists its consumers with requests after the shutdown.
	StillCalling []string `json:"still_calling"`
}

// Chain is the result of verifying the audit events' hash chain.
type Chain struct {
	// Checked is false when no verification was available.
	Checked  bool     `json:"checked"`
	OK       bool     `json:"ok"`
	Events   int      `json:"events"`
	Head     string   `json:"head"`
	Problems []string `json:"problems"`
}

// Build evaluates the sunset described by in. It never fails: a missing figure is an empty
// section.
func Build(in Input) *Report {
	loc := in.Plan.Location()
	r := &Report{
		Kind:        "report",
		Sunset:      in.Name,
		Title:       in.Plan.Service.Title,
		State:       in.State,
		TimeZone:    loc.String(),
		GeneratedAt: in.Now.UTC(),
		Lessons:     in.Lessons,
	}
	if r.Title == (plan.Text{}) {
		r.Title = plan.Text{EN: in.Name}
	}
	r.Timeline = buildTimeline(in)
	announce, shutdown := milestoneInstant(in, plan.Announce), milestoneInstant(in, plan.Shutdown)
	r.Consumers = buildConsumers(in, loc, announce, shutdown)
	r.Notices = buildNotices(in)
	r.Feedback = buildFeedback(in.Feedback)
	r.Guardrails = buildGuardrails(in)
	r.Runbook = buildRunbook(in.Runbook)
	r.Stragglers = buildStragglers(in, shutdown)
	if in.Accounts != nil {
		r.Business = buildBusiness(in, r.Stragglers)
	}
	r.Events = Chain{Problems: []string{}}
	if v := in.Verification; v != nil {
		r.Events = Chain{Checked: true, OK: v.OK, Events: v.Events, Head: v.Head, Problems: slices.Clone(v.Problems)}
		if r.Events.Problems == nil {
			r.Events.Problems = []string{}
		}
	}
	return r
}
