package cluster_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to read what the cluster stored

	"github.com/sunsetops/sunset/store/storetest"
)

// webhookSink is a receiver of notice webhooks that counts every POST per delivery key (the
// Standard Webhooks webhook-id header, the same on every retry) and per recipient.
type webhookSink struct {
	*httptest.Server
	delay time.Duration

	mu          sync.Mutex
	posts       int
	byKey       map[string]int
	byRecipient map[string]map[string]bool // recipient id → delivery keys
}

func newWebhookSink(t *testing.T, delay time.Duration) *webhookSink {
	s := &webhookSink{delay: delay, byKey: map[string]int{}, byRecipient: map[string]map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *webhookSink) serve(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Data struct {
			Recipient struct {
				ID string `json:"id"`
			} `json:"recipient"`
		} `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	time.Sleep(s.delay) // a receiver that takes a moment, so that a campaign lasts long enough to be interrupted
	key := r.Header.Get("webhook-id")
	s.mu.Lock()
	s.posts++
	s.byKey[key]++
	if s.byRecipient[body.Data.Recipient.ID] == nil {
		s.byRecipient[body.Data.Recipient.ID] = map[string]bool{}
	}
	s.byRecipient[body.Data.Recipient.ID][key] = true
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// received returns how many distinct deliveries arrived.
func (s *webhookSink) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}

const (
	recipients = 3000
	// The clock of every replica starts 12 seconds before the shutdown milestone: the plan's
	// past (announce, its notice campaign) runs at once, the runbook starts 12 s later.
	clusterNow = "2027-03-15T01:59:48Z"
	runSteps   = 5
)

// clusterPlan writes the plan and its contacts under dir: a notice to every one of the
// recipients by webhook at announce, and a runbook of exec steps that each append a line naming
// the step and the replica that ran it to steps.log, then take a second.
func clusterPlan(t *testing.T, dir, webhook string) string {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("id,email,name,locale,tier\n")
	for i := range recipients {
		fmt.Fprintf(&csv, "user-%05d,user%d@example.com,User %d,en,standard\n", i, i, i)
	}
	contacts := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(contacts, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `service:
  name: orders-api-v1
  timezone: UTC
consumers:
  identify: {header: X-API-Key}
  contacts: %s
milestones:
  announce: 2027-01-05T10:00
  deprecate: 2027-01-05T10:00
  shutdown: 2027-03-15T02:00
notices:
  - {at: announce, to: all, channels: [webhook], template: announce}
channels:
  webhooks:
    - {name: partners, url: %q}
runbook:
`, contacts, webhook)
	log := filepath.Join(dir, "steps.log")
	for i := 1; i <= runSteps; i++ {
		fmt.Fprintf(&b, "  - {name: step-%d, exec: [sh, -c, 'echo step-%d $REPLICA_NAME >> %s; sleep 1']}\n", i, i, log)
	}
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestThreeReplicasDoEverythingOnceWhenOneIsKilledDuringACampaignAndOneDuringTheRunbook is the
// replicas guarantee: three `sunset serve` processes on one PostgreSQL database carry a sunset
// through its timeline; one is SIGKILLed while the notice campaign is being delivered, another
// while it runs a runbook step. Every recipient gets exactly one delivery (one delivery key; a
// delivery that the killed replica had sent but not recorded is sent again with the same key,
// which receivers drop as Standard Webhooks asks), every action runs once, every runbook step
// runs once or — the one in flight when its replica died, not idempotent — stops for a human,
// and the events' hash chain verifies.
func TestThreeReplicasDoEverythingOnceWhenOneIsKilledDuringACampaignAndOneDuringTheRunbook(t *testing.T) {
	dsn, _ := storetest.PostgresDSN(t)
	sunsetBinary(t)
	began := time.Now()
	dir := t.TempDir()
	sink := newWebhookSink(t, 20*time.Millisecond)
	planFile := clusterPlan(t, dir, sink.URL)

	var reps []*proc
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("replica-%d", i)
		addr := freeAddr(t)
		reps = append(reps, start(t, name, "http://"+addr, "/readyz", []string{"REPLICA_NAME=" + name},
			"serve", "--db", dsn, "--addr", addr, "--replica-id", name, "--example=false",
			"--now", clusterNow, "--lease", "3s"))
	}
	t.Logf("3 replicas up after %v", time.Since(began).Round(time.Millisecond))
	for _, r := range reps {
		if m := fetch(t, r.url+"/metrics"); !strings.Contains(m, `replica="`+r.name+`"`) {
			t.Errorf("%s: /metrics does not name the replica", r.name)
		}
	}
	if out, err := runCLI(t, "apply", planFile, "--server", reps[1].url); err != nil || !strings.Contains(out, "created sunset orders-api-v1") {
		t.Fatalf("apply: %v\n%s", err, out)
	}

	// Kill 1: replica-1, while the campaign is being delivered.
	waitFor(t, 20*time.Second, "the campaign under way", func() bool { return sink.received() >= recipients/5 })
	reps[0].kill()
	killedAt := sink.received()
	t.Logf("SIGKILLed replica-1 after %d of %d deliveries", killedAt, recipients)
	waitFor(t, 30*time.Second, "every recipient reached", func() bool { return sink.received() >= recipients })
	if killedAt >= recipients {
		t.Fatalf("the campaign was over before the kill (%d deliveries): the test proves nothing", killedAt)
	}

	// Kill 2: the replica that runs the runbook, in the middle of a step.
	stepsLog := filepath.Join(dir, "steps.log")
	var victim *proc
	var interrupted string
	waitFor(t, 30*time.Second, "the runbook at its second step", func() bool {
		l := lines(stepsLog)
		if len(l) < 2 {
			return false
		}
		step, name, _ := strings.Cut(l[len(l)-1], " ")
		for _, r := range reps {
			if r.name == name {
				victim, interrupted = r, step
			}
		}
		return true
	})
	if victim == nil || !victim.alive() {
		t.Fatalf("the runbook step was run by %v, which is not a live replica", victim)
	}
	victim.kill()
	t.Logf("SIGKILLed %s during %s", victim.name, interrupted)

	var survivor *proc
	for _, r := range reps {
		if r.alive() {
			survivor = r
		}
	}
	type runView struct {
		State string `json:"state"`
		Steps []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"steps"`
	}
	var run runView
	waitFor(t, 20*time.Second, "the run taken over after the lease expired", func() bool {
		err := getJSON(t, survivor.url+"/api/v1/sunsets/orders-api-v1/runbook", &run)
		return err == nil && run.State != "running"
	})
	t.Logf("run after the takeover: %s", run.State)

	// Deliveries: one delivery key per recipient, every recipient reached.
	sink.mu.Lock()
	resent := sink.posts - len(sink.byKey)
	for i := range recipients {
		id := fmt.Sprintf("user-%05d", i)
		if n := len(sink.byRecipient[id]); n != 1 {
			t.Errorf("recipient %s got %d deliveries, want 1", id, n)
		}
	}
	if len(sink.byRecipient) != recipients {
		t.Errorf("%d recipients reached, want %d", len(sink.byRecipient), recipients)
	}
	sink.mu.Unlock()
	t.Logf("deliveries: %d recipients, %d delivery keys, %d repeated posts of a key (sent by the killed replica, not recorded)", recipients, len(sink.byKey), resent)
	if resent > 512 { // at most what the killed replica had in flight: two claimed batches of 256
		t.Errorf("%d repeated posts: more than the killed replica's claimed batch", resent)
	}

	// The store: every delivery recorded delivered once, every due action done once.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var delivered, other int
	if err := db.QueryRow(`SELECT COUNT(*) FILTER (WHERE status = 'delivered'), COUNT(*) FILTER (WHERE status <> 'delivered') FROM outbox`).Scan(&delivered, &other); err != nil {
		t.Fatal(err)
	}
	if delivered != recipients || other != 0 {
		t.Errorf("outbox: %d delivered, %d not; want %d delivered", delivered, other, recipients)
	}
	rows, err := db.Query(`SELECT a.key, a.status, (SELECT COUNT(*) FROM events e WHERE e.sunset_id = a.sunset_id AND e.type LIKE 'action.%' AND e.data->>'key' = a.key)
		FROM actions a ORDER BY a.at, a.key`)
	if err != nil {
		t.Fatal(err)
	}
	actions := 0
	for rows.Next() {
		var key, status string
		var events int
		if err := rows.Scan(&key, &status, &events); err != nil {
			t.Fatal(err)
		}
		actions++
		if status != "done" || events != 1 {
			t.Errorf("action %s: %s with %d events, want done with 1", key, status, events)
		}
	}
	rows.Close()
	t.Logf("%d actions, each done once", actions)

	// The runbook: every step before the interrupted one ran once, the interrupted one ran once
	// and stopped for a human (exec is not idempotent), nothing after it ran.
	stepCounts := func() map[string]int {
		count := map[string]int{}
		for _, l := range lines(stepsLog) {
			step, _, _ := strings.Cut(l, " ")
			count[step]++
		}
		return count
	}
	n := 0
	fmt.Sscanf(interrupted, "step-%d", &n)
	count := stepCounts()
	for i := 1; i <= runSteps; i++ {
		step := fmt.Sprintf("step-%d", i)
		if want := map[bool]int{true: 1, false: 0}[i <= n]; count[step] != want {
			t.Errorf("before the operator: %s ran %d times, want %d", step, count[step], want)
		}
	}
	if run.State != "needs_operator" || n < 1 || run.Steps[n-1].Status != "needs_operator" {
		t.Fatalf("run %+v: want needs_operator at %s", run, interrupted)
	}

	// The operator sees the step's line in the log, marks it done, and the surviving replica
	// runs the rest: every step exactly once.
	if out, err := runCLI(t, "runbook", "resume", "orders-api-v1", "--mark-done", "--as", "operator", "--server", survivor.url, "--detach"); err != nil || !strings.Contains(out, "goes on in the server") {
		t.Fatalf("runbook resume: %v\n%s", err, out)
	}
	waitFor(t, 20*time.Second, "the run done", func() bool {
		err := getJSON(t, survivor.url+"/api/v1/sunsets/orders-api-v1/runbook", &run)
		return err == nil && run.State != "running" && run.State != "needs_operator"
	})
	if run.State != "done" {
		t.Errorf("run %s after the operator marked %s done, want done", run.State, interrupted)
	}
	t.Logf("steps.log:\n  %s", strings.Join(lines(stepsLog), "\n  "))
	count = stepCounts()
	for i := 1; i <= runSteps; i++ {
		if step := fmt.Sprintf("step-%d", i); count[step] != 1 {
			t.Errorf("%s ran %d times, want once", step, count[step])
		}
	}

	// The audit log verifies.
	var verify struct {
		OK bool `json:"ok"`
	}
	if err := getJSON(t, survivor.url+"/api/v1/sunsets/orders-api-v1/events/verify", &verify); err != nil || !verify.OK {
		t.Errorf("events verify: %+v %v", verify, err)
	}
	t.Logf("done in %v", time.Since(began).Round(time.Millisecond))
}
