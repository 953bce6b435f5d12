package notify_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/channels"
	"github.com/sunsetops/sunset/notify/notifytest"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store/sqlite"
)

// crashEnv names the environment of the child process TestCrashChild runs as.
const crashEnv = "SUNSET_NOTIFY_CRASH_DB"

// TestCrashChild is not a test on its own: TestExactlyOnceAcrossKills runs the test binary with
// SUNSET_NOTIFY_CRASH_DB set, and this function is then the sending process it kills.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("runs only as the child of TestExactlyOnceAcrossKills")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	w := &notify.Worker{
		Outbox: st.Outbox(), Channels: channels.Factory(channels.Options{Getenv: func(string) string { return webhookKey }}),
		Batch: 64, Concurrency: 16, Lease: 300 * time.Millisecond, PublicURL: "https://sunset.example.com",
		// The campaign was fanned out at a rehearsal instant; the child's clock runs from there.
		Clock: sunset.NewOffsetClock(time.Date(2027, 1, 6, 0, 0, 1, 0, time.UTC)),
	}
	for {
		n, err := w.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if os.Getenv("SUNSET_NOTIFY_CRASH_FINISH") != "" && allDelivered(t, st.Outbox()) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func allDelivered(t *testing.T, o notify.Outbox) bool {
	l, err := o.Ledger(context.Background(), "orders-api-v1", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range l.Counts {
		if c.Status != notify.StatusDelivered {
			return false
		}
	}
	return true
}

// TestExactlyOnceAcrossKills kills the sending process with SIGKILL at random points of a
// campaign, restarts it, and checks that every recipient got its message on each channel, and
// that any message sent again (interrupted between the send and its record) carried the same
// idempotency key, so that receivers see one message each.
func TestExactlyOnceAcrossKills(t *testing.T) {
	// Serial: it kills its child process at random wall-clock instants; other tests' load would
	// shift where the kills land.
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const recipients, kills = 2000, 6
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("id,email,name,locale\n")
	for i := range recipients {
		loc := "en"
		if i%2 == 1 {
			loc = "zh-CN"
		}
		fmt.Fprintf(&csv, "c%05d,c%05d@example.com,User %d,%s\n", i, i, i, loc)
	}
	contacts := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(contacts, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	smtpSink, err := notifytest.NewSMTPSink(false)
	if err != nil {
		t.Fatal(err)
	}
	defer smtpSink.Close()
	hooks := notifytest.NewWebhookSink([]byte(webhookKey), false)
	srv := httptest.NewServer(hooks)
	defer srv.Close()

	// Fan the notice out through the engine, then close the store.
	dbPath := filepath.Join(dir, "sunset.db")
	func() {
		ctx := t.Context()
		st, err := sqlite.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		clock := sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		eng.Register(plan.KindNotice, &notify.Handler{Outbox: st.Outbox()})
		if _, err := eng.ApplyBundle(ctx, "plan.yaml", fmt.Appendf(nil, planYAML, contacts, smtpSink.Addr, srv.URL), plan.LocalFiles(""), "test"); err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer eng.Stop()
		clock.Set(time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC))
		eng.Dispatch(ctx)
		testenv.Eventually(t, 15*time.Second, "the notice to fan out (notice/0 done)", func() error {
			acts, err := eng.Actions(ctx, "orders-api-v1")
			if err != nil {
				return err
			}
			for _, a := range acts {
				if a.Key == "notice/0" {
					if a.Status == engine.ActionDone {
						return nil
					}
					return fmt.Errorf("notice/0 is %s", a.Status)
				}
			}
			return fmt.Errorf("no notice/0 among %d actions", len(acts))
		})
	}()

	child := func(finish bool) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dbPath)
		if finish {
			cmd.Env = append(cmd.Env, "SUNSET_NOTIFY_CRASH_FINISH=1")
		}
		cmd.Stderr = os.Stderr
		return cmd
	}
	for i := range kills {
		cmd := child(false)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(150+rand.IntN(500)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		tw, _, _ := hooks.Counts()
		tm, _ := smtpSink.Counts()
		t.Logf("kill %d: %d webhooks and %d emails received so far", i+1, tw, tm)
	}
	cmd := child(true)
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("final run: %v", err)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the final run did not finish the campaign")
	}

	for _, c := range []struct {
		name string
		byID map[string]int
	}{{"webhook", hooks.ByID()}, {"email", smtpSink.ByID()}} {
		if len(c.byID) != recipients {
			t.Errorf("%s: %d distinct messages, want %d (one per recipient)", c.name, len(c.byID), recipients)
		}
		repeats := 0
		for _, n := range c.byID {
			repeats += n - 1
		}
		t.Logf("%s: %d recipients reached once each by key; %d repeats with the same key (sent, then killed before the record)", c.name, len(c.byID), repeats)
	}
	if _, _, bad := hooks.Counts(); bad != 0 {
		t.Errorf("%d badly signed webhooks", bad)
	}
}
