package cluster_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sunsetops/sunset/notify/notifytest"
)

// folderPlan is an operator's plan: its contacts file sits next to it and is named relative to
// it; the backup's source is the service's SQLite database on the server's machine. %s: the SMTP
// server's address, the source database, the backup destination.
const folderPlan = `service:
  name: ledger-v1
  title: {en: Ledger API v1, zh: 账本 API v1}
  timezone: Asia/Shanghai
  owners:
    - {name: Li Wei, email: li.wei@example.com, role: accountable}
consumers:
  identify: {header: X-API-Key}
  contacts: contacts.csv
milestones:
  announce: 2027-01-05T10:00
  deprecate: announce
  shutdown: 2027-03-15T02:00
notices:
  - {at: announce, to: all, channels: [email], template: announce}
channels:
  email: {smtp: "%s", tls: none, from: "Sunset <noreply@example.com>"}
data:
  backups:
    - {name: main-db, source: {sqlite: "%s"}, to: "%s"}
`

const folderContacts = `id,email,name,locale,tier
acme,ops@acme.example.com,Acme Corp,en,critical
globex,api@globex.example.com,Globex,en,standard
initech,dev@initech.example.com,Initech,en,standard
zhongshan,it@zhongshan.example.cn,中山贸易,zh-CN,critical
hooli,platform@hooli.example.com,Hooli,en,free
umbrella,it@umbrella.example.com,Umbrella,en,free
`

// inFolder runs the sunset binary in dir with env and returns its exit code and output.
func inFolder(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(sunsetBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("sunset %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String()
}

// files lists what dir holds.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// The deployed path, as an operator meets it: the server runs in folder A, the operator applies
// from folder B a plan that names its contacts relative to itself, and someone in folder C asks
// the server through $SUNSET_SERVER. Every contact gets the announcement through a real SMTP
// server; C's commands answer and leave C empty. Runs on SQLite: no PostgreSQL needed.
func TestThreeFolders(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	sink, err := notifytest.NewSMTPSink(true)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()

	// The retiring service's own database, on the server's machine.
	source := filepath.Join(a, "ledger.db")
	db, err := sql.Open("sqlite", source)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE entries (id INTEGER PRIMARY KEY, amount INTEGER); INSERT INTO entries (amount) VALUES (10), (20), (30)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	backups := filepath.Join(a, "backups")

	if err := os.WriteFile(filepath.Join(b, "ledger.yaml"), fmt.Appendf(nil, folderPlan, sink.Addr, source, "file://"+backups), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "contacts.csv"), []byte(folderContacts), 0o600); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	url := "http://" + addr
	// The server runs in A, where no contacts.csv is: it must use the one B sends.
	startIn(t, a, "serve in A", url, "/readyz", []string{"SUNSET_BACKUP_KEY=three-folders-test-key-0123456789"},
		"serve", "--addr", addr, "--db", "sqlite:sunset.db", "--example=false",
		"--public-url", "https://sunset.example.com", "--now", "2027-01-05T10:00:30+08:00")
	env := []string{"SUNSET_SERVER=" + url}

	code, out := inFolder(t, b, env, "apply", "ledger.yaml")
	if code != 0 || !strings.Contains(out, "contacts.csv") {
		t.Fatalf("apply from B: exit %d\n%s", code, out)
	}
	t.Logf("apply from B:\n%s", out)

	waitFor(t, 30*time.Second, "the announcement reaches all six contacts", func() bool {
		_, distinct := sink.Counts()
		return distinct == 6
	})
	got := map[string]bool{}
	for _, m := range sink.Mails() {
		for _, to := range m.To {
			got[to] = true
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(folderContacts), "\n")[1:] {
		email := strings.Split(line, ",")[1]
		if !got[email] {
			t.Errorf("%s got no announcement", email)
		}
	}

	// From C, through $SUNSET_SERVER only.
	for _, step := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"status", "ledger-v1"}, 0, []string{"ledger-v1 (Ledger API v1 / 账本 API v1)", "revision:  1"}},
		{[]string{"notify", "status", "ledger-v1"}, 0, []string{"notice/0", "Consumers: 6 known"}},
		// The sunset is found; it has no run yet, which the command says (and exits 1, as for
		// anything it cannot show).
		{[]string{"runbook", "status", "ledger-v1"}, 1, []string{"Sunset ledger-v1 has no runbook run"}},
		{[]string{"backup", "create", "ledger-v1", "--backup", "main-db"}, 0, []string{"main-db: main-db-"}},
		{[]string{"backup", "list", "ledger-v1"}, 0, []string{"1 archives", "sqlite"}},
		{[]string{"export", "status", "ledger-v1"}, 0, []string{"No export job for ledger-v1 yet"}},
		{[]string{"events", "verify", "ledger-v1"}, 0, []string{"chain intact"}},
	} {
		code, out := inFolder(t, c, env, step.args...)
		t.Logf("sunset %s (from C): exit %d\n%s", strings.Join(step.args, " "), code, out)
		if code != step.code {
			t.Errorf("sunset %s from C: exit %d, want %d\n%s", strings.Join(step.args, " "), code, step.code, out)
		}
		if strings.Contains(out, "does not exist") || strings.Contains(out, "No sunset") {
			t.Errorf("sunset %s from C does not find the sunset:\n%s", strings.Join(step.args, " "), out)
		}
		for _, w := range step.want {
			if !strings.Contains(out, w) {
				t.Errorf("sunset %s from C lacks %q:\n%s", strings.Join(step.args, " "), w, out)
			}
		}
	}
	if left := files(t, c); len(left) != 0 {
		t.Errorf("the client commands left files in C: %v", left)
	}
	if left := files(t, b); len(left) != 2 {
		t.Errorf("folder B holds %v, want only the plan and its contacts", left)
	}
	if _, err := os.Stat(filepath.Join(a, "sunset.db")); err != nil {
		t.Errorf("the server's database is not in A: %v", err)
	}
	if archives, err := os.ReadDir(backups); err != nil || len(archives) == 0 {
		t.Errorf("no archive in the declared destination %s (%v)", backups, err)
	}
}
