package runbook_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/postgres"
	"github.com/sunsetops/sunset/store/sqlite"
	"github.com/sunsetops/sunset/store/storetest"
)

const testKey = "0123456789abcdef-crash-test"

// TestMain lets the test binary act as the runner subprocess that the crash test kills.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SUNSET_RUNBOOK_CHILD"); dir != "" {
		os.Exit(child(dir))
	}
	testenv.Main(m)
}

func crashPlan(dir string) string {
	return fmt.Sprintf(`service:
  name: crash-demo
milestones:
  announce: 2027-01-04T10:00
  deprecate: 2027-01-04T10:00
  shutdown: 2027-03-01T02:00
data:
  backups: [{name: main-db, source: {sqlite: %[1]s/app.db}, to: "file://%[1]s/backups"}]
runbook:
  - {name: mark-start, exec: [sh, -c, "echo x >> %[1]s/start.count; sleep 0.05"], idempotent: true}
  - {name: final-backup, backup: main-db, verify: true}
  - {name: stop-service, no_return: true, exec: [sh, -c, "sleep 0.1; echo x >> %[1]s/stop.count; sleep 0.1"]}
  - {name: settle, wait: 200ms}
  - {name: notify-ops, exec: [sh, -c, "echo x >> %[1]s/notify.count"]}
`, dir)
}

// child runs (or resumes) the run once and exits 0 when it ended or parked, 3 on error.
func child(dir string) int {
	ctx := context.Background()
	st, err := openState(ctx, dir, os.Getenv("SUNSET_RUNBOOK_CHILD_PG"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	defer st.Close()
	p, problems := plan.ParseFile(filepath.Join(dir, "sunset.yaml"))
	if err := problems.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	// The parent starts its kill timer when it reads this line (opening PostgreSQL takes longer
	// than the whole kill window).
	fmt.Println("ready")
	r := &runbook.Runner{Store: st, Backups: &runbook.BackupService{Key: backup.Key(testKey)}, PollEvery: 20 * time.Millisecond, RetryDelay: 10 * time.Millisecond}
	run, err := st.LatestRun(ctx, "crash-demo")
	if err == runbook.ErrNoRun {
		run, err = r.Start(ctx, "crash-demo", p, "tester")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if _, err := r.Execute(ctx, run.ID, p); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	return 0
}

// openState opens the runner's state: PostgreSQL when pg (a DSN) is set, else a SQLite file in dir.
func openState(ctx context.Context, dir, pg string) (*store.DB, error) {
	if pg != "" {
		return postgres.Open(ctx, pg)
	}
	return sqlite.Open(ctx, filepath.Join(dir, "state.db"))
}

func count(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "x")
}

// TestRunSurvivesSIGKILLAtRandomPoints kills the runner subprocess at random instants, restarts
// it, and plays the operator when a non-idempotent step was interrupted (marking it done when
// its effect is visible, retrying it otherwise). Each run must end with every non-idempotent
// step's effect exactly once and a final backup that verifies. SUNSET_CRASH_ROUNDS sets how
// many runs (default 3; bench/crash.sh runs 30).
func TestRunSurvivesSIGKILLAtRandomPoints(t *testing.T) {
	// Serial (both SIGKILL tests): the kills land in a wall-clock window, which other tests'
	// load would stretch into start-up only.
	crashRounds(t, func(*testing.T) string { return "" })
}

// TestRunSurvivesSIGKILLOnPostgres is the same test with the runs kept in PostgreSQL.
func TestRunSurvivesSIGKILLOnPostgres(t *testing.T) {
	crashRounds(t, func(t *testing.T) string {
		dsn, _ := storetest.PostgresDSN(t) // skips without SUNSET_TEST_POSTGRES_URL
		return dsn
	})
}

// crashRounds runs the crash test; newPG returns a fresh PostgreSQL DSN for each round, or "" for
// SQLite.
func crashRounds(t *testing.T, newPG func(*testing.T) string) {
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("SUNSET_CRASH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	if testing.Short() {
		rounds = 1
	}
	kills, operator := 0, 0
	for round := range rounds {
		dir := t.TempDir()
		pg := newPG(t)
		os.WriteFile(filepath.Join(dir, "sunset.yaml"), []byte(crashPlan(dir)), 0o644)
		db, _ := sql.Open("sqlite", filepath.Join(dir, "app.db"))
		db.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
		for i := range 200 {
			db.Exec("INSERT INTO users (email) VALUES (?)", fmt.Sprintf("u%d@example.com", i))
		}
		db.Close()
		ctx := context.Background()
		for attempt := 0; ; attempt++ {
			if attempt > 60 {
				t.Fatalf("round %d: the run did not finish after %d restarts", round, attempt)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "SUNSET_RUNBOOK_CHILD="+dir, "SUNSET_RUNBOOK_CHILD_PG="+pg)
			cmd.Stderr = os.Stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ready := make(chan struct{})
			go func() {
				// On SQLite the window opens at once (kills during start-up too); on PostgreSQL,
				// whose store takes longer to open than the window lasts, when the child is ready.
				br := bufio.NewReader(stdout)
				if pg != "" {
					br.ReadString('\n')
				}
				close(ready)
				io.Copy(io.Discard, br)
			}()
			done := make(chan error, 1)
			go func() {
				<-ready
				done <- cmd.Wait()
			}()
			<-ready
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("round %d: runner failed: %v", round, err)
				}
			// The window widens every 15 restarts, so that a loaded machine, where start-up
			// alone can outlast 400 ms, still lets a run finish.
			case <-time.After(time.Duration(rand.IntN(400<<(attempt/15))) * time.Millisecond):
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				kills++
				continue
			}
			st, err := openState(ctx, dir, pg)
			if err != nil {
				t.Fatal(err)
			}
			run, err := st.LatestRun(ctx, "crash-demo")
			if err != nil {
				t.Fatal(err)
			}
			if run.State == runbook.StateDone {
				st.Close()
				break
			}
			if run.State != runbook.StateOperator {
				t.Fatalf("round %d: run ended %s: %s", round, run.State, run.Message)
			}
			// Play the operator: look at the effect of the interrupted step.
			operator++
			r := &runbook.Runner{Store: st}
			var st0 *runbook.StepState
			for _, s := range run.Steps {
				if s.Status == runbook.StepOperator {
					st0 = s
				}
			}
			file := map[string]string{"stop-service": "stop.count", "notify-ops": "notify.count"}[st0.Name]
			res := runbook.Retry
			if count(t, filepath.Join(dir, file)) == 1 {
				res = runbook.MarkDone
			}
			if err := r.Resolve(ctx, run, res, "operator"); err != nil {
				t.Fatal(err)
			}
			st.Close()
		}
		if n := count(t, filepath.Join(dir, "stop.count")); n != 1 {
			t.Errorf("round %d: stop-service ran %d times, want exactly once", round, n)
		}
		if n := count(t, filepath.Join(dir, "notify.count")); n != 1 {
			t.Errorf("round %d: notify-ops ran %d times, want exactly once", round, n)
		}
		if n := count(t, filepath.Join(dir, "start.count")); n < 1 {
			t.Errorf("round %d: mark-start never ran", round)
		}
		st, err := openState(ctx, dir, pg)
		if err != nil {
			t.Fatal(err)
		}
		run, _ := st.LatestRun(ctx, "crash-demo")
		st.Close()
		id := run.Verified["main-db"]
		dest, err := backup.OpenDest(ctx, filepath.Join(dir, "backups"))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := backup.Verify(ctx, dest, id, backup.VerifyOptions{Key: backup.Key(testKey)})
		dest.Close()
		if err != nil || rep.Err() != nil {
			t.Errorf("round %d: final backup %q does not verify: %v %v", round, id, err, rep.Err())
		}
	}
	if t.Failed() {
		t.Logf("%d runs, %d SIGKILLs, %d stops for an operator; FAILED (see above)", rounds, kills, operator)
		return
	}
	t.Logf("%d runs, %d SIGKILLs, %d stops for an operator; every non-idempotent step's effect exactly once, every final backup verified", rounds, kills, operator)
}
