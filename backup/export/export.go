package export

import (
	"context"
	"errors"
	"time"
)

// JobState is where an export job stands.
type JobState string

// Job states.
const (
	JobRunning JobState = "running"
	JobDone    JobState = "done"
)

// UserState is where one user's export stands.
type UserState string

// User states.
const (
	UserDone   UserState = "done"
	UserFailed UserState = "failed"
)

// Job is the export job of one sunset.
type Job struct {
	Sunset string   `json:"sunset"`
	State  JobState `json:"state"`
	// Source names the stream of users: "contacts:PATH" or "outbox".
	Source string `json:"source"`
	// Position is how many users of the stream are fully handled, in stream order; a resumed job
	// skips that many.
	Position int64     `json:"position"`
	Done     int64     `json:"done"`
	Failed   int64     `json:"failed"`
	Expires  time.Time `json:"expires,omitzero"`
	Message  string    `json:"message,omitempty"`
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
}

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

// Counts sums up a sunset's exports.
type Counts struct {
	Users      int64 `json:"users"`
	Done       int64 `json:"done"`
	Failed     int64 `json:"failed"`
	Downloaded int64 `json:"downloaded"`
	Kept       int64 `json:"kept"`
	// Outstanding are done exports neither downloaded nor kept in a backup.
	Outstanding     int64 `json:"outstanding"`
	Migrated        int64 `json:"migrated"`
	MigrationFailed int64 `json:"migration_failed"`
}

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
