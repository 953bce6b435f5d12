package engine

import "time"

// State is where a Sunset stands in its lifecycle.
type State string

// The states of a Sunset. A sunset moves forward through draft → scheduled → announced →
// deprecating → read_only → shut_down → evaluated; paused and cancelled can be entered from any
// state before shut_down (paused is left by Resume, cancelled is final).
const (
	StateDraft       State = "draft"
	StateScheduled   State = "scheduled"
	StateAnnounced   State = "announced"
	StateDeprecating State = "deprecating"
	StateReadOnly    State = "read_only"
	StateShutDown    State = "shut_down"
	StateEvaluated   State = "evaluated"
	StatePaused      State = "paused"
	StateCancelled   State = "cancelled"
)

// Sunset is one plan being carried out.
type Sunset struct {
	ID    int64  `json:"-"`
	Name  string `json:"name"`
	State State  `json:"state"`
	// PausedFrom is the state a paused sunset returns to on Resume.
	PausedFrom State `json:"paused_from,omitempty"`
	// Revision counts applied plan versions, from 1.
	Revision int `json:"revision"`
	// Plan is the YAML of the current plan revision, as applied.
	Plan []byte `json:"-"`
	// PlanHash is the hex SHA-256 of Plan.
	PlanHash string `json:"plan_hash"`
	// Signoffs are the stakeholders who signed off, in order.
	Signoffs []string `json:"signoffs"`
	// HeadSeq and HeadHash are the sequence number and hash of the last event, so that removing
	// the newest events is detected too.
	HeadSeq   int64     `json:"-"`
	HeadHash  string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Announced reports whether the sunset's announcement has happened, the one rule that decides
// whether anything about it is public (its status page, feed, banner, survey, feedback form and
// exports): its state is announced or later, or it was paused from such a state. Draft,
// scheduled and cancelled sunsets are not announced; the engine moves a sunset to announced in
// the same transaction that marks its announce milestone done.
func (s *Sunset) Announced() bool {
	st := s.State
	if st == StatePaused {
		st = s.PausedFrom
	}
	rank, ok := stateRank[st]
	return ok && rank >= stateRank[StateAnnounced]
}

// ClosedDown reports whether the sunset's shutdown milestone has happened: the service is gone
// for its users (shut_down or evaluated).
func (s *Sunset) ClosedDown() bool {
	return s.State == StateShutDown || s.State == StateEvaluated
}

// ActionStatus is where a timeline action stands.
type ActionStatus string

// Action statuses. pending → enqueued → done; held while the sunset is paused or waiting for
// sign-off; superseded when a re-plan removed it; cancelled with the sunset; skipped when an
// operator decided, with a reason, that a failing action shall not run (Engine.Skip).
const (
	ActionPending    ActionStatus = "pending"
	ActionEnqueued   ActionStatus = "enqueued"
	ActionDone       ActionStatus = "done"
	ActionHeld       ActionStatus = "held"
	ActionSuperseded ActionStatus = "superseded"
	ActionCancelled  ActionStatus = "cancelled"
	ActionSkipped    ActionStatus = "skipped"
)

// Action is a timeline action of a Sunset as the engine tracks it.
type Action struct {
	SunsetID int64 `json:"-"`
	// Sunset is the sunset's name, filled by the store on reads.
	Sunset string    `json:"-"`
	Key    string    `json:"key"`
	At     time.Time `json:"at"`
	// Seq is the action's position in its compiled timeline; actions at the same instant run
	// in Seq order.
	Seq      int          `json:"-"`
	Kind     string       `json:"kind"`
	Name     string       `json:"name"`
	Detail   string       `json:"detail"`
	Status   ActionStatus `json:"status"`
	Revision int          `json:"revision"`
	// DoneAt is when the action ran (or was skipped); zero until then.
	DoneAt time.Time `json:"done_at,omitzero"`
	// Attempts counts the runs of the action that failed in a row; zero once it ran, and again
	// when an operator retries it (Resume). LastError is the last failure in words.
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// FailingSince is when the first of these failures happened; RetryAt when the engine tries
	// the action again (zero when it is not waiting for a retry).
	FailingSince time.Time `json:"failing_since,omitzero"`
	RetryAt      time.Time `json:"retry_at,omitzero"`
}

// Failing reports whether the action's last run failed and it has not run since.
func (a *Action) Failing() bool {
	return a.Attempts > 0 && (a.Status == ActionPending || a.Status == ActionEnqueued || a.Status == ActionHeld)
}

// clearFailure forgets the action's failures: it ran, or an operator retries it afresh.
func (a *Action) clearFailure() {
	a.Attempts, a.LastError, a.FailingSince, a.RetryAt = 0, "", time.Time{}, time.Time{}
}
