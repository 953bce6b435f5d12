// Package sqlite opens Sunset's default store: one SQLite file, through the pure Go
// modernc.org/sqlite driver (no cgo), migrated on open.
//
// The file is in WAL mode (readers do not block the writer, and a crash loses no committed
// transaction), with foreign keys enforced and a busy timeout so that another process holding
// the file makes us wait instead of failing at once. Transactions begin IMMEDIATE: the writer
// lock is taken at BEGIN, so two processes never both read then fail to upgrade to writing, and
// a read inside a transaction is as good as a row lock (engine.Tx.LockSunset needs no FOR UPDATE).
//
// # One connection
//
// The pool holds a single connection (SetMaxOpenConns(1)). River's SQLite driver requires it:
// River runs its maintenance services, producer and completer concurrently, and SQLite allows one
// writer at a time, so with more connections they fail with "database is locked (SQLITE_BUSY)"
// despite the busy timeout (the riversqlite package documentation gives the same advice). The
// single connection serialises everything in this process, which costs little for Sunset's load
// and makes two consequences worth knowing:
//
//   - Inside store.DB.InTx, use only the engine.Tx given to the function. A call on the DB itself
//     (GetSunset, River's Client.Insert without Tx…) waits for the connection that the
//     transaction holds, and so waits forever.
//   - A long transaction delays every other query, Ping (and /readyz) included.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/sunsetops/sunset/store"
)

// BusyTimeout is how long a statement waits for another process's lock on the file before it
// fails with SQLITE_BUSY, in milliseconds.
const BusyTimeout = 10000

// Open opens (creating it if needed) the SQLite database file at path, runs Sunset's and River's
// migrations, and returns the store. The directory must exist. Migrating an up-to-date file
// changes nothing. Close the store to close the file.
//
// Several processes may open the same new file at once: the migrations are retried when another
// process's interfere, and each ends up with the same migrated file.
func Open(ctx context.Context, path string, opts ...store.Option) (*store.DB, error) {
	o := store.ApplyOptions(opts)
	if path == "" {
		return nil, errors.New("sqlite: no database path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: database path %q: %w", path, err)
	}
	if err := checkPath(abs); err != nil {
		return nil, err
	}

	db, err := sql.Open("sqlite", DSN(abs))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	// See the package documentation: River's SQLite driver needs a single connection.
	db.SetMaxOpenConns(1)
	// Keep that connection: closing it would only make the next query open the file again.
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)

	s, err := setup(ctx, db, abs, o)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// DSN returns the modernc.org/sqlite data source name Open uses for the file at abs: a file: URI
// (so that any character in the path is escaped) with WAL, foreign keys, the busy timeout and
// IMMEDIATE transactions.
func DSN(abs string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// NORMAL is durable in WAL mode except for the last transactions before a power loss; the
	// file is never corrupted. FULL would fsync every commit for little gain here.
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// checkPath turns the usual reasons a file cannot be opened into sentences; SQLite itself says
// only "unable to open database file".
func checkPath(abs string) error {
	dir := filepath.Dir(abs)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("sqlite: cannot create database %s: directory %s does not exist", abs, dir)
	case err != nil:
		return fmt.Errorf("sqlite: cannot create database %s: %w", abs, err)
	case !st.IsDir():
		return fmt.Errorf("sqlite: cannot create database %s: %s is not a directory", abs, dir)
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return fmt.Errorf("sqlite: cannot open database %s: it is a directory", abs)
	}
	return nil
}

func setup(ctx context.Context, db *sql.DB, abs string, o store.Options) (*store.DB, error) {
	// Another process setting up the same new file at the same moment can make a pass fail
	// part-way: switching a new file to WAL needs it alone, and SQLite has no lock that spans
	// goose's and River's transactions ("table already exists"). Every step is its own
	// transaction, so nothing is left half-applied, and a later pass finds the other's work done.
	// Across processes the setup lock makes the passes take turns, so that no migration is
	// applied twice (goose reads the versions before its transactions, and a migration that can
	// run twice would be recorded twice).
	unlock, err := lockSetup(abs)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		if err = prepare(ctx, db, abs, o.Logger); err == nil {
			return store.New(db, o.Config(store.Config{Dialect: store.SQLite, River: riversqlite.New(db), Where: abs}))
		}
		if attempt == setupAttempts {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
}

// setupAttempts bounds the passes over prepare when a concurrent opener interferes.
const setupAttempts = 5

// prepare opens the file, checks its mode and runs both migrations.
func prepare(ctx context.Context, db *sql.DB, abs string, logger *slog.Logger) error {
	// The first statement opens the file and applies the pragmas.
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: cannot open database %s: %w", abs, err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlite: database %s: journal mode is %q, not WAL (is the file on a filesystem without shared memory?)", abs, mode)
	}
	if _, err := store.Migrate(ctx, db, store.SQLite, logger); err != nil {
		return fmt.Errorf("sqlite: database %s: %w", abs, err)
	}
	if err := store.MigrateRiver(ctx, riversqlite.New(db), "", logger); err != nil {
		return fmt.Errorf("sqlite: database %s: %w", abs, err)
	}
	return nil
}
