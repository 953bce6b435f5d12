package runbook

import (
	"context"
	"errors"
	"time"
)

// State is where a run stands.
type State string

// Run states. A run is running while a runner drives it; waiting for approvals, for an operator
// (a non-idempotent step was interrupted) or for a backup override (blocked); and ends done,
// failed, rolled_back or aborted.
const (
	StateRunning    State = "running"
	StateWaiting    State = "waiting_approval"
	StateOperator   State = "needs_operator"
	StateBlocked    State = "blocked"
	StateDone       State = "done"
	StateFailed     State = "failed"
	StateRolledBack State = "rolled_back"
	StateAborted    State = "aborted"
)

// Ended reports whether the run is over.
func (s State) Ended() bool {
	return s == StateDone || s == StateFailed || s == StateRolledBack || s == StateAborted
}

// StepStatus is where one step stands.
type StepStatus string

// Step statuses.
const (
	StepPending    StepStatus = "pending"
	StepRunning    StepStatus = "running"
	StepDone       StepStatus = "done"
	StepFailed     StepStatus = "failed"
	StepWaiting    StepStatus = "waiting"
	StepOperator   StepStatus = "needs_operator"
	StepRolledBack StepStatus = "rolled_back"
	StepSkipped    StepStatus = "skipped"
)

// Run is one execution of a runbook, as saved in the Store.
type Run struct {
	ID        int64  `json:"id"`
	Sunset    string `json:"sunset"`
	State     State  `json:"state"`
	StartedBy string `json:"started_by"`
	// Version increases with every save; a save from a stale copy is refused (two runners).
	Version int64        `json:"version"`
	Steps   []*StepState `json:"steps"`
	// Verified maps a data.backups name to the archive verified in this run.
	Verified map[string]string `json:"verified,omitempty"`
	// Overrides records operators' overrides of the backup check.
	Overrides []Override `json:"overrides,omitempty"`
	Message   string     `json:"message,omitempty"`
	Created   time.Time  `json:"created"`
	Updated   time.Time  `json:"updated"`
}

// StepState is the saved state of one step.
type StepState struct {
	Name       string            `json:"name"`
	Kind       string            `json:"kind"`
	Status     StepStatus        `json:"status"`
	Idempotent bool              `json:"idempotent"`
	Attempts   int               `json:"attempts"`
	Started    time.Time         `json:"started,omitzero"`
	Ended      time.Time         `json:"ended,omitzero"`
	Error      string            `json:"error,omitempty"`
	Output     string            `json:"output,omitempty"`
	Result     map[string]string `json:"result,omitempty"`
}

// Override is an operator's decision to run past the point of no return without verified backups.
type Override struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Approval is one person's approval of an approval step.
type Approval struct {
	Step   string    `json:"step"`
	Person string    `json:"person"`
	Role   string    `json:"role"`
	At     time.Time `json:"at"`
}

// Store keeps runs durably. store (SQLite and PostgreSQL) implements it.
type Store interface {
	// CreateRun inserts r and sets r.ID. It fails when the sunset has a run that has not ended.
	CreateRun(ctx context.Context, r *Run) error
	// GetRun returns a run by id; LatestRun the newest run of a sunset (ErrNoRun when none).
	GetRun(ctx context.Context, id int64) (*Run, error)
	LatestRun(ctx context.Context, sunset string) (*Run, error)
	// SaveRun writes r if its stored Version is still r.Version, and increments r.Version;
	// otherwise it returns ErrStale.
	SaveRun(ctx context.Context, r *Run) error
	// AddApproval records an approval; the same person approving the same step twice is ErrDuplicate.
	AddApproval(ctx context.Context, runID int64, a Approval) error
	Approvals(ctx context.Context, runID int64, step string) ([]Approval, error)
	// AppendLog keeps one line of live output.
	AppendLog(ctx context.Context, runID int64, step, line string, at time.Time) error
}

// Errors a Store returns.
var (
	ErrNoRun     = errors.New("runbook: no run")
	ErrStale     = errors.New("runbook: the run was changed by another runner")
	ErrDuplicate = errors.New("runbook: already approved by this person")
	ErrActive    = errors.New("runbook: the sunset already has a run that has not ended")
)

// Events records audit Events in the sunset's hash-chained log (engine.Engine.RecordEvent).
type Events interface {
	Record(ctx context.Context, sunset, typ, actor string, data map[string]any) error
}

// LogLine is one line of a run's output.
type LogLine struct {
	Seq  int64     `json:"seq"`
	At   time.Time `json:"at"`
	Step string    `json:"step"`
	Line string    `json:"line"`
}
