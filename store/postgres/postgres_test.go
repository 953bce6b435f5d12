package postgres_test

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/postgres"
	"github.com/sunsetops/sunset/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store { return storetest.OpenPostgres(t) })
}

// Several replicas starting at once against an empty schema must all open it, and the schema
// must be migrated exactly once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	dsn, schema := storetest.PostgresDSN(t)
	const replicas = 6
	stores := make([]*store.DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Open: %v", i, err)
			continue
		}
		defer stores[i].Close()
		if got := stores[i].Schema(); got != schema {
			t.Errorf("replica %d: Schema() = %q, want %q", i, got, schema)
		}
	}
	if t.Failed() {
		return
	}
	assertMigratedOnce(t, stores[0].DB(), schema)

	// And opening an up-to-date schema again changes nothing.
	again, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer again.Close()
	assertMigratedOnce(t, again.DB(), schema)
}

// assertMigratedOnce checks that each migration of ours and of River's is recorded once, and that
// every table is in schema.
func assertMigratedOnce(t *testing.T, db *sql.DB, schema string) {
	t.Helper()
	var ours, oursDistinct, river, riverDistinct int
	q := fmt.Sprintf("SELECT count(*), count(DISTINCT version_id) FROM %s.%s WHERE version_id > 0", schema, store.VersionTable)
	if err := db.QueryRowContext(t.Context(), q).Scan(&ours, &oursDistinct); err != nil {
		t.Fatal(err)
	}
	q = fmt.Sprintf("SELECT count(*), count(DISTINCT version) FROM %s.river_migration", schema)
	if err := db.QueryRowContext(t.Context(), q).Scan(&river, &riverDistinct); err != nil {
		t.Fatal(err)
	}
	want := storetest.MigrationFiles(t, store.Postgres)
	if ours != want || oursDistinct != want || river != riverDistinct || river < 6 {
		t.Errorf("migrations recorded: ours %d (%d distinct), River's %d (%d distinct); want each once", ours, oursDistinct, river, riverDistinct)
	}
	var tables []string
	rows, err := db.QueryContext(t.Context(), "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", schema)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	got := strings.Join(tables, " ")
	for _, want := range []string{"actions", "events", "sunsets", "river_job", "river_queue", "river_leader", "river_migration", store.VersionTable} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("table %s is not in schema %s (found %s)", want, schema, got)
		}
	}
}

func TestOpenRefusesBadDSNs(t *testing.T) {
	dsn, _ := storetest.PostgresDSN(t) // skips without PostgreSQL
	for _, tc := range []struct {
		name, dsn, want string
	}{
		{"unparsable", "postgres://%zz", "invalid DSN"},
		{"schema that does not exist", strings.Replace(dsn, "search_path=", "search_path=no_such_schema_", 1), "names no schema that exists"},
		{"nobody listening", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", "cannot connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := postgres.Open(t.Context(), tc.dsn)
			if err == nil {
				st.Close()
				t.Fatalf("Open(%q) succeeded", tc.dsn)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%q) = %q; want it to say %q", tc.dsn, err, tc.want)
			}
		})
	}
}

// River's tables are where Schema says, and River finds them there both when given the schema
// (as the engine does) and when left to search_path.
func TestRiverUsesTheStoreSchema(t *testing.T) {
	dsn, schema := storetest.PostgresDSN(t)
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, riverSchema := range []string{st.Schema(), ""} {
		client, err := river.NewClient(riverdatabasesql.New(st.DB()), &river.Config{Schema: riverSchema})
		if err != nil {
			t.Fatal(err)
		}
		err = st.InTx(t.Context(), func(tx engine.Tx) error {
			_, err := client.InsertTx(t.Context(), tx.SQL(), noopArgs{}, nil)
			return err
		})
		if err != nil {
			t.Fatalf("river.Config.Schema %q: InsertTx: %v", riverSchema, err)
		}
	}
	var n int
	if err := st.DB().QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".river_job").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%s.river_job holds %d jobs, want 2", schema, n)
	}
}

type noopArgs struct{}

func (noopArgs) Kind() string { return "noop" }

func BenchmarkAppendEvent(b *testing.B) {
	storetest.BenchAppendEvent(b, storetest.OpenPostgres(b))
}

// TestReady runs the write probe's checks on PostgreSQL: replicas are stores on one schema, or on
// one scratch database made read-only as a standby or an operator would make it
// (ALTER DATABASE … SET default_transaction_read_only), which every new connection obeys.
func TestReady(t *testing.T) {
	storetest.RunReady(t, storetest.ReadyBackend{
		New: func(t *testing.T, forReadOnly bool) func(t *testing.T, replica string, now func() time.Time) *store.DB {
			dsn, _ := storetest.PostgresDSN(t)
			if forReadOnly {
				dsn, _ = storetest.PostgresDatabase(t)
			}
			return func(t *testing.T, replica string, now func() time.Time) *store.DB {
				st, err := postgres.Open(t.Context(), dsn, store.WithReplica(replica), store.WithNow(now))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			}
		},
		ReadOnly: func(t *testing.T, st *store.DB, on bool) {
			q := "ALTER DATABASE %s RESET default_transaction_read_only"
			if on {
				q = "ALTER DATABASE %s SET default_transaction_read_only = on"
			}
			var name string
			if err := st.DB().QueryRowContext(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
				t.Fatal(err)
			}
			// This transaction itself must be allowed to write while the database is read-only.
			tx, err := st.DB().BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for _, q := range []string{"SET TRANSACTION READ WRITE", fmt.Sprintf(q, name)} {
				if _, err := tx.ExecContext(t.Context(), q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			// The setting reaches new connections: let the pool open new ones.
			st.DB().SetMaxIdleConns(0)
			st.DB().SetMaxIdleConns(5)
		},
	})
}
