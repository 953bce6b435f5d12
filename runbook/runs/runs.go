// Package runs holds the records of runbook runs — a run, its steps, approvals and log — and
// the requests and answers about runs and backups that the API carries. It imports nothing but
// the standard library, so that the web adapter and API clients can use the runbook's types
// without the backup drivers the runbook package needs; package runbook aliases every type.
package runs

import (
	"encoding/json"
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

// LogLine is one line of a run's output.
type LogLine struct {
	Seq  int64     `json:"seq"`
	At   time.Time `json:"at"`
	Step string    `json:"step"`
	Line string    `json:"line"`
}

// RunView is a run with its approvals and its log, as the API shows it.
type RunView struct {
	Run
	Approvals []Approval `json:"approvals"`
	Log       []LogLine  `json:"log"`
}

// ResumeRequest is an operator's decision about a run that stopped: mark the interrupted or
// failed step done, or retry it, and/or run past the point of no return without verified
// backups (an override, which needs a reason). An empty request hands a parked run back to the
// worker, which checks again what it waited for.
type ResumeRequest struct {
	MarkDone            bool   `json:"mark_done,omitempty"`
	Retry               bool   `json:"retry,omitempty"`
	OverrideBackupCheck bool   `json:"override_backup_check,omitempty"`
	Reason              string `json:"reason,omitempty"`
}

// DryRun describes the runbook a run of the sunset would carry out, running nothing.
type DryRun struct {
	Sunset string `json:"sunset"`
	// Default is true when the plan declares no runbook and the default one is used.
	Default bool      `json:"default"`
	Steps   []DryStep `json:"steps"`
	// NoReturn is the index in Steps of the first step at or after the point of no return
	// (len(Steps) when none is).
	NoReturn int `json:"no_return"`
	// Backups are the plan's declared backups, each verified in the run before NoReturn.
	Backups []string `json:"backups"`
}

// DryStep is one step of a DryRun.
type DryStep struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Idempotent  bool   `json:"idempotent"`
	Timeout     string `json:"timeout,omitempty"`
	Retries     int    `json:"retries,omitempty"`
	OnFailure   string `json:"on_failure,omitempty"`
}

// BackupRequest asks for a backup of a sunset's data as its plan declares it (data.backups):
// the server takes it with its own signing key and its access to the sources.
type BackupRequest struct {
	// Backup names one data.backups entry; empty means every declared backup.
	Backup string `json:"backup,omitempty"`
	// Verify restores each archive to a scratch place and checks it.
	Verify bool `json:"verify,omitempty"`
}

// Backup job states.
const (
	BackupRunning = "running"
	BackupDone    = "done"
	BackupFailed  = "failed"
)

// BackupJob is a backup the server takes in the background: one per sunset at a time.
type BackupJob struct {
	Sunset    string    `json:"sunset"`
	State     string    `json:"state"`
	StartedBy string    `json:"started_by"`
	Verify    bool      `json:"verify"`
	Started   time.Time `json:"started"`
	Ended     time.Time `json:"ended,omitzero"`
	// Backups are the declared backups the job takes, in order, with their outcome.
	Backups []BackupOutcome `json:"backups"`
	// Progress is the latest progress line of the backup being taken.
	Progress string `json:"progress,omitempty"`
	Error    string `json:"error,omitempty"`
}

// BackupOutcome is one backup of a job.
type BackupOutcome struct {
	Name string `json:"name"`
	// State is pending, running, done or failed.
	State    string `json:"state"`
	Archive  string `json:"archive,omitempty"`
	Verified bool   `json:"verified,omitempty"`
	Error    string `json:"error,omitempty"`
}

// BackupList is what a sunset's declared backups hold at their destinations, and the backup job
// the server runs or ran last.
type BackupList struct {
	Sunset string `json:"sunset"`
	// Backups are the plan's data.backups, each with the archives at its destination.
	Backups []BackupArchives `json:"backups"`
	// Job is the latest backup job this server ran for the sunset, if any.
	Job *BackupJob `json:"job,omitempty"`
}

// BackupArchives is one declared backup and its archives, newest first.
type BackupArchives struct {
	Name     string    `json:"name"`
	To       string    `json:"to"`
	Archives []Archive `json:"archives"`
	// Problem says why the destination could not be read.
	Problem string `json:"problem,omitempty"`
}

// Archive is one archive at a destination, as its manifest describes it (backup.Summary).
type Archive struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Created  time.Time `json:"created"`
	Entries  int       `json:"entries"`
	Bytes    int64     `json:"bytes"`
	Archive  int64     `json:"archive_bytes"`
	Location string    `json:"location"`
	// Problem is set when the manifest could not be read.
	Problem string `json:"problem,omitempty"`
}

// Deletion is what one attempt to delete a service's data did, as its Event records it: the
// data/delete action's, or data.deleted. Nothing was deleted when Deleted is false; Reason says
// why.
type Deletion struct {
	Deleted    bool     `json:"deleted"`
	ApprovedBy []string `json:"approved_by"`
	Reason     string   `json:"reason,omitempty"`
	// What names what was deleted ("directory /srv/data", "command rm -r …").
	What string `json:"what,omitempty"`
	// Backups are where the deleted data is kept.
	Backups []BackupRef `json:"backups,omitempty"`
	// Output is the tail of the delete command's output.
	Output string `json:"output,omitempty"`
}

// EventData is d as an Event's data.
func (d *Deletion) EventData() map[string]any {
	raw, _ := json.Marshal(d)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// BackupRef says where a backup of a deleted source is.
type BackupRef struct {
	Name     string    `json:"name"`
	Archive  string    `json:"archive"`
	Location string    `json:"location"`
	Created  time.Time `json:"created"`
}
