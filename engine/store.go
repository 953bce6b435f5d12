package engine

import (
	"context"
	"database/sql"
	"time"

	"github.com/riverqueue/river/riverdriver"
)

// Store persists sunsets, their actions and their events. store/sqlite and store/postgres
// implement it with the same behaviour; store/storetest checks both.
//
// Errors: a missing sunset is a *sunset.Error with code ENOTFOUND; a duplicate name is ECONFLICT.
type Store interface {
	// DB is the pool the job engine shares, so that job completion and the store's writes
	// commit in one transaction.
	DB() *sql.DB
	// Dialect is "sqlite" or "postgres".
	Dialect() string
	// RiverDriver is River's driver over DB, supplied by the store adapter so that the engine
	// imports no database driver.
	RiverDriver() riverdriver.Driver[*sql.Tx]
	// InTx runs fn in one transaction, committed when fn returns nil and rolled back otherwise.
	InTx(ctx context.Context, fn func(tx Tx) error) error

	GetSunset(ctx context.Context, name string) (*Sunset, error)
	ListSunsets(ctx context.Context) ([]*Sunset, error)
	ListActions(ctx context.Context, sunsetID int64) ([]Action, error)
	ListEvents(ctx context.Context, sunsetID int64) ([]Event, error)
	// ListRevisions returns the sunset's stored revisions, oldest first.
	ListRevisions(ctx context.Context, sunsetID int64) ([]Revision, error)
	Close() error
	Contacts
}

// Tx is the store inside one transaction.
type Tx interface {
	// SQL is the underlying transaction, handed to the job engine (River's *Tx calls).
	SQL() *sql.Tx

	// LockSunset reads a sunset and locks its row until the transaction ends (SELECT … FOR
	// UPDATE on PostgreSQL; SQLite serialises writers anyway).
	LockSunset(ctx context.Context, name string) (*Sunset, error)
	// CreateSunset inserts s and sets s.ID.
	CreateSunset(ctx context.Context, s *Sunset) error
	// UpdateSunset writes every field of s but ID, Name and CreatedAt.
	UpdateSunset(ctx context.Context, s *Sunset) error

	// AppendEvent inserts e (Seq, PrevHash and Hash already set by the caller).
	AppendEvent(ctx context.Context, e *Event) error

	// ListActions returns the sunset's actions ordered by At then Key.
	ListActions(ctx context.Context, sunsetID int64) ([]Action, error)
	// GetAction returns one action by key.
	GetAction(ctx context.Context, sunsetID int64, key string) (*Action, error)
	// PutAction inserts the action or replaces the one with the same (SunsetID, Key).
	PutAction(ctx context.Context, a *Action) error
	// DueActions returns pending actions of every sunset with At <= now, oldest first, at most limit.
	DueActions(ctx context.Context, now time.Time, limit int) ([]Action, error)

	// PutRevision records an applied revision and the files its bundle carried.
	PutRevision(ctx context.Context, r *Revision) error
	// GetRevision returns one revision of a sunset, or ENOTFOUND.
	GetRevision(ctx context.Context, sunsetID int64, revision int) (*Revision, error)
	// EraseContacts removes the contacts with ids from every stored revision of the sunset
	// named sunset and returns how many rows it removed.
	EraseContacts(ctx context.Context, sunset string, ids []string) (int64, error)
	// DiffContacts compares two contact sets by id (0 is the empty set).
	DiffContacts(ctx context.Context, from, to int64) (ContactsChange, error)
}
