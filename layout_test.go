package sunset_test

import (
	"os/exec"
	"slices"
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
	// drivers are the storage drivers; only store and cmd/sunset may pull them in.
	drivers := []string{"modernc.org/sqlite", "github.com/jackc/pgx", "github.com/riverqueue/river/riverdriver/riversqlite", "github.com/riverqueue/river/riverdriver/riverdatabasesql", "github.com/riverqueue/river/riverdriver/riverpgxv5"}
	// webRoot is the package that assembles the router: no web package below it imports it.
	// A trailing "$" matches the package alone, not the packages under it.
	webRoot := mod + "/web$"
	// storage is what keeps state in a database (the store, database/sql, River's queue on it)
	// and httpAdapters what speaks HTTP for Sunset (the control plane's web packages, its Go
	// client, the gateway, notify's outbox and channels). Domain packages know neither.
	storage := slices.Concat([]string{mod + "/store", "database/sql", "github.com/riverqueue", mod + "/engine"}, drivers)
	httpAdapters := []string{mod + "/web", mod + "/client", mod + "/gateway", mod + "/notify"}
	domain := slices.Concat(storage, httpAdapters)
	// channelAdapter is what notify's channel adapters (and the leaf package of the types they
	// share) may not import: the outbox, the engine, River or storage.
	channelAdapter := slices.Concat([]string{mod + "/notify$", mod + "/engine", "github.com/riverqueue", mod + "/store", mod + "/web", "database/sql"}, drivers)
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		// Domain packages: no storage, no HTTP adapter.
		{"plan", domain},
		{"policy", domain},
		{"usage", domain},
		{"feedback", domain},
		{"contacts", domain},
		{"runbook/runs", slices.Concat(domain, []string{mod + "/backup"})},
		{"report", domain},
		{"engine", []string{mod + "/store", mod + "/web", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/riverqueue/river/riverdriver/riversqlite", "github.com/riverqueue/river/riverdriver/riverdatabasesql", "github.com/riverqueue/river/riverdriver/riverpgxv5", "net/http/httptest"}},
		{"web", append([]string{mod + "/store"}, drivers...)},
		// The Go client users import: no server package, no storage.
		{"client", append([]string{mod + "/web", mod + "/store"}, drivers...)},
		// The shared helpers of the web packages know none of them.
		{"web/httpx", append([]string{webRoot, mod + "/web/auth", mod + "/web/intake", mod + "/web/public", mod + "/web/ui", mod + "/web/api", mod + "/client$", mod + "/engine", mod + "/store", "database/sql"}, drivers...)},
		// The API's error document: the server and the client share it, so it knows neither.
		{"client/problem", []string{mod + "/web", mod + "/client$", mod + "/engine", mod + "/store", "database/sql", "net/http/httptest"}},
		// Authentication knows routes and roles, not what the routes serve.
		{"web/auth", append([]string{webRoot, mod + "/web/intake", mod + "/web/public", mod + "/web/ui", mod + "/web/api", mod + "/store"}, drivers...)},
		{"web/intake", append([]string{webRoot, mod + "/web/auth", mod + "/web/public", mod + "/web/ui", mod + "/web/api", mod + "/store"}, drivers...)},
		// The public pages: never the operator UI or the API, which hold what the public must
		// not see.
		{"web/public", append([]string{webRoot, mod + "/web/ui", mod + "/web/api", mod + "/store"}, drivers...)},
		// The operator pages: never the public pages or the API; the assembler hands them the
		// API's helpers they need as functions.
		{"web/ui", append([]string{webRoot, mod + "/web/public", mod + "/web/api", mod + "/store"}, drivers...)},
		// The REST API: never the pages of either audience.
		{"web/api", append([]string{webRoot, mod + "/web/public", mod + "/web/ui", mod + "/store"}, drivers...)},
		// The store implements the domain's persistence; it takes the domain's types, never an
		// HTTP adapter's (the gateway's usage batches are usage.Batch).
		{"store", []string{mod + "/web", mod + "/gateway", mod + "/client"}},
		// notify's channel adapters send a channel.Message; they need neither the outbox nor
		// the engine and River.
		{"notify/channel", channelAdapter},
		{"notify/smtp", channelAdapter},
		{"notify/webhook", channelAdapter},
		{"notify/chat", channelAdapter},
		{"notify/channels", channelAdapter},
		{"gateway", []string{mod + "/store", mod + "/web", mod + "/engine", "database/sql"}},
		{"rehearse", []string{mod + "/store", mod + "/web", mod + "/engine", "database/sql", "github.com/riverqueue"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "./"+r.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", r.pkg, err, out)
		}
		deps := strings.Fields(string(out))
		for _, d := range deps {
			for _, f := range r.forbidden {
				if exact, ok := strings.CutSuffix(f, "$"); ok {
					if d == exact {
						t.Errorf("%s imports %s (directly or not); STYLE.md forbids it", r.pkg, d)
					}
					continue
				}
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s imports %s (directly or not); STYLE.md forbids it", r.pkg, d)
				}
			}
		}
	}
}
