package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportRunCheckAndMigrateFromTheCommandLine exports users from a real HTTP endpoint on a
// running server, from an empty folder with $SUNSET_SERVER: run, check, link, keep, status; then
// runs a runbook whose migrate step posts every export to the alternative, one of which refuses;
// runbook status prints what failed and why. The folder stays empty.
func TestExportRunCheckAndMigrateFromTheCommandLine(t *testing.T) {
	// Serial: it runs the CLI from an empty folder (t.Chdir), which is the process's.
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"notes":[{"text":"hello"}]}`, strings.TrimPrefix(r.URL.Path, "/export/"))
	}))
	defer src.Close()
	alt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/bob") {
			http.Error(w, "bob already has an account", http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer alt.Close()
	dir := t.TempDir()
	planPath := writeNotesPlan(t, dir, threeContacts, src.URL, fmt.Sprintf(`runbook:
  - {name: move-users, migrate: {url: "%s/import/{id}", attempts: 2}, on_failure: continue}
`, alt.URL))
	// The server holds the keys; the client commands hold none.
	env := map[string]string{"SUNSET_EXPORT_KEY": "0123456789abcdef-cli", "SUNSET_BACKUP_KEY": "0123456789abcdef-backup"}
	// A month after the announcement: the public download pages are served.
	api := serveWithEnv(t, dir, env, "--example=false", "--now", "2027-02-01T10:00:00+08:00")
	folder := emptyFolder(t)
	cli := clientOf(t, api)
	if code, out, errs := cli("apply", planPath); code != 0 {
		t.Fatalf("apply: %d %s%s", code, out, errs)
	}
	run := func(args ...string) (int, string) {
		code, out, errs := cli(args...)
		return code, out + errs
	}
	if code, out := run("export", "run", "notes-v1"); code != 0 || !strings.Contains(out, "done, 3 users handled (3 done, 0 failed)") {
		t.Fatalf("export run: %d %s", code, out)
	}
	if code, out := run("export", "check", "notes-v1"); code != 1 || !strings.Contains(out, "3 exports were neither downloaded nor kept") || !strings.Contains(out, "[alice bob carol]") {
		t.Fatalf("export check: %d %s", code, out)
	}
	code, out := run("export", "link", "notes-v1", "alice")
	if code != 0 || !strings.HasPrefix(out, "https://sunset.example.com/exports/notes-v1/") {
		t.Fatalf("export link: %d %s", code, out)
	}
	// The link is genuine: the server opens alice's page from it once the announcement ran.
	page := strings.Replace(strings.TrimSpace(out), "https://sunset.example.com", api, 1)
	var last string
	eventually(t, "alice's download page", func() bool {
		resp, body := get(t, page, "")
		last = fmt.Sprintf("%d %.300s", resp.StatusCode, body)
		return resp.StatusCode == 200 && strings.Contains(body, "alice")
	}, &last)
	// Bob's page was not downloaded; keeping the exports in a backup lets the check pass.
	if code, out := run("export", "keep", "notes-v1"); code != 0 || !strings.Contains(out, "Kept 3 exports in archive ") || !strings.Contains(out, "(verified)") {
		t.Fatalf("export keep: %d %s", code, out)
	}
	if code, out := run("export", "check", "notes-v1"); code != 0 || !strings.Contains(out, "✓ every export of notes-v1 was downloaded or is kept in a backup") {
		t.Fatalf("export check after keep: %d %s", code, out)
	}
	if code, out := run("export", "keep", "notes-v1"); code != 0 || !strings.Contains(out, "Nothing to keep") {
		t.Fatalf("export keep again: %d %s", code, out)
	}
	if code, out := run("export", "status", "nope"); code != 1 || !strings.Contains(out, "nope") {
		t.Fatalf("export status of an unknown sunset: %d %s", code, out)
	}
	assertEmpty(t, folder)

	// The runbook runs in the server; its commands are clients too.
	if code, out := run("runbook", "run", "notes-v1", "--as", "li.wei"); code != 0 || !strings.Contains(out, "2 sent, 0 already migrated, 1 failed") {
		t.Fatalf("runbook run: %d %s", code, out)
	}
	code, out = run("runbook", "status", "notes-v1")
	if code != 0 || !strings.Contains(out, "bob: POST") || !strings.Contains(out, "409 Conflict: bob already has an account (1 attempts)") {
		t.Fatalf("runbook status: %d %s", code, out)
	}
	if code, out := run("export", "status", "notes-v1"); code != 0 || !strings.Contains(out, "migrated 2, migration failed 1") {
		t.Fatalf("export status: %d %s", code, out)
	}
	assertEmpty(t, folder)
}

// threeContacts is the contact list of the export tests' notes-v1: two English readers, one
// Chinese.
const threeContacts = "id,email,locale\nalice,a@example.com,en\nbob,b@example.com,zh\ncarol,c@example.com,en\n"

// writeNotesPlan writes contacts.csv and the plan of notes-v1 into dir: each user's export fetched
// from exportURL/export/{id} into dir/exports, and extra (more top-level sections) appended. It
// returns the plan's path.
func writeNotesPlan(t *testing.T, dir, contacts, exportURL, extra string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	planPath := filepath.Join(dir, "sunset.yaml")
	plan := fmt.Sprintf(`service:
  name: notes-v1
consumers:
  contacts: %s/contacts.csv
milestones:
  announce: 2027-01-04T10:00
  deprecate: 2027-01-04T10:00
  shutdown: 2027-03-01T02:00
  delete_data: 2027-09-01
data:
  export:
    per_user: {http: "%s/export/{id}"}
    to: file://%s/exports
    public_url: https://sunset.example.com
`, dir, exportURL, dir) + extra
	if err := os.WriteFile(planPath, []byte(plan), 0o600); err != nil {
		t.Fatal(err)
	}
	return planPath
}
