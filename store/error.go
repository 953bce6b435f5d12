package store

import (
	"errors"
	"fmt"

	sunset "github.com/sunsetops/sunset"
)

// The drivers are recognised by the methods of their error types, so that this package links
// neither: pgx's *pgconn.PgError has SQLState() string, modernc's *sqlite.Error has Code() int
// (an extended result code: the driver turns extended codes on).
type (
	sqlStater   interface{ SQLState() string }
	sqliteCoder interface{ Code() int }
)

// SQLite extended result codes (sqlite3.h).
const (
	sqliteConstraintCheck      = 275  // SQLITE_CONSTRAINT_CHECK
	sqliteConstraintForeignKey = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	sqliteConstraintNotNull    = 1299 // SQLITE_CONSTRAINT_NOTNULL
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
)

// PostgreSQL SQLSTATE codes (Appendix A of its manual).
const (
	pgNotNullViolation    = "23502"
	pgForeignKeyViolation = "23503"
	pgUniqueViolation     = "23505"
	pgCheckViolation      = "23514"
	pgInvalidText         = "22P02"
)

func (db *DB) sqliteCode(err error) int {
	var e sqliteCoder
	if db.dialect == SQLite && errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func (db *DB) sqlState(err error) string {
	var e sqlStater
	if db.dialect == Postgres && errors.As(err, &e) {
		return e.SQLState()
	}
	return ""
}

// isUnique reports whether err is a broken UNIQUE or PRIMARY KEY constraint.
func (db *DB) isUnique(err error) bool {
	switch db.sqliteCode(err) {
	case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
		return true
	}
	return db.sqlState(err) == pgUniqueViolation
}

// isForeignKey reports whether err is a reference to a row that does not exist.
func (db *DB) isForeignKey(err error) bool {
	return db.sqliteCode(err) == sqliteConstraintForeignKey || db.sqlState(err) == pgForeignKeyViolation
}

// isInvalid reports whether err is a value the schema refuses (CHECK, NOT NULL, malformed input).
func (db *DB) isInvalid(err error) bool {
	switch db.sqliteCode(err) {
	case sqliteConstraintCheck, sqliteConstraintNotNull:
		return true
	}
	switch db.sqlState(err) {
	case pgCheckViolation, pgNotNullViolation, pgInvalidText:
		return true
	}
	return false
}

// translate turns a driver error met while doing what into the sunset vocabulary: a broken
// constraint the callers did not expect becomes ECONFLICT or EINVALID with a sentence, anything
// else is wrapped (EINTERNAL) with what was being done.
func (db *DB) translate(err error, what string) error {
	if u := db.unwritable(err); u != nil {
		return u
	}
	switch {
	case err == nil:
		return nil
	case db.isUnique(err):
		return &sunset.Error{Code: sunset.ECONFLICT, Message: fmt.Sprintf("Cannot %s: it clashes with a stored record.", what)}
	case db.isForeignKey(err):
		return &sunset.Error{Code: sunset.ENOTFOUND, Message: fmt.Sprintf("Cannot %s: it refers to a sunset that does not exist.", what)}
	case db.isInvalid(err):
		return &sunset.Error{Code: sunset.EINVALID, Message: fmt.Sprintf("Cannot %s: the database refused a value (%v).", what, err)}
	}
	return fmt.Errorf("store: %s: %w", what, err)
}
