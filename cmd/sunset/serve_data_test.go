package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
)

const dataTestKey = "0123456789abcdef-data-test"

// dataPlan is a plan whose runbook backs up a SQLite database and stops the service, and whose
// delete_data removes the service's data directory.
func dataPlan(dir, name, retention string) string {
	return fmt.Sprintf(`service:
  name: %[2]s
milestones:
  announce: 2027-01-04T10:00
  deprecate: 2027-01-04T10:00
  shutdown: 2027-03-01T02:00
  delete_data: 2027-09-01
data:
  backups: [{name: main-db, source: {sqlite: %[1]s/app.db}, to: "file://%[1]s/backups"}]
  retention: {%[3]s}
runbook:
  - {name: final-backup, backup: main-db, verify: true}
  - {name: stop-service, exec: [sh, -c, "echo stopped >> %[1]s/stop.log"]}
`, dir, name, strings.ReplaceAll(retention, "DIR", dir))
}

type dataBundle struct {
	dir   string
	clock *sunset.FixedClock
	st    *store.DB
	eng   *engine.Engine
	data  *dataServices
	// api is the URL of the bundle's web server; getenv the server's environment.
	api    string
	getenv func(string) string
}

// setupData assembles the system as serve does, on a scratch database whose clock stands still,
// with a plan whose delete_data deletes per retention, and starts it.
func setupData(t *testing.T, name, retention string) *dataBundle {
	t.Helper()
	dir := t.TempDir()
	live, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.Exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT); INSERT INTO orders (item) VALUES ('tea'), ('pot')`); err != nil {
		t.Fatal(err)
	}
	live.Close()
	if err := os.MkdirAll(filepath.Join(dir, "service-data", "uploads"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "service-data", "uploads", "a.txt"), []byte("user file"), 0o600)
	b := &dataBundle{dir: dir, clock: sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)),
		getenv: func(k string) string {
			if k == "SUNSET_BACKUP_KEY" {
				return dataTestKey
			}
			return ""
		}}
	sys, err := assemble(t.Context(), systemConfig{DB: "sqlite:" + filepath.Join(dir, "sunset.db"), Runtime: sunset.Runtime{Clock: b.clock},
		Getenv: b.getenv, EnginePoll: 20 * time.Millisecond, RunbookEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Stop)
	b.st, b.eng, b.data = sys.Store, sys.Engine, sys.Data
	if _, err := b.eng.Apply(t.Context(), filepath.Join(dir, "sunset.yaml"), []byte(dataPlan(dir, name, retention)), "tester"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Start(t.Context(), ln); err != nil {
		t.Fatal(err)
	}
	b.api = "http://" + ln.Addr().String()
	return b
}

// shutDown travels to the day after the shutdown and waits until the runbook it started (the
// final backup, the stop) is done: delete_data, months later, finds the backup archive.
func (b *dataBundle) shutDown(t *testing.T, name string) {
	t.Helper()
	b.travel(t, name, time.Date(2027, 3, 1, 3, 0, 0, 0, time.UTC))
	eventually(t, "the runbook is done", func() bool {
		run, err := b.st.LatestRun(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if run.State.Ended() && run.State != runbook.StateDone {
			t.Fatalf("run %s: %s", run.State, run.Message)
		}
		return run.State == runbook.StateDone
	})
}

// travel moves the clock to at and waits until every due action ran.
func (b *dataBundle) travel(t *testing.T, name string, at time.Time) {
	t.Helper()
	b.clock.Set(at)
	if _, err := b.eng.Dispatch(t.Context()); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "every due action to run", func() error {
		acts, err := b.eng.Actions(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			if a.Status == engine.ActionEnqueued || a.Status == engine.ActionPending && !a.At.After(at) {
				return fmt.Errorf("still due: %+v", a)
			}
		}
		return nil
	})
}

func (b *dataBundle) event(t *testing.T, name, typ, key string) map[string]any {
	t.Helper()
	evs, err := b.eng.Events(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		var d map[string]any
		_ = jsonUnmarshal(e.Data, &d)
		if e.Type == typ && (key == "" || d["key"] == key) {
			return d
		}
	}
	return nil
}

func TestTheTimelineStartsTheRunbookAndTheWorkerRunsIt(t *testing.T) {
	t.Parallel()
	b := setupData(t, "orders-api-v1", "")
	b.travel(t, "orders-api-v1", time.Date(2027, 3, 1, 3, 0, 0, 0, time.UTC))
	ev := b.event(t, "orders-api-v1", "action.runbook", "runbook/start")
	if ev == nil || ev["runbook_run"] == nil {
		t.Fatalf("runbook/start event = %v, want the run's id", ev)
	}
	testenv.Eventually(t, 30*time.Second, "the runbook run to be done", func() error {
		run, err := b.st.LatestRun(t.Context(), "orders-api-v1")
		if err != nil {
			t.Fatal(err)
		}
		if run.State == runbook.StateDone {
			if run.StartedBy != engineActor || run.Verified["main-db"] == "" {
				t.Errorf("run = %+v", run)
			}
			return nil
		}
		if run.State.Ended() {
			t.Fatalf("run %s: %s", run.State, run.Message)
		}
		return fmt.Errorf("run %s: %s", run.State, run.Message)
	})
	if got, _ := os.ReadFile(filepath.Join(b.dir, "stop.log")); string(got) != "stopped\n" {
		t.Errorf("stop step ran %q, want once", got)
	}
}

func TestDeleteDataNeedsApprovalNeverRunsUnderLegalHoldAndLeavesAnEvent(t *testing.T) {
	// Serial: it runs the CLI from an empty folder (t.Chdir), which is the process's.
	deleteAt := time.Date(2027, 9, 2, 0, 0, 0, 0, time.UTC)
	t.Run("under a legal hold nothing is deleted, even when approved", func(t *testing.T) {
		b := setupData(t, "held-v1", "legal_hold: true, delete: {dir: DIR/service-data}")
		if err := b.eng.RecordEvent(t.Context(), "held-v1", "data.delete_approved", "li.wei", nil); err != nil {
			t.Fatal(err)
		}
		b.shutDown(t, "held-v1")
		b.travel(t, "held-v1", deleteAt)
		ev := b.event(t, "held-v1", "action.data", "data/delete")
		if ev["deleted"] != false || !strings.Contains(fmt.Sprint(ev["reason"]), "legal hold") {
			t.Errorf("event = %v", ev)
		}
		if _, err := os.Stat(filepath.Join(b.dir, "service-data", "uploads", "a.txt")); err != nil {
			t.Errorf("data under legal hold is gone: %v", err)
		}
	})
	t.Run("approved before delete_data, the action deletes and its event lists what and the backup", func(t *testing.T) {
		b := setupData(t, "early-v1", "delete: {exec: [rm, -r, DIR/service-data]}")
		if err := b.eng.RecordEvent(t.Context(), "early-v1", "data.delete_approved", "zhang.min", nil); err != nil {
			t.Fatal(err)
		}
		b.shutDown(t, "early-v1")
		b.travel(t, "early-v1", deleteAt)
		ev := b.event(t, "early-v1", "action.data", "data/delete")
		backups, _ := ev["backups"].([]any)
		if ev["deleted"] != true || ev["what"] != "command rm -r "+b.dir+"/service-data" || len(backups) != 1 {
			t.Fatalf("event = %v", ev)
		}
		if _, err := os.Stat(filepath.Join(b.dir, "service-data")); !os.IsNotExist(err) {
			t.Errorf("data still there: %v", err)
		}
	})
	t.Run("without approval it waits; approved, the command deletes and records where the backup is", func(t *testing.T) {
		b := setupData(t, "orders-api-v1", "delete: {dir: DIR/service-data}")
		b.shutDown(t, "orders-api-v1")
		b.travel(t, "orders-api-v1", deleteAt)
		ev := b.event(t, "orders-api-v1", "action.data", "data/delete")
		if ev["deleted"] != false || !strings.Contains(fmt.Sprint(ev["reason"]), "waiting for 1 approval") {
			t.Fatalf("event = %v", ev)
		}
		if _, err := os.Stat(filepath.Join(b.dir, "service-data")); err != nil {
			t.Fatalf("deleted without approval: %v", err)
		}
		// The commands are clients of the server, run from an empty folder with $SUNSET_SERVER;
		// the CLI holds no key and opens no database.
		folder := emptyFolder(t)
		run := func(args ...string) (int, string) {
			out := &bytes.Buffer{}
			m := &Main{Stdout: out, Stderr: out, Getenv: func(k string) string {
				if k == "SUNSET_SERVER" {
					return b.api
				}
				return ""
			}}
			code := m.Run(context.Background(), args)
			return code, out.String()
		}
		if code, out := run("export", "delete", "orders-api-v1", "--as", "li.wei"); code == 0 || !strings.Contains(out, "approval") {
			t.Fatalf("delete before approval: %d %s", code, out)
		}
		if code, out := run("export", "approve-delete", "orders-api-v1", "--as", "li.wei"); code != 0 || !strings.Contains(out, "(1 of 1 approvals: li.wei)") {
			t.Fatalf("approve: %d %s", code, out)
		}
		if code, out := run("export", "approve-delete", "orders-api-v1", "--as", "li.wei"); code != 1 || !strings.Contains(out, "li.wei has already approved") {
			t.Fatalf("second approval by the same person: %d %s", code, out)
		}
		// The runbook took a verified backup at shutdown; its archive is what the event names.
		code, out := run("export", "delete", "orders-api-v1", "--as", "li.wei")
		if code != 0 || !strings.Contains(out, "directory "+b.dir+"/service-data") {
			t.Fatalf("delete: %d %s", code, out)
		}
		if _, err := os.Stat(filepath.Join(b.dir, "service-data")); !os.IsNotExist(err) {
			t.Errorf("data still there: %v", err)
		}
		ev = b.event(t, "orders-api-v1", "data.deleted", "")
		backups, _ := ev["backups"].([]any)
		if ev["deleted"] != true || len(backups) != 1 || !strings.Contains(fmt.Sprint(backups[0]), "file://"+b.dir+"/backups/main-db-") {
			t.Errorf("data.deleted event = %v", ev)
		}
		if code, out := run("export", "delete", "orders-api-v1", "--as", "li.wei"); code == 0 || !strings.Contains(out, "already deleted") {
			t.Errorf("second delete: %d %s", code, out)
		}
		assertEmpty(t, folder)
	})
}

func jsonUnmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}
