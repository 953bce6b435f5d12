package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/sqlite"
)

// TestAMissingLowerMigrationIsApplied: a database migrated before a lower-numbered migration
// landed (00004 shipped before 00003) still gets it on the next open.
func TestAMissingLowerMigrationIsApplied(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sunset.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// Forget migration 3 as if it had not existed when this database was migrated.
	if _, err := st.DB().ExecContext(ctx, "DROP TABLE consumer_awareness; DROP TABLE usage_flushes; DROP TABLE usage_counts; DELETE FROM "+store.VersionTable+" WHERE version_id = 3"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	var n int
	if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM usage_counts").Scan(&n); err != nil {
		t.Fatalf("migration 3 was not applied on reopen: %v", err)
	}
}
