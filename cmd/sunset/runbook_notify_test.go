package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/channels"
	"github.com/sunsetops/sunset/notify/notifytest"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store/sqlite"
)

const notifyTestSecret = "runbook-notify-test-secret"

// notifyPlan has a done notice at shutdown over a webhook, and a runbook that sends done.
const notifyPlan = `service:
  name: photos
  title: {en: Photos, zh: 相册}
consumers:
  contacts: %s
milestones:
  announce: 2027-01-05T10:00
  deprecate: 2027-01-05T10:00
  shutdown: 2027-03-15T02:00
notices:
  - {at: shutdown, to: all, channels: [webhook], template: done}
channels:
  webhooks:
    - {name: crm, url: "%s", secret: "env:NOTIFY_TEST_SECRET"}
runbook:
  - {name: notify-done, notify: done}
`

func TestRunbookNotifyStepSendsTheNoticeExactlyOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	contacts := filepath.Join(dir, "contacts.csv")
	os.WriteFile(contacts, []byte("id,email,name,locale\nacme,ops@acme.example.com,Acme,en\nzs,it@zs.example.cn,中山,zh-CN\nhooli,,Hooli,en\n"), 0o600)
	sink := notifytest.NewWebhookSink([]byte(notifyTestSecret), true)
	hooks := httptest.NewServer(sink)
	defer hooks.Close()

	st, err := sqlite.Open(ctx, filepath.Join(dir, "sunset.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := sunset.NewFixedClock(time.Date(2027, 3, 14, 0, 0, 0, 0, time.UTC))
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Stop()
	eng.Register(plan.KindNotice, &notify.Handler{Outbox: st.Outbox()})
	// The timeline's own runbook/start is not under test here.
	eng.Register(plan.KindRunbook, engine.HandlerFunc(func(context.Context, *engine.Run) error { return nil }))
	if _, err := eng.ApplyBundle(ctx, filepath.Join(dir, "plan.yaml"), fmt.Appendf(nil, notifyPlan, contacts, hooks.URL), plan.LocalFiles(dir), "test"); err != nil {
		t.Fatal(err)
	}
	p, _, err := eng.Plan(ctx, "photos")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rt := sunset.Runtime{Clock: clock}
	r := &runbook.Runner{Store: st, Events: eventsAdapter{eng}, Runtime: rt, Out: &out}
	runbookCollaborators(r, st, eng, rt)

	// Two runs of the runbook (the second after the first ended) and then the timeline's own
	// done notice at shutdown: every contact hears once.
	for i := range 2 {
		run, err := r.Start(ctx, "photos", p, "li.wei")
		if err != nil {
			t.Fatal(err)
		}
		if run, err = r.Execute(ctx, run.ID, p); err != nil || run.State != runbook.StateDone {
			t.Fatalf("run %d: %v %s (%s)\n%s", i+1, err, run.State, run.Message, out.String())
		}
	}
	if !strings.Contains(out.String(), "queued notice done (notice/0) to all: 3 recipients, 3 deliveries") ||
		!strings.Contains(out.String(), "was already queued to its 3 recipients") {
		t.Errorf("runbook output does not tell what was queued:\n%s", out.String())
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2027, 3, 16, 0, 0, 0, 0, time.UTC)) // after the shutdown milestone
	if _, err := eng.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the timeline's done notice action", func() bool {
		acts, err := eng.Actions(ctx, "photos")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			if a.Key == "notice/0" && a.Status == engine.ActionDone {
				return true
			}
		}
		return false
	})

	w := &notify.Worker{Outbox: st.Outbox(), Clock: clock, PublicURL: "https://sunset.example.com",
		Channels: channels.Factory(channels.Options{Getenv: func(k string) string {
			if k == "NOTIFY_TEST_SECRET" {
				return notifyTestSecret
			}
			return ""
		}}), UnsubscribeKey: []byte("unsubscribe-key-for-the-test-0123")}
	for range 20 {
		n, err := w.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	total, distinct, bad := sink.Counts()
	if total != 3 || distinct != 3 || bad != 0 {
		t.Fatalf("webhook sink got %d requests (%d distinct, %d badly signed), want 3: one per contact", total, distinct, bad)
	}
	for _, h := range sink.Hooks() {
		if !strings.Contains(string(h.Body), `"template":"done"`) {
			t.Errorf("webhook body is not the done notice: %s", h.Body)
		}
	}
}
