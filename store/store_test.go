package store

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"slices"
	"testing"
)

// shipped pins every migration that has been released. A shipped migration is never edited —
// databases in the field have already run it — so a change to one of these files is a mistake:
// add a new numbered file instead, and pin it here once it ships.
var shipped = map[string]string{
	"sqlite/00002_action_seq.sql":     "f8bba7990bd634bc601b6e56dcf73c3ac640f1c9f70f3358f7a0fc8601d5c696",
	"sqlite/00003_usage.sql":          "52e88793aedc39d625a6a258b6993ab7429512f6087b7148bf67077e13438b7a",
	"sqlite/00005_runbook.sql":        "317df1c3bd0cd085b92ac9d94ca365f734752eeb87f8308a512ae646f0c0a329",
	"postgres/00002_action_seq.sql":   "f8bba7990bd634bc601b6e56dcf73c3ac640f1c9f70f3358f7a0fc8601d5c696",
	"postgres/00003_usage.sql":        "750b06094d1897d9a97c935fedfdc1720571a38853ee0d7d8b2463d72873b5a7",
	"postgres/00005_runbook.sql":      "940cc107fbd73414eb3426b55b98ea75a18f3f9a5ffd107ec9f6cfe8c577dd6a",
	"sqlite/00001_init.sql":           "06cbde7955f3fa72d0bf4539d9192fa1929a04cd1bfa3342cab3cdc7b28a88c1",
	"postgres/00001_init.sql":         "8f614104b31fd64f23b287bad63a15ec3388ff6d328c6b1bfb9ed04c7c572bde",
	"sqlite/00004_outbox.sql":         "56f94656704d632249392eae4059dde8643b4c231dfb669706d178ccea3f3be0",
	"postgres/00004_outbox.sql":       "a44b56735cbc6726b1a41a1172b39b0b75b8b21f92054d3ea3325c5851317709",
	"sqlite/00006_feedback.sql":       "556d79034ae97d8a35f6c4b1e6a4c9873ba7ed9abd40422d7d590f537bba2e4e",
	"postgres/00006_feedback.sql":     "cc7e7d72131ab1a3347f17c5ad619df2c9c894761df5bf187ffad0eaad5609d4",
	"sqlite/00008_survey.sql":         "b48815d18ae01b4ba8dbae1f3bea1f8b31684d9ac6b8db6acf8867009eeb6293",
	"postgres/00008_survey.sql":       "b48815d18ae01b4ba8dbae1f3bea1f8b31684d9ac6b8db6acf8867009eeb6293",
	"sqlite/00007_export.sql":         "1550bd086e177e97e74e689165c41a619921b4a17e6e5016d10f2a122ea167a2",
	"postgres/00007_export.sql":       "1550bd086e177e97e74e689165c41a619921b4a17e6e5016d10f2a122ea167a2",
	"sqlite/00009_notify_pages.sql":   "35eebb08142a861ff79a57e9369a05683a44248e9c512721dcdd73b61c268306",
	"postgres/00009_notify_pages.sql": "68bb9f51a9c7baa068ca8aca2fc4f1b36a03118a28d73c8a2c0495ae28318dbf",
	"sqlite/00010_lessons.sql":        "6271fdd17498e75d86172accfa2afc58c5f7388855461cd0444ed926bda7b9c4",
	"postgres/00010_lessons.sql":      "6271fdd17498e75d86172accfa2afc58c5f7388855461cd0444ed926bda7b9c4",
	"sqlite/00011_auth.sql":           "d394c68ddc242db72e3f21078e0321e38b685281bd6f6d53c5c757b2eb178c4f",
	"postgres/00011_auth.sql":         "d394c68ddc242db72e3f21078e0321e38b685281bd6f6d53c5c757b2eb178c4f",

	// 00015: runbook run leases (replicas).
	"sqlite/00015_runbook_lease.sql":   "3e5dd9e4c7072d76850e3258cc461b55992f6948472d9a08f5abff9182629e3a",
	"postgres/00015_runbook_lease.sql": "3e5dd9e4c7072d76850e3258cc461b55992f6948472d9a08f5abff9182629e3a",

	// Phase overrides of runbook gateway steps.
	"sqlite/00012_phase_override.sql":   "47fda54b82ba21dc4c8fe57f7a700307f20a1ee86d0e4a5230f45995d43ede62",
	"postgres/00012_phase_override.sql": "47fda54b82ba21dc4c8fe57f7a700307f20a1ee86d0e4a5230f45995d43ede62",

	// 00013: the outbox's due index in claim order (next_at, id).
	"sqlite/00013_outbox_due.sql":   "98bce6a4c3db93340842ba7df161002cb2c6959d9862a34f3dd1d1e2510bdb97",
	"postgres/00013_outbox_due.sql": "98bce6a4c3db93340842ba7df161002cb2c6959d9862a34f3dd1d1e2510bdb97",
}

func TestShippedMigrationsAreNeverEdited(t *testing.T) {
	t.Parallel()
	for path, want := range shipped {
		b, err := fs.ReadFile(migrations, "migrations/"+path)
		if err != nil {
			t.Errorf("shipped migration %s is gone: %v", path, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("shipped migration %s was edited (sha256 %s, shipped %s): revert it and add a new numbered migration", path, got, want)
		}
	}
}

func TestBothDialectsHaveTheSameMigrations(t *testing.T) {
	t.Parallel()
	names := map[string][]string{}
	for _, d := range []string{SQLite, Postgres} {
		fsys, err := Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		files, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		names[d] = files
	}
	if !slices.Equal(names[SQLite], names[Postgres]) {
		t.Errorf("migrations differ between dialects: sqlite %q, postgres %q", names[SQLite], names[Postgres])
	}
	if _, err := Migrations("mysql"); err == nil {
		t.Error("Migrations(mysql) did not fail")
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ dialect, in, want string }{
		{SQLite, "SELECT ? WHERE a = ? AND b = ?", "SELECT ? WHERE a = ? AND b = ?"},
		{Postgres, "SELECT ? WHERE a = ? AND b = ?", "SELECT $1 WHERE a = $2 AND b = $3"},
		{Postgres, "名字 = ?", "名字 = $1"},
	} {
		if got := rebind(tc.dialect, tc.in); got != tc.want {
			t.Errorf("rebind(%s, %q) = %q, want %q", tc.dialect, tc.in, got, tc.want)
		}
	}
	// Every query of the PostgreSQL set is rebound: no ? is left.
	q := newQueries(Postgres)
	for _, s := range []string{q.getSunset, q.lockSunset, q.insertSunset, q.updateSunset, q.listActions,
		q.getAction, q.putAction, q.dueActions, q.dueActionsLimit, q.insertEvent, q.listEvents} {
		if slices.Contains([]byte(s), '?') {
			t.Errorf("query left with a ? marker: %s", s)
		}
	}
}

func TestNewRefusesANilPool(t *testing.T) {
	t.Parallel()
	if _, err := New(nil, Config{Dialect: SQLite}); err == nil {
		t.Error("New(nil) did not fail")
	}
}
