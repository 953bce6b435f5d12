package export

import (
	"context"
	"errors"
	"time"

	"github.com/sunsetops/sunset/backup/export/progress"
	"github.com/sunsetops/sunset/contacts"
)

// JobState is where an export job stands (progress.JobState).
type JobState = progress.JobState

// Job states.
const (
	JobRunning = progress.JobRunning
	JobDone    = progress.JobDone
)

// UserState is where one user's export stands.
type UserState string

// User states.
const (
	UserDone   UserState = "done"
	UserFailed UserState = "failed"
)

// Job is the export job of one sunset.
type Job = progress.Job

// User is the export of one user.
type User struct {
	Sunset   string    `json:"sunset"`
	ID       string    `json:"id"`
	Seq      int64     `json:"seq"`
	Locale   string    `json:"locale,omitempty"`
	State    UserState `json:"state"`
	Key      string    `json:"key,omitempty"`
	Bytes    int64     `json:"bytes"`
	SHA256   string    `json:"sha256,omitempty"`
	Error    string    `json:"error,omitempty"`
	Attempts int       `json:"attempts"`
	Created  time.Time `json:"created"`
	// Downloads counts the downloads; LastDownload is the newest.
	Downloads    int64     `json:"downloads"`
	LastDownload time.Time `json:"last_download,omitzero"`
	// KeptIn is the backup archive that keeps the zip, when one does.
	KeptIn string `json:"kept_in,omitempty"`
	// Migration to the alternative: "", done or failed.
	MigrateState    string    `json:"migrate_state,omitempty"`
	MigrateError    string    `json:"migrate_error,omitempty"`
	MigrateAttempts int       `json:"migrate_attempts,omitempty"`
	MigratedAt      time.Time `json:"migrated_at,omitzero"`
}

// Counts sums up a sunset's exports (progress.Counts).
type Counts = progress.Counts

// Store keeps export jobs and users' exports. store (SQLite and PostgreSQL) implements it.
type Store interface {
	// GetExportJob returns the sunset's job, or ErrNoJob.
	GetExportJob(ctx context.Context, sunset string) (*Job, error)
	// SaveExportBatch writes users (inserting or updating each one's export, keeping its
	// downloads and migration) and then the job, in one transaction.
	SaveExportBatch(ctx context.Context, job *Job, users []User) error
	// ExportUser returns one user's export, or ErrNoUser.
	ExportUser(ctx context.Context, sunset, id string) (*User, error)
	// ExportUsers returns up to limit exports with Seq > after, in Seq order.
	ExportUsers(ctx context.Context, sunset string, after int64, limit int) ([]User, error)
	// RecordDownload counts a download of the user's export.
	RecordDownload(ctx context.Context, sunset, id string, at time.Time) error
	// SaveMigration writes the migration fields of u.
	SaveMigration(ctx context.Context, u *User) error
	// KeepExports marks the done, not downloaded exports with Seq in [from, to] as kept in archive.
	KeepExports(ctx context.Context, sunset string, from, to int64, archive string) (int64, error)
	// ExportCounts sums up the sunset's exports.
	ExportCounts(ctx context.Context, sunset string) (Counts, error)
	// OutboxRecipients returns up to limit recipients of the sunset's notices with an id after
	// `after`, in id order (consumers known to the store, for plans without a contacts file).
	OutboxRecipients(ctx context.Context, sunset, after string, limit int) ([]Recipient, error)
	// EachContact streams the contacts stored with the sunset's current plan bundle, in file
	// order.
	EachContact(ctx context.Context, sunset string, fn func(contacts.Contact) error) error
}

// Recipient is one user to export: an id and the language of their README.
type Recipient struct {
	ID     string `json:"id"`
	Locale string `json:"locale,omitempty"`
}

// Errors a Store returns.
var (
	ErrNoJob  = errors.New("export: no export job")
	ErrNoUser = errors.New("export: no export for this user")
)
