package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
)

// migrations holds the numbered SQL files of each dialect. It is read-only: embed.FS has no
// method that changes it.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// VersionTable is the table in which goose records which of our migrations ran. It is not goose's
// default name, so that Sunset can share a PostgreSQL schema with another goose-migrated program.
const VersionTable = "sunset_schema_version"

// Migrations returns the embedded migration files of dialect (SQLite or Postgres), one numbered
// file per schema change.
func Migrations(dialect string) (fs.FS, error) {
	switch dialect {
	case SQLite, Postgres:
		return fs.Sub(migrations, "migrations/"+dialect)
	}
	return nil, fmt.Errorf("store: unknown dialect %q (want %q or %q)", dialect, SQLite, Postgres)
}

// Migrate applies every migration of Sunset's own schema that db has not run yet, in order, and
// returns the version db is at. Running it on an up-to-date database changes nothing. It logs the
// migrations it applied to logger (nil: slog.Default()) and nothing when there were none.
//
// Migrate takes no lock: on PostgreSQL the caller serialises concurrent migrations (store/postgres
// holds an advisory lock around this and MigrateRiver).
func Migrate(ctx context.Context, db *sql.DB, dialect string, logger *slog.Logger) (int64, error) {
	fsys, err := Migrations(dialect)
	if err != nil {
		return 0, err
	}
	gooseDialect := goose.DialectSQLite3
	if dialect == Postgres {
		gooseDialect = goose.DialectPostgres
	}
	logger = cmpLogger(logger)
	p, err := goose.NewProvider(gooseDialect, db, fsys,
		goose.WithTableName(VersionTable),
		// Only the embedded SQL files: Go migrations registered in goose's process-wide
		// registry by some other package must not run against our schema.
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(quiet(logger)),
		// Migrations are numbered as they were written, not as they landed (00004 shipped before
		// 00003): a database already past a number still gets a lower one it lacks. Each file
		// touches only its own tables, so the order between them does not matter.
		goose.WithAllowOutofOrder(true),
	)
	if err != nil {
		return 0, fmt.Errorf("store: prepare migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate %s schema: %w", dialect, err)
	}
	for _, r := range res {
		logger.InfoContext(ctx, "store: applied migration", "dialect", dialect,
			"file", r.Source.Path, "duration", r.Duration)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return v, nil
}

// MigrateRiver applies River's own migrations (river_job, river_queue… and its river_migration
// bookkeeping) with driver — riversqlite or riverdatabasesql over the store's pool — into schema
// ("" on SQLite). It is a no-op on an up-to-date database. Like Migrate it takes no lock and logs
// only what it applied.
func MigrateRiver(ctx context.Context, driver riverdriver.Driver[*sql.Tx], schema string, logger *slog.Logger) error {
	logger = cmpLogger(logger)
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet(logger), Schema: schema})
	if err != nil {
		return fmt.Errorf("store: prepare River migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("store: migrate River's tables: %w", err)
	}
	for _, v := range res.Versions {
		logger.InfoContext(ctx, "store: applied River migration", "version", v.Version,
			"name", v.Name, "duration", v.Duration)
	}
	return nil
}

func cmpLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

// quiet passes on only warnings and errors: goose and River log "no migrations to apply" at info
// on every start, which would clutter every command that opens the store.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(warnOnly{l.Handler()})
}

// warnOnly is a slog.Handler that drops records below warning level.
type warnOnly struct{ slog.Handler }

// Enabled reports whether level is a warning or worse and the wrapped handler wants it.
func (h warnOnly) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && h.Handler.Enabled(ctx, level)
}

// WithAttrs keeps the filter on the derived handler.
func (h warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the filter on the derived handler.
func (h warnOnly) WithGroup(name string) slog.Handler { return warnOnly{h.Handler.WithGroup(name)} }
