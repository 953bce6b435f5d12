// Command notify measures durable notice deliveries per second: an N-recipient notice fanned out
// through the engine into the outbox and delivered by the notify worker to a local webhook sink
// or SMTP sink, on SQLite and PostgreSQL, beside the ceiling — a bare Go loop sending the same
// messages to the same sink with no outbox. bench/notify.sh runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/bench/internal/benchdb"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/channels"
	"github.com/sunsetops/sunset/notify/notifytest"
	"github.com/sunsetops/sunset/notify/smtp"
	"github.com/sunsetops/sunset/notify/webhook"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/postgres"
	"github.com/sunsetops/sunset/store/sqlite"
)

const key = "bench-key"

const planYAML = `
service: {name: bench-%s, timezone: Asia/Shanghai}
consumers: {contacts: %s}
milestones: {announce: 2027-01-05T10:00, deprecate: 2027-01-05T10:00, shutdown: 2027-03-15T02:00}
notices:
  - {at: announce, to: all, channels: [%s], template: announce}
channels:
  email: {smtp: "%s", tls: none, from: "Bench <noreply@example.com>"}
  webhooks: [{name: sink, url: "%s", secret: "env:X"}]
`

// options are the command's flags.
type options struct {
	n          int
	channel    string
	db         string
	conc       int
	cpuprofile string
	mta        string
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 100000, "recipients")
	flag.StringVar(&o.channel, "channel", "webhook", "webhook or email")
	flag.StringVar(&o.db, "db", "sqlite", "sqlite or a postgres:// URL")
	flag.IntVar(&o.conc, "concurrency", 64, "concurrent sends")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the durable delivery phase to this file")
	flag.StringVar(&o.mta, "mta", "sink", "with -channel email: sink (the in-process SMTP server) or exim (a real MTA, Debian's exim4-daemon-light, run as root)")
	flag.Parse()
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sunset-bench")
	defer os.RemoveAll(dir)
	contacts := writeContacts(dir, o.n)

	smtpSink, err := notifytest.NewSMTPSink(false)
	check(err)
	smtpAddr := smtpSink.Addr
	var exim *notifytest.Exim
	if o.mta == "exim" {
		eximDir := filepath.Join(dir, "exim")
		check(os.Mkdir(eximDir, 0o755))
		// Enough sessions for the ceiling's and the worker's connections at once.
		exim, err = notifytest.StartExim(eximDir, notifytest.EximOptions{MaxSessions: 3 * o.conc})
		check(err)
		defer exim.Close()
		smtpAddr = exim.Addr
	}
	hooks := notifytest.NewWebhookSink([]byte(key), false)
	srv := httptest.NewServer(hooks)
	defer srv.Close()
	planBytes := func() []byte { return fmt.Appendf(nil, planYAML, o.channel, contacts, o.channel, smtpAddr, srv.URL) }

	// Ceiling: the same rendered messages, sent by a bare loop with no outbox.
	p, _ := plan.Parse("bench.yaml", planBytes())
	ch := ceilingChannel(o, srv.URL, smtpAddr)
	var failed atomic.Int64 // the ceiling's failed sends
	ceilingBefore := ceilingRun(ctx, o, p, ch, 1, &failed)
	// The ceiling's idle sessions would count against the MTA's limit of sessions at once.
	if c, ok := ch.(interface{ Close() error }); ok {
		c.Close()
	}

	st, closeStore := openStore(ctx, o.db, dir)
	defer closeStore()
	clock := sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	t0, fanout := fanOut(ctx, st, clock, planBytes(), o.channel)
	deliver, ms := deliverAll(ctx, o, st, clock)
	ceilingAfter := ceilingRun(ctx, o, p, ch, 2, &failed)
	ceiling := (ceilingBefore + ceilingAfter) / 2
	got := received(o.channel, hooks, smtpSink, exim)
	durable := float64(o.n) / deliver.Seconds()
	printUndelivered(ctx, st, o)

	fmt.Printf("%-8s %-8s %7d  %5.1fs %7.0f/s  %7.0f/s  %7.0f/s (%.0f, %.0f)  %5.2f  %7d  %4d MiB  (ceiling failures %d)\n",
		map[bool]string{true: "sqlite", false: "postgres"}[o.db == "sqlite"], o.channel, o.n, fanout.Seconds(),
		float64(o.n)/fanout.Seconds(), durable, ceiling, ceilingBefore, ceilingAfter, durable/ceiling, got, ms.HeapAlloc>>20, failed.Load())
	if exim != nil {
		printLags(exim, t0)
	}
}

// writeContacts writes n contacts, half of them reading Chinese, to a CSV file in dir and
// returns its path.
func writeContacts(dir string, n int) string {
	contacts := filepath.Join(dir, "contacts.csv")
	f, _ := os.Create(contacts)
	fmt.Fprintln(f, "id,email,name,locale")
	for i := range n {
		loc := "en"
		if i%2 == 1 {
			loc = "zh-CN"
		}
		fmt.Fprintf(f, "c%07d,c%07d@example.com,User %d,%s\n", i, i, i, loc)
	}
	f.Close()
	return contacts
}

// received counts the distinct messages of the outbox (by idempotency key, "msg_…") the sink of
// the channel got; the ceiling's messages have keys of their own.
func received(channel string, hooks *notifytest.WebhookSink, smtpSink *notifytest.SMTPSink, exim *notifytest.Exim) int {
	byID := hooks.ByID()
	switch {
	case exim != nil:
		byID = map[string]int{}
		rs, err := exim.Received()
		check(err)
		for _, r := range rs {
			byID[r.ID]++
		}
	case channel != "webhook":
		byID = smtpSink.ByID()
	}
	n := 0
	for id := range byID {
		if strings.Contains(id, "msg_") {
			n++
		}
	}
	return n
}

// ceilingChannel is the channel the ceiling sends through: the webhook sink, or the SMTP server
// at smtpAddr.
func ceilingChannel(o options, hookURL, smtpAddr string) notify.Channel {
	if o.channel == "webhook" {
		return &webhook.Channel{URL: hookURL, Secret: key, Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.conc}}}
	}
	ch, err := smtp.New(smtp.Config{Addr: smtpAddr, TLS: smtp.NoTLS, From: "noreply@example.com", Conns: o.conc})
	check(err)
	return ch
}

// ceilingRun renders and sends the notice to every recipient through ch with a bare loop (no
// outbox) and returns the messages per second; failed counts the sends that failed.
func ceilingRun(ctx context.Context, o options, p *plan.Plan, ch notify.Channel, round int, failed *atomic.Int64) float64 {
	var rr notify.Renderer
	var next atomic.Int64
	var wg sync.WaitGroup
	t2 := time.Now()
	for range o.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(o.n) {
					return
				}
				r := notify.Recipient{ID: fmt.Sprintf("c%07d", i), Email: fmt.Sprintf("c%07d@example.com", i), Locale: "en"}
				out, _ := rr.Render(p, notify.RenderRequest{Template: "announce", Recipient: r, TextOnly: o.channel != "email"})
				if _, err := ch.Send(ctx, notify.Message{Key: fmt.Sprintf("ceil%d_%d", round, i), To: r, Rendered: out}); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(o.n) / time.Since(t2).Seconds()
}

// openStore opens the store the flags name (a file in dir, or a fresh PostgreSQL schema) and
// returns what closes it (and drops the schema).
func openStore(ctx context.Context, db, dir string) (*store.DB, func()) {
	var st *store.DB
	var err error
	drop := func() {}
	if db == "sqlite" {
		st, err = sqlite.Open(ctx, filepath.Join(dir, "sunset.db"))
	} else {
		var dsn string
		dsn, drop = mustFreshSchema(ctx, db, "sunset_bench")
		st, err = postgres.Open(ctx, dsn)
	}
	check(err)
	return st, func() {
		st.Close()
		drop()
	}
}

// fanOut applies the plan and lets the engine fan its notice out into the outbox. It returns
// when the notice fell due and how long the fan-out took.
func fanOut(ctx context.Context, st *store.DB, clock *sunset.FixedClock, planData []byte, channel string) (time.Time, time.Duration) {
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond})
	check(err)
	eng.Register(plan.KindNotice, &notify.Handler{Outbox: st.Outbox()})
	_, err = eng.ApplyBundle(ctx, "bench.yaml", planData, plan.LocalFiles(""), "bench")
	check(err)
	check(eng.Start(ctx))
	clock.Set(time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC))
	t0 := time.Now()
	eng.Dispatch(ctx)
	for {
		acts, _ := eng.Actions(ctx, "bench-"+channel)
		done := false
		for _, a := range acts {
			done = done || (a.Key == "notice/0" && a.Status == engine.ActionDone)
		}
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	fanout := time.Since(t0)
	eng.Stop()
	return t0, fanout
}

// deliverAll drains the outbox with the notify worker, under the CPU profiler when the flags
// ask, and returns how long it took and the memory statistics after it.
func deliverAll(ctx context.Context, o options, st *store.DB, clock *sunset.FixedClock) (time.Duration, runtime.MemStats) {
	var ms runtime.MemStats
	// A public URL: with loopback links (the default) the emails would be held, not sent.
	w := &notify.Worker{Outbox: st.Outbox(), Clock: clock, Batch: 1024, Concurrency: o.conc, PublicURL: "https://sunset.example.com",
		Channels: channels.Factory(channels.Options{Getenv: func(string) string { return key }, SMTPConns: o.conc})}
	if o.cpuprofile != "" {
		pf, err := os.Create(o.cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(pf))
	}
	t1 := time.Now()
	_, err := w.Drain(ctx)
	check(err)
	deliver := time.Since(t1)
	if o.cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	runtime.ReadMemStats(&ms)
	return deliver, ms
}

// printUndelivered prints the outbox's states and the first failures when not every message
// was delivered.
func printUndelivered(ctx context.Context, st *store.DB, o options) {
	depth, err := st.Outbox().Depth(ctx)
	check(err)
	if depth[notify.StatusDelivered] == o.n {
		return
	}
	fmt.Printf("         outbox: %v\n", depth)
	if l, err := st.Outbox().Ledger(ctx, "bench-"+o.channel, 3); err == nil {
		for _, d := range append(l.Retrying, l.Failures...) {
			fmt.Printf("           %s after %d attempt(s): %s\n", d.Status, d.Attempts, d.LastError)
		}
	}
}

// printLags prints the delivery lag by the MTA's own clock: when Exim accepted each outbox
// message, from the instant the notice fell due (t0, its fan-out began).
func printLags(exim *notifytest.Exim, t0 time.Time) {
	rs, err := exim.Received()
	check(err)
	var lags []time.Duration
	for _, r := range rs {
		if strings.Contains(r.ID, "msg_") {
			lags = append(lags, max(0, r.At.Sub(t0.Truncate(time.Millisecond))))
		}
	}
	if len(lags) > 0 {
		slices.Sort(lags)
		fmt.Printf("         delivery lag from due (Exim's log, %d messages): p50 %.1fs  p99 %.1fs  max %.1fs\n", len(lags),
			lags[len(lags)/2].Seconds(), lags[len(lags)*99/100].Seconds(), lags[len(lags)-1].Seconds())
	}
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
