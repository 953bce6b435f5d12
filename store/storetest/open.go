// Package storetest is the one behaviour suite every engine.Store must pass (Run), and helpers
// that give other packages' tests a fresh, migrated store on either backend (OpenSQLite,
// OpenPostgres).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/postgres"
	"github.com/sunsetops/sunset/store/sqlite"
)

// PostgresURLEnv names the environment variable that points the tests at a PostgreSQL database.
// When it is unset the PostgreSQL tests are skipped.
const PostgresURLEnv = "SUNSET_TEST_POSTGRES_URL"

// OpenSQLite returns a migrated SQLite store in a new file under t.TempDir(), closed when the test
// ends.
func OpenSQLite(t testing.TB) engine.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sunset.db"))
	if err != nil {
		t.Fatalf("open SQLite store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close SQLite store: %v", err)
		}
	})
	return st
}

// OpenPostgres returns a migrated PostgreSQL store in a schema of its own (see PostgresDSN),
// closed and dropped when the test ends. It skips the test when SUNSET_TEST_POSTGRES_URL is unset.
func OpenPostgres(t testing.TB) engine.Store {
	t.Helper()
	dsn, _ := PostgresDSN(t)
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("open PostgreSQL store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close PostgreSQL store: %v", err)
		}
	})
	return st
}

// PostgresDSN creates an empty schema with a random name in the database SUNSET_TEST_POSTGRES_URL
// names and returns a DSN whose search_path is that schema, so that everything a store opened on
// it creates — Sunset's tables and River's — lands there and tests can run in parallel on one
// database. The schema is dropped, with all it holds, when the test ends. It skips the test when
// the variable is unset.
func PostgresDSN(t testing.TB) (dsn, schema string) {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		testenv.Skip(t, "PostgreSQL", "SUNSET_TEST_POSTGRES_URL is not set; e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLEnv, err)
	}
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { _ = admin.Close() })

	// River limits schema names to letters, digits and underscores, and their length.
	schema = "sunset_test_" + randomHex(t, 8)
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() { dropSchema(t, admin, schema) })
	return withSearchPath(base, schema), schema
}

// PostgresDatabase creates an empty database with a random name on the server
// SUNSET_TEST_POSTGRES_URL names and returns a DSN for it, for tests that change settings of a
// whole database (ALTER DATABASE … SET default_transaction_read_only). The database is dropped
// when the test ends, after the stores opened on it are closed. It skips the test when the
// variable is unset.
func PostgresDatabase(t testing.TB) (dsn, name string) {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		testenv.Skip(t, "PostgreSQL", "SUNSET_TEST_POSTGRES_URL is not set; e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLEnv, err)
	}
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { _ = admin.Close() })
	name = "sunset_test_" + randomHex(t, 8)
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s: want a postgres:// URL for a scratch database", PostgresURLEnv)
	}
	u.Path = "/" + name
	return u.String(), name
}

func dropSchema(t testing.TB, admin *sql.DB, schema string) {
	// t.Context() is done by the time cleanups run.
	if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		t.Errorf("drop test schema %s: %v", schema, err)
	}
}

// withSearchPath sets search_path in a URL or key=value DSN; pgx sends it to the server as a
// run-time parameter.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// MigrationFiles returns how many numbered migration files the store ships for dialect: the
// number of versions a fully migrated database records.
func MigrationFiles(t testing.TB, dialect string) int {
	t.Helper()
	fsys, err := store.Migrations(dialect)
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}
