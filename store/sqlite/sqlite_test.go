package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/sqlite"
	"github.com/sunsetops/sunset/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store { return storetest.OpenSQLite(t) })
}

func TestOpenRefusesAPathItCannotCreate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "sunset.db"), "does not exist"},
		{"parent is a file", filepath.Join(file, "sunset.db"), "not a directory"},
		{"path is a directory", dir, "is a directory"},
		{"empty path", "", "no database path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := sqlite.Open(t.Context(), tc.path)
			if err == nil {
				st.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%q) = %q; want it to say %q", tc.path, err, tc.want)
			}
		})
	}
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes into read-only directories")
		}
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		st, err := sqlite.Open(t.Context(), filepath.Join(ro, "sunset.db"))
		if err == nil {
			st.Close()
			t.Fatal("Open in a read-only directory succeeded")
		}
		if !strings.Contains(err.Error(), "cannot open database") {
			t.Errorf("error %q does not say the database cannot be opened", err)
		}
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sunset.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 3, 15, 2, 0, 0, 0, time.UTC)
	err = st.InTx(t.Context(), func(tx engine.Tx) error {
		s := &engine.Sunset{Name: "orders-api-v1", State: engine.StateScheduled, Revision: 3, Signoffs: []string{"legal"}}
		if err := tx.CreateSunset(t.Context(), s); err != nil {
			return err
		}
		return tx.PutAction(t.Context(), &engine.Action{SunsetID: s.ID, Key: "milestone:shutdown", At: at, Status: engine.ActionPending})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Opening again migrates nothing and finds everything.
	st, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	s, err := st.GetSunset(t.Context(), "orders-api-v1")
	if err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if s.State != engine.StateScheduled || s.Revision != 3 || len(s.Signoffs) != 1 {
		t.Errorf("after reopening, sunset = %+v", s)
	}
	actions, err := st.ListActions(t.Context(), s.ID)
	if err != nil || len(actions) != 1 || !actions[0].At.Equal(at) {
		t.Errorf("after reopening, actions = %+v, %v", actions, err)
	}
	assertMigratedOnce(t, st.DB())
}

// assertMigratedOnce checks the bookkeeping of both migrators after several opens.
func assertMigratedOnce(t *testing.T, db *sql.DB) {
	t.Helper()
	var ours, river int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+store.VersionTable+" WHERE version_id > 0").Scan(&ours); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM river_migration").Scan(&river); err != nil {
		t.Fatal(err)
	}
	want := storetest.MigrationFiles(t, store.SQLite)
	if ours != want || river < 6 {
		t.Errorf("migrations recorded: ours %d, River's %d; want ours %d and River's once each", ours, river, want)
	}
}

func TestOpenSetsUpTheFile(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sunset.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.DB()
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "10000",
	} {
		var got string
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if got := db.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1 (River's SQLite driver needs a single connection)", got)
	}
	if st.Dialect() != store.SQLite || st.Schema() != "" {
		t.Errorf("Dialect, Schema = %q, %q", st.Dialect(), st.Schema())
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	storetest.BenchAppendEvent(b, storetest.OpenSQLite(b))
}

// Two processes (here, two pools) opening the same new file at once both end up with a migrated
// store.
func TestConcurrentOpensOfANewFile(t *testing.T) {
	for round := range 3 {
		path := filepath.Join(t.TempDir(), "sunset.db")
		const n = 3
		errs := make([]error, n)
		stores := make([]*store.DB, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { stores[i], errs[i] = sqlite.Open(t.Context(), path) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
			defer stores[i].Close()
		}
		assertMigratedOnce(t, stores[0].DB())
	}
}

// TestReady runs the write probe's checks on SQLite: replicas are stores on one file, and
// PRAGMA query_only makes the store's only connection refuse writes with SQLITE_READONLY.
func TestReady(t *testing.T) {
	storetest.RunReady(t, storetest.ReadyBackend{
		New: func(t *testing.T, _ bool) func(t *testing.T, replica string, now func() time.Time) *store.DB {
			path := filepath.Join(t.TempDir(), "sunset.db")
			return func(t *testing.T, replica string, now func() time.Time) *store.DB {
				st, err := sqlite.Open(t.Context(), path, store.WithReplica(replica), store.WithNow(now))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			}
		},
		ReadOnly: func(t *testing.T, st *store.DB, on bool) {
			q := "PRAGMA query_only = 0"
			if on {
				q = "PRAGMA query_only = 1"
			}
			if _, err := st.DB().ExecContext(t.Context(), q); err != nil {
				t.Fatal(err)
			}
		},
	})
}
