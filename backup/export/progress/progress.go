// Package progress holds the records of per-user exports that the API carries — an export job,
// the counts of a sunset's exports, its status and the check made before its data is deleted.
// It imports nothing but the standard library, so that the web adapter and API clients can use
// these types without the backup drivers package export needs; package export aliases them.
package progress

import (
	"fmt"
	"strings"
	"time"
)

// JobState is where an export job stands.
type JobState string

// Job states.
const (
	JobRunning JobState = "running"
	JobDone    JobState = "done"
)

// Job is one sunset's export job: how far it got through the stream of users.
type Job struct {
	Sunset string   `json:"sunset"`
	State  JobState `json:"state"`
	// Source names the stream of users: "contacts" (the plan bundle's, as stored) or "outbox".
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

// Status is a sunset's export job, if one ran, and the counts of its exports.
type Status struct {
	Job    *Job   `json:"job,omitempty"`
	Counts Counts `json:"counts"`
}

// CheckReport says whether the service's data may be deleted as far as exports go: the job is
// done, no export failed, and every export was downloaded or is kept in a backup archive.
type CheckReport struct {
	OK       bool     `json:"ok"`
	Counts   Counts   `json:"counts"`
	Problems []string `json:"problems,omitempty"`
	// Outstanding lists some users whose export is neither downloaded nor kept (at most 20).
	Outstanding []string `json:"outstanding,omitempty"`
}

// Err returns nil when the check passed, else an error listing the problems.
func (r *CheckReport) Err() error {
	if r.OK {
		return nil
	}
	return fmt.Errorf("exports are not complete: %s", strings.Join(r.Problems, "; "))
}
