package store

import (
	"errors"
	"net"

	sunset "github.com/sunsetops/sunset"
)

// ErrUnwritable is what every storage failure the store returns is (errors.Is): a full disk, a
// read-only database, an I/O error, a server not accepting work. The error is a
// *sunset.UnwritableError saying which.
var ErrUnwritable = sunset.ErrUnwritable

// SQLite primary result codes (sqlite3.h); the driver reports extended codes, whose low byte is
// the primary code (SQLITE_READONLY_DBMOVED is 8 | 4<<8).
const (
	sqlitePerm     = 3  // SQLITE_PERM
	sqliteReadOnly = 8  // SQLITE_READONLY
	sqliteIOErr    = 10 // SQLITE_IOERR
	sqliteFull     = 13 // SQLITE_FULL
	sqliteCantOpen = 14 // SQLITE_CANTOPEN
)

// sqliteUnwritable names the SQLite primary codes that are storage failures.
var sqliteUnwritable = map[int]struct {
	reason sunset.UnwritableReason
	name   string
}{
	sqliteFull:     {sunset.ReasonFull, "SQLITE_FULL"},
	sqliteReadOnly: {sunset.ReasonReadOnly, "SQLITE_READONLY"},
	sqlitePerm:     {sunset.ReasonReadOnly, "SQLITE_PERM"},
	sqliteIOErr:    {sunset.ReasonIO, "SQLITE_IOERR"},
	sqliteCantOpen: {sunset.ReasonIO, "SQLITE_CANTOPEN"},
}

// pgUnwritable names the PostgreSQL SQLSTATEs that are storage failures; classes 53
// (insufficient resources) and 08 (connection exception) are storage failures whatever their
// code (pgUnwritableClass).
var pgUnwritable = map[string]struct {
	reason sunset.UnwritableReason
	name   string
}{
	"53100": {sunset.ReasonFull, "disk_full"},
	"25006": {sunset.ReasonReadOnly, "read_only_sql_transaction"},
	"58030": {sunset.ReasonIO, "io_error"},
	"53000": {sunset.ReasonUnavailable, "insufficient_resources"},
	"53200": {sunset.ReasonUnavailable, "out_of_memory"},
	"53300": {sunset.ReasonUnavailable, "too_many_connections"},
	"53400": {sunset.ReasonUnavailable, "configuration_limit_exceeded"},
	"57P01": {sunset.ReasonUnavailable, "admin_shutdown"},
	"57P02": {sunset.ReasonUnavailable, "crash_shutdown"},
	"57P03": {sunset.ReasonUnavailable, "cannot_connect_now"},
}

// pgUnwritableClass names the SQLSTATE classes whose every code is a storage failure.
var pgUnwritableClass = map[string]string{
	"53": "insufficient resources",
	"08": "connection exception",
}

// ClassifyUnwritable returns err as a *sunset.UnwritableError when a driver's error in its chain
// says the database cannot be written (see docs/problems.md#storage_full), and nil otherwise.
// dialect is SQLite or Postgres; where names the database in the message (the SQLite file, or
// "" for PostgreSQL, whose server is not named to users). An error that already is one is
// returned as it is.
func ClassifyUnwritable(dialect, where string, err error) *sunset.UnwritableError {
	if err == nil {
		return nil
	}
	var u *sunset.UnwritableError
	if errors.As(err, &u) {
		return u
	}
	switch dialect {
	case SQLite:
		var e sqliteCoder
		if !errors.As(err, &e) {
			return nil
		}
		k, ok := sqliteUnwritable[e.Code()&0xff]
		if !ok {
			return nil
		}
		return &sunset.UnwritableError{Reason: k.reason, Code: k.name, Where: where, File: where != "", Err: err}
	case Postgres:
		var e sqlStater
		if errors.As(err, &e) {
			state := e.SQLState()
			if k, ok := pgUnwritable[state]; ok {
				return &sunset.UnwritableError{Reason: k.reason, Code: state + " " + k.name, Where: "PostgreSQL", Err: err}
			}
			if len(state) == 5 {
				if name, ok := pgUnwritableClass[state[:2]]; ok {
					return &sunset.UnwritableError{Reason: sunset.ReasonUnavailable, Code: state + " " + name, Where: "PostgreSQL", Err: err}
				}
			}
			return nil
		}
		// The server cannot be reached at all: pgx's connect error wraps the dial's.
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return &sunset.UnwritableError{Reason: sunset.ReasonUnavailable, Code: "cannot connect", Where: "PostgreSQL", Err: err}
		}
	}
	return nil
}

// unwritable classifies err (ClassifyUnwritable) and records a storage failure for Ready.
func (db *DB) unwritable(err error) *sunset.UnwritableError {
	u := ClassifyUnwritable(db.dialect, db.where, err)
	if u != nil {
		db.health.failed(u, db.clock())
	}
	return u
}
