package runbook

import (
	"context"
	"errors"
	"time"

	"github.com/sunsetops/sunset/runbook/runs"
)

// The records of runs and the API's requests and answers live in package runs (no drivers), so
// that the web adapter and clients can use them; these aliases keep them runbook's vocabulary.
type (
	State          = runs.State
	StepStatus     = runs.StepStatus
	Run            = runs.Run
	StepState      = runs.StepState
	Override       = runs.Override
	Approval       = runs.Approval
	LogLine        = runs.LogLine
	RunView        = runs.RunView
	ResumeRequest  = runs.ResumeRequest
	DryRun         = runs.DryRun
	DryStep        = runs.DryStep
	BackupRequest  = runs.BackupRequest
	BackupJob      = runs.BackupJob
	BackupOutcome  = runs.BackupOutcome
	BackupList     = runs.BackupList
	BackupArchives = runs.BackupArchives
	Deletion       = runs.Deletion
	BackupRef      = runs.BackupRef
)

// Run states (runs.State).
const (
	StateRunning    = runs.StateRunning
	StateWaiting    = runs.StateWaiting
	StateOperator   = runs.StateOperator
	StateBlocked    = runs.StateBlocked
	StateDone       = runs.StateDone
	StateFailed     = runs.StateFailed
	StateRolledBack = runs.StateRolledBack
	StateAborted    = runs.StateAborted
)

// Step statuses (runs.StepStatus).
const (
	StepPending    = runs.StepPending
	StepRunning    = runs.StepRunning
	StepDone       = runs.StepDone
	StepFailed     = runs.StepFailed
	StepWaiting    = runs.StepWaiting
	StepOperator   = runs.StepOperator
	StepRolledBack = runs.StepRolledBack
	StepSkipped    = runs.StepSkipped
)

// Backup job states (runs.BackupJob.State).
const (
	BackupRunning = runs.BackupRunning
	BackupDone    = runs.BackupDone
	BackupFailed  = runs.BackupFailed
)

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
