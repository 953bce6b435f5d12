package sunset_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayout keeps the import rules of STYLE.md true: domain packages import no storage, HTTP
// adapter or driver; adapters never import each other the wrong way.
func TestLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the go command")
	}
	const mod = "github.com/sunsetops/sunset"
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"plan", []string{mod + "/store", mod + "/web", mod + "/engine", "database/sql", "github.com/riverqueue", "modernc.org/sqlite", "github.com/jackc/pgx"}},
		{"engine", []string{mod + "/store", mod + "/web", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/riverqueue/river/riverdriver/riversqlite", "github.com/riverqueue/river/riverdriver/riverdatabasesql", "github.com/riverqueue/river/riverdriver/riverpgxv5", "net/http/httptest"}},
		{"web", []string{mod + "/store", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/riverqueue/river/riverdriver/riversqlite", "github.com/riverqueue/river/riverdriver/riverdatabasesql", "github.com/riverqueue/river/riverdriver/riverpgxv5"}},
		{"store", []string{mod + "/web"}},
		{"runbook/runs", []string{mod + "/store", mod + "/web", mod + "/backup", "database/sql", "modernc.org/sqlite", "github.com/jackc/pgx"}},
		{"policy", []string{mod + "/store", mod + "/web", mod + "/engine", mod + "/gateway", "database/sql"}},
		{"gateway", []string{mod + "/store", mod + "/web", mod + "/engine", "database/sql"}},
		{"rehearse", []string{mod + "/store", mod + "/web", mod + "/engine", "database/sql", "github.com/riverqueue"}},
		{"report", []string{mod + "/store", mod + "/web", mod + "/engine", mod + "/gateway", mod + "/notify", "database/sql", "github.com/riverqueue"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "./"+r.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", r.pkg, err, out)
		}
		deps := strings.Fields(string(out))
		for _, d := range deps {
			for _, f := range r.forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s imports %s (directly or not); STYLE.md forbids it", r.pkg, d)
				}
			}
		}
	}
}
