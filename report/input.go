package report

import (
	"encoding/json"
	"time"

	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook/runs"
)

// Input is everything a report is built from. Adapters fill it from the engine and the store;
// every field but Name, Plan and Now may be empty, and the matching section is then left out or
// empty.
type Input struct {
	// Name is the sunset's name; State its lifecycle state ("shut_down", "evaluated"...).
	Name  string
	State string
	// Plan is the sunset's current plan. Required.
	Plan *plan.Plan
	// Signoffs are the stakeholders who signed off.
	Signoffs []string
	// Actions are the timeline actions as the engine tracks them, in timeline order.
	Actions []Action
	// Events are the sunset's audit events, oldest first.
	Events []Event
	// Verification is the result of checking the event chain; nil when not checked.
	Verification *Verification
	// Usage holds the gateways' request counts per feature, consumer and hour.
	Usage []Count
	// UnknownConsumer is the consumer id gateways count unidentified callers under; it is left
	// out of consumer figures. Default "(other)".
	UnknownConsumer string
	// Contacts are the plan's consumers' contacts (id, name, tier), when the plan names a file.
	Contacts []Contact
	// Accounts are the business accounts of the optional accounts CSV (ReadAccounts).
	Accounts []Account
	// Notices are the delivery counts per notice and channel endpoint (the notify ledger).
	Notices []NoticeCount
	// Awareness is how many consumers the notices or the gateways reached.
	Awareness Awareness
	// Feedback is the feedback summary; nil when feedback is not kept.
	Feedback *feedback.Summary
	// Runbook is the latest runbook run; nil when none ran.
	Runbook *RunbookRun
	// Lessons are the stored lessons learned.
	Lessons Lessons
	// Now is the instant the report is generated at.
	Now time.Time
}

// Action is one timeline action: its planned instant and, once it ran, when.
type Action struct {
	Key    string    `json:"key"`
	Kind   string    `json:"kind"`
	Name   string    `json:"name"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	DoneAt time.Time `json:"done_at,omitzero"`
}

// Event is one audit event as the report reads it.
type Event struct {
	Seq   int64           `json:"seq"`
	At    time.Time       `json:"at"`
	Type  string          `json:"type"`
	Actor string          `json:"actor"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Verification is the result of checking the sunset's event hash chain.
type Verification struct {
	OK       bool     `json:"ok"`
	Events   int      `json:"events"`
	Head     string   `json:"head"`
	Problems []string `json:"problems,omitempty"`
}

// Count is the number of requests of one consumer to one feature in one hour.
type Count struct {
	Feature  string
	Consumer string
	Hour     time.Time
	Count    uint64
	// LastAt is the instant of the hour's latest request; zero when the gateway did not send it
	// (Last then falls back to Hour).
	LastAt time.Time
}

// Last is the instant of the count's latest request: LastAt, or the start of its hour when
// that is unknown.
func (c Count) Last() time.Time {
	if !c.LastAt.IsZero() {
		return c.LastAt.UTC()
	}
	return c.Hour.UTC()
}

// Contact is one consumer's contact: who it is and its tier.
type Contact struct {
	ID   string
	Name string
	Tier string
}

// NoticeCount counts the deliveries of one notice over one channel endpoint by outcome.
type NoticeCount struct {
	Notice     string
	Channel    string
	Queued     int
	Retrying   int
	Sent       int
	Delivered  int
	Failed     int
	Suppressed int
	Held       int
}

// Awareness says how many known consumers were told.
type Awareness struct {
	// Known counts consumers with deliveries or an in-band record; Aware those a delivery or a
	// gateway reached; InBand those a gateway told with a Deprecation header.
	Known  int
	Aware  int
	InBand int
}

// RunbookRun is one run of the shutdown runbook. Its states are the runbook's own vocabulary
// (runs.State, runs.StepStatus), the one the operator UI shows too.
type RunbookRun struct {
	State runs.State
	Steps []RunbookStep
}

// RunbookStep is one step of a run.
type RunbookStep struct {
	Name     string
	Kind     string
	Status   runs.StepStatus
	Attempts int
	Started  time.Time
	Ended    time.Time
}

// Lessons are the lessons learned, free text kept with the sunset.
type Lessons struct {
	Text      string    `json:"text"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}
