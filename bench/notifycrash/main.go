// Command notifycrash is the full-size crash test of notice delivery, with real processes: it
// fans an N-recipient notice (email and a webhook) out into the outbox, then runs `sunset serve`
// as the sending process and kills it with SIGKILL at random points, restarting it each time,
// and lets the last run finish the campaign. It then counts what the local SMTP and webhook
// sinks received per recipient and channel: every recipient must have exactly one message per
// channel — one idempotency key; a message sent again under the same key (the process died
// between the send and its record) is a repeat receivers drop, and is counted apart.
// bench/notify-crash.sh runs it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/bench/internal/benchdb"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/notifytest"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/postgres"
	"github.com/sunsetops/sunset/store/sqlite"
)

const secretEnv, secret = "CRASH_WEBHOOK_SECRET", "crash-test-signing-key"

const planYAML = `
service: {name: crash-campaign, timezone: Asia/Shanghai}
consumers: {contacts: %s}
milestones: {announce: 2027-01-05T10:00, deprecate: 2027-01-05T10:00, shutdown: 2027-03-15T02:00}
notices:
  - {at: announce, to: all, channels: [email, webhook], template: announce}
channels:
  email: {smtp: "%s", tls: none, from: "Sunset <noreply@example.com>"}
  webhooks: [{name: sink, url: "%s", secret: "env:` + secretEnv + `"}]
`

// start is the instant the campaign is sent at: just after announce.
var start = time.Date(2027, 1, 5, 2, 0, 1, 0, time.UTC)

func main() {
	n := flag.Int("n", 10000, "recipients")
	kills := flag.Int("kills", 20, "how many times the sending process is killed")
	bin := flag.String("sunset", "", "the sunset binary to run as the sending process")
	db := flag.String("db", "sqlite", "sqlite or a postgres:// URL (a fresh schema is used)")
	lease := flag.Duration("lease", 2*time.Second, "how long a claimed delivery waits before another run takes it over")
	delay := flag.Duration("delay", 50*time.Millisecond, "how long each sink takes per message (spreads the campaign over the kills)")
	minRun := flag.Duration("min-run", 300*time.Millisecond, "shortest life of a killed run")
	maxRun := flag.Duration("max-run", 3*time.Second, "longest life of a killed run")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-sunset names the sunset binary")
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sunset-notify-crash")
	check(err)
	defer os.RemoveAll(dir)

	contacts := writeContacts(dir, *n)

	mails, err := notifytest.NewSMTPSink(true)
	check(err)
	defer mails.Close()
	mails.Delay = *delay
	hooks := notifytest.NewWebhookSink([]byte(secret), true)
	hooks.Delay = *delay
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	hookSrv := &http.Server{Handler: hooks, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hookSrv.Serve(ln) }()
	defer hookSrv.Close()
	hookURL := "http://" + ln.Addr().String() + "/hooks"

	dsn := "sqlite:" + filepath.Join(dir, "sunset.db")
	if *db != "sqlite" {
		var drop func()
		dsn, drop = mustFreshSchema(ctx, *db, "sunset_crash")
		defer drop()
	}
	t0 := time.Now()
	rows := fanOut(ctx, dsn, fmt.Appendf(nil, planYAML, contacts, mails.Addr, hookURL))
	fmt.Printf("fan-out: %d deliveries queued in %.1fs (%s)\n", rows, time.Since(t0).Seconds(), strings.SplitN(dsn, ":", 2)[0])

	// The sending process: sunset serve, its clock running on from where the last run stopped.
	campaign := time.Now()
	serve := func() *exec.Cmd {
		now := start.Add(time.Since(campaign)).Format(time.RFC3339Nano)
		// With a public URL: without one the emails, whose links would be loopback, are held.
		cmd := exec.Command(*bin, "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--example=false",
			"--public-url", "https://sunset.example.com",
			"--log-level", "error", "--lease", lease.String(), "--now", now)
		cmd.Env = append(os.Environ(), secretEnv+"="+secret)
		cmd.Stderr = os.Stderr
		check(cmd.Start())
		return cmd
	}
	for i := range *kills {
		cmd := serve()
		life := *minRun + rand.N(*maxRun-*minRun)
		time.Sleep(life)
		check(cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		_, hd, _ := hooks.Counts()
		_, md := mails.Counts()
		fmt.Printf("kill %2d after %4dms: %5d webhooks and %5d emails received so far (distinct keys)\n", i+1, life.Milliseconds(), hd, md)
	}
	cmd := serve()
	waitForCampaign(cmd, hooks, mails, *n)
	time.Sleep(*lease + time.Second) // a late repeat would arrive by now
	check(cmd.Process.Signal(syscall.SIGTERM))
	_ = cmd.Wait()
	fmt.Printf("campaign finished %.1fs after the first run started\n\n", time.Since(campaign).Seconds())

	ok := report("webhook", *n, webhookRecipients(hooks)) && report("email", *n, emailRecipients(mails))
	if _, _, bad := hooks.Counts(); bad != 0 {
		fmt.Printf("%d badly signed webhooks\n", bad)
		ok = false
	}
	if !ok {
		fmt.Println("FAIL")
		os.Exit(1)
	}
	fmt.Println("PASS: every recipient has exactly one message per channel")
}

// writeContacts writes n contacts, half of them reading Chinese, to a CSV file in dir and
// returns its path.
func writeContacts(dir string, n int) string {
	contacts := filepath.Join(dir, "contacts.csv")
	f, err := os.Create(contacts)
	check(err)
	fmt.Fprintln(f, "id,email,name,locale")
	for i := range n {
		loc := "en"
		if i%2 == 1 {
			loc = "zh-CN"
		}
		fmt.Fprintf(f, "c%06d,c%06d@example.com,User %d,%s\n", i, i, i, loc)
	}
	check(f.Close())
	return contacts
}

// waitForCampaign waits until both sinks received a message for each of the n recipients,
// killing the last run and stopping the program when that takes over ten minutes.
func waitForCampaign(cmd *exec.Cmd, hooks *notifytest.WebhookSink, mails *notifytest.SMTPSink, n int) {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		_, hd, _ := hooks.Counts()
		_, md := mails.Counts()
		if hd >= n && md >= n {
			return
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			log.Fatalf("the last run did not finish the campaign: %d webhooks, %d emails", hd, md)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fanOut applies the campaign's plan to the store at dsn and runs its notice through the
// engine, so that the outbox holds every delivery before the sending process first starts. It
// returns how many deliveries were queued.
func fanOut(ctx context.Context, dsn string, planText []byte) int {
	var st *store.DB
	var err error
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		st, err = sqlite.Open(ctx, path)
	} else {
		st, err = postgres.Open(ctx, dsn)
	}
	check(err)
	defer st.Close()
	clock := sunset.NewFixedClock(start.Add(-5 * 24 * time.Hour))
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond})
	check(err)
	eng.Register(plan.KindNotice, &notify.Handler{Outbox: st.Outbox()})
	_, err = eng.ApplyBundle(ctx, "crash.yaml", planText, plan.LocalFiles(""), "bench")
	check(err)
	check(eng.Start(ctx))
	defer eng.Stop()
	clock.Set(start)
	_, err = eng.Dispatch(ctx)
	check(err)
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		acts, err := eng.Actions(ctx, "crash-campaign")
		check(err)
		for _, a := range acts {
			if a.Key == "notice/0" && a.Status == engine.ActionDone {
				l, err := st.Outbox().Ledger(ctx, "crash-campaign", 0)
				check(err)
				total := 0
				for _, c := range l.Counts {
					total += c.Count
				}
				return total
			}
		}
	}
	log.Fatal("the notice did not fan out")
	return 0
}

// keys maps each recipient to the idempotency keys of the messages they got, and how many
// arrivals each key had.
type keys map[string]map[string]int

func webhookRecipients(s *notifytest.WebhookSink) keys {
	out := keys{}
	for _, h := range s.Hooks() {
		var p struct {
			Data struct {
				Recipient notify.Recipient `json:"recipient"`
			} `json:"data"`
		}
		check(json.Unmarshal(h.Body, &p))
		add(out, p.Data.Recipient.ID, h.ID)
	}
	return out
}

func emailRecipients(s *notifytest.SMTPSink) keys {
	out := keys{}
	for _, m := range s.Mails() {
		id, _, _ := strings.Cut(m.To[0], "@")
		add(out, id, m.Msg.Header.Get("Message-Id"))
	}
	return out
}

func add(k keys, recipient, key string) {
	if k[recipient] == nil {
		k[recipient] = map[string]int{}
	}
	k[recipient][key]++
}

// report prints the count of one channel and reports whether every recipient of the n got
// exactly one message (one key).
func report(channel string, n int, k keys) bool {
	once, missing, twoKeys, repeats, arrivals := 0, 0, 0, 0, 0
	for i := range n {
		ks := k[fmt.Sprintf("c%06d", i)]
		switch len(ks) {
		case 0:
			missing++
		case 1:
			once++
		default:
			twoKeys++
		}
		for _, c := range ks {
			arrivals += c
			repeats += c - 1
		}
	}
	strangers := len(k) - once - twoKeys
	fmt.Printf("%-8s recipients %d: exactly one message %d, none %d, under two keys %d, unknown recipients %d; arrivals %d (repeats under the same key, dropped by the receiver: %d)\n",
		channel, n, once, missing, twoKeys, strangers, arrivals, repeats)
	return once == n && strangers == 0
}

// mustFreshSchema is benchdb.FreshSchema, stopping the program on failure.
func mustFreshSchema(ctx context.Context, base, prefix string) (string, func()) {
	dsn, drop, err := benchdb.FreshSchema(ctx, base, prefix)
	check(err)
	return dsn, drop
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
