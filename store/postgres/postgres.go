// Package postgres opens Sunset's scale-out store: a PostgreSQL database shared by several
// `sunset serve` replicas, through database/sql and pgx's stdlib driver, migrated on open.
//
// database/sql (rather than a pgxpool) is deliberate: River's client is then a
// river.Client[*sql.Tx] on PostgreSQL as on SQLite, so the engine has one code path, and a job's
// completion (river.JobCompleteTx) commits in the store's own transaction.
//
// # Schema
//
// Sunset's tables and River's go in the first schema of the connection's search_path, "public"
// unless the DSN says otherwise: pgx sends any unknown DSN parameter as a run-time parameter, so
// postgres://host/db?search_path=sunset puts everything in schema sunset (which must exist).
// store.DB.Schema reports the schema resolved at Open; the engine passes it to River.
//
// # Concurrent starts
//
// Several replicas may start at once against one database. Open serialises their migrations with
// a session-level advisory lock keyed by the schema's name: neither goose nor rivermigrate take a
// lock themselves, and without one two processes would both see a table missing and both try to
// create it. The replica that waits finds everything migrated and changes nothing.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/sunsetops/sunset/store"
)

// Open connects to the PostgreSQL database that dsn names (a postgres:// URL or key=value
// string, as pgx accepts), runs Sunset's and River's migrations under an advisory lock, and
// returns the store. Close the store to close the pool.
func Open(ctx context.Context, dsn string, opts ...store.Option) (*store.DB, error) {
	o := store.ApplyOptions(opts)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message names the bad part of the DSN without echoing a password.
		return nil, fmt.Errorf("postgres: invalid DSN: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	// A few replicas share the server: keep each pool modest. River's producer, completer and
	// maintenance services plus the API need a handful of connections at a time.
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(5)
	db.SetConnMaxIdleTime(5 * time.Minute)

	s, err := setup(ctx, db, cfg, o)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func setup(ctx context.Context, db *sql.DB, cfg *pgx.ConnConfig, o store.Options) (*store.DB, error) {
	where := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("postgres: cannot connect to %s: %w", where, err)
	}
	if !schema.Valid {
		return nil, fmt.Errorf("postgres: database %s: search_path %q names no schema that exists; create it first",
			where, cfg.RuntimeParams["search_path"])
	}
	if err := migrate(ctx, db, schema.String, o.Logger); err != nil {
		return nil, fmt.Errorf("postgres: database %s, schema %s: %w", where, schema.String, err)
	}
	return store.New(db, o.Config(store.Config{Dialect: store.Postgres, Schema: schema.String, River: riverdatabasesql.New(db)}))
}

// lockKey is the advisory lock that serialises migrations of schema, the same in every process.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("sunset.store.migrate\x00" + schema))
	return int64(h.Sum64())
}

// migrate runs both migrations while holding the advisory lock on a dedicated connection; the
// migrations themselves use other connections of the pool.
func migrate(ctx context.Context, db *sql.DB, schema string, logger *slog.Logger) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("take a connection for the migration lock: %w", err)
	}
	defer conn.Close()
	key := lockKey(schema)
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("wait for the migration lock: %w", err)
	}
	defer func() {
		// Unlock even if ctx is done; closing the session would release it anyway.
		_, unlockErr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
		if unlockErr != nil {
			err = errors.Join(err, fmt.Errorf("release the migration lock: %w", unlockErr))
		}
	}()
	if _, err := store.Migrate(ctx, db, store.Postgres, logger); err != nil {
		return err
	}
	// The schema is passed explicitly rather than left to search_path: River's "is it migrated"
	// check (to_regclass) would find a river_migration table in any schema of the path, e.g. in
	// public behind our own, and skip creating ours.
	return store.MigrateRiver(ctx, riverdatabasesql.New(db), schema, logger)
}
