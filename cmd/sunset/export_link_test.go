package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSymlinkedExportDownloadIs404 runs real exports into a folder, then plants symbolic links
// there: in place of one user's zip (to a file outside the folder, and to another user's zip
// inside it) and in place of the sunset's folder of zips. Each download through a link answers a
// 404 problem and never the linked file's bytes; a genuine download still works.
func TestSymlinkedExportDownloadIs404(t *testing.T) {
	// Serial: it runs the CLI from an empty folder (t.Chdir), which is the process's.
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q}`, strings.TrimPrefix(r.URL.Path, "/export/"))
	}))
	defer src.Close()
	dir := t.TempDir()
	planPath := writeNotesPlan(t, dir, threeContacts, src.URL, "")
	secret := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(secret, []byte("outside secret"), 0o600)

	env := map[string]string{"SUNSET_EXPORT_KEY": "0123456789abcdef-cli"}
	api := serveWithEnv(t, dir, env, "--example=false", "--now", "2027-02-01T10:00:00+08:00")
	emptyFolder(t)
	cli := clientOf(t, api)
	if code, out, errs := cli("apply", planPath); code != 0 {
		t.Fatalf("apply: %d %s%s", code, out, errs)
	}
	if code, out, errs := cli("export", "run", "notes-v1"); code != 0 {
		t.Fatalf("export run: %d %s%s", code, out, errs)
	}
	zips := map[string]string{} // user → the zip's path
	filepath.WalkDir(filepath.Join(dir, "exports"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".zip") {
			for _, u := range []string{"alice", "bob", "carol"} {
				if strings.Contains(filepath.Base(p), u) {
					zips[u] = p
				}
			}
		}
		return nil
	})
	if len(zips) != 3 {
		t.Fatalf("zips in the export folder: %v", zips)
	}
	download := func(user string) string {
		t.Helper()
		code, out, errs := cli("export", "link", "notes-v1", user)
		if code != 0 {
			t.Fatalf("export link %s: %d %s%s", user, code, out, errs)
		}
		return strings.Replace(strings.TrimSpace(out), "https://sunset.example.com", api, 1) + "/download"
	}
	var last string
	eventually(t, "carol's genuine download", func() bool {
		resp, body := get(t, download("carol"), "")
		last = fmt.Sprintf("%d %.200s", resp.StatusCode, body)
		return resp.StatusCode == 200 && strings.HasPrefix(body, "PK")
	}, &last)

	refused := func(user string) {
		t.Helper()
		resp, body := get(t, download(user), "")
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s through a link: %d %s %.200q, want a 404 problem", user, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			return
		}
		var p struct{ Code, Detail string }
		if err := json.Unmarshal([]byte(body), &p); err != nil || p.Code != "not_found" || strings.Contains(body, "secret") {
			t.Errorf("%s: problem %s", user, body)
		}
	}

	// alice's zip becomes a link to a file outside the folder; bob's a link to carol's zip.
	for user, target := range map[string]string{"alice": secret, "bob": zips["carol"]} {
		os.Remove(zips[user])
		if err := os.Symlink(target, zips[user]); err != nil {
			t.Fatal(err)
		}
	}
	refused("alice")
	refused("bob")
	if resp, body := get(t, download("carol"), ""); resp.StatusCode != 200 || !strings.HasPrefix(body, "PK") {
		t.Fatalf("carol's genuine zip beside the links: %d", resp.StatusCode)
	}

	// The folder holding carol's zip is moved away and a link to it put in its place.
	folder := filepath.Dir(zips["carol"])
	moved := filepath.Join(dir, "moved")
	if err := os.Rename(folder, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(moved, folder); err != nil {
		t.Fatal(err)
	}
	refused("carol")
}
