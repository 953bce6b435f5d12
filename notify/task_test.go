package notify_test

import (
	"fmt"
	"mime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/channels"
	"github.com/sunsetops/sunset/notify/notifytest"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
)

// taskPlan has four owners: Li Wei answers for everything (in Chinese), api-platform for the
// gateway and the runbook, support for notices, and Bob is only informed. %s is the SMTP sink's
// address, then the shutdown instant.
const taskPlan = `
service:
  name: orders-api-v1
  title: {en: Orders API v1, zh: 订单 API v1}
  timezone: Asia/Shanghai
  owners:
    - {name: Li Wei, email: li.wei@example.com, role: accountable, locale: zh}
    - {team: api-platform, email: api-platform@example.com, role: responsible, for: [gateway, runbook]}
    - {team: support, email: support@example.com, role: responsible, for: [notices]}
    - {name: Bob, email: bob@example.com, role: informed}
milestones:
  announce: 2027-01-05T10:00
  deprecate: 2027-01-05T10:00
  shutdown: %s
features:
  - {name: reports, routes: ["GET /v1/reports"], gone: 2027-02-01T08:00}
notices:
  - {at: announce, to: owners, channels: [email], template: announce}
reminders: {before: 3d}
runbook:
  - {name: read-only, gateway: read_only}
channels:
  email: {smtp: "%s", tls: none, from: "Sunset <noreply@example.com>"}
`

// taskSetup returns an engine with the schedule hook on st, the plan applied with shutdown at
// shutdown, a worker and the SMTP sink.
func taskSetup(t *testing.T, st engine.Store) (*engine.Engine, *notify.Worker, *sunset.FixedClock, *notifytest.SMTPSink, func(shutdown string)) {
	t.Helper()
	sink, err := notifytest.NewSMTPSink(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	clock := sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	eng, err := engine.New(engine.Config{Store: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	db := st.(*store.DB)
	h := &notify.Handler{Outbox: db.Outbox()}
	eng.Register(plan.KindNotice, h)
	eng.OnSchedule(h)
	apply := func(shutdown string) {
		t.Helper()
		if _, err := eng.Apply(t.Context(), "plan.yaml", fmt.Appendf(nil, taskPlan, shutdown, sink.Addr), "test"); err != nil {
			t.Fatal(err)
		}
	}
	apply("2027-03-15T02:00")
	w := &notify.Worker{Outbox: db.Outbox(), Channels: channels.Factory(channels.Options{}), Clock: clock,
		PublicURL: "https://sunset.example.com"}
	return eng, w, clock, sink, apply
}

// taskMails returns the task reminders the sink received, by recipient, as their decoded
// subjects, and fails on any other mail.
func taskMails(t *testing.T, sink *notifytest.SMTPSink) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range sink.Mails() {
		subject, err := new(mime.WordDecoder).DecodeHeader(m.Msg.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(subject, "Task reminder: ") && !strings.HasPrefix(subject, "任务提醒：") {
			t.Fatalf("unexpected mail to %v: %q", m.To, subject)
		}
		out[m.To[0]] = append(out[m.To[0]], subject)
	}
	for _, s := range out {
		slices.Sort(s)
	}
	return out
}

func drainWorker(t *testing.T, w *notify.Worker) {
	t.Helper()
	for range 100 {
		n, err := w.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the worker never ran out of work")
}

// TestOwnersGetOneTaskReminderPerActionInTheirLanguage applies a plan, lets the reminders due
// before announce go out, re-plans the shutdown a week later, re-applies the same plan, and
// then lets everything go out: each owner has exactly one reminder per action they answer for,
// in their language, none for the shutdown's old instant, and the informed owner none.
func TestOwnersGetOneTaskReminderPerActionInTheirLanguage(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		_, w, clock, sink, apply := taskSetup(t, st)

		// 3 days before announce (2027-01-05 02:00 UTC): announce, deprecate, the feature's
		// deprecation and the notice are due; the rest are weeks away.
		clock.Set(time.Date(2027, 1, 2, 3, 0, 0, 0, time.UTC))
		drainWorker(t, w)
		got := taskMails(t, sink)
		want := map[string][]string{
			"li.wei@example.com": {
				"任务提醒：订单 API v1下线的功能 reports 阶段变更将于 2027年1月5日 10:00 CST 进行",
				"任务提醒：订单 API v1下线的通知 announce将于 2027年1月5日 10:00 CST 进行",
				"任务提醒：订单 API v1下线的里程碑 announce将于 2027年1月5日 10:00 CST 进行",
				"任务提醒：订单 API v1下线的里程碑 deprecate将于 2027年1月5日 10:00 CST 进行",
			},
			"api-platform@example.com": {"Task reminder: feature reports changes phase on 5 January 2027 10:00 CST (Orders API v1 sunset)"},
			"support@example.com":      {"Task reminder: notice announce on 5 January 2027 10:00 CST (Orders API v1 sunset)"},
		}
		checkMails(t, "before announce", got, want)

		// A re-plan moves the shutdown (and the runbook with it) a week later; the actions that
		// did not move keep their reminders, already sent and not sent again. Applying the same
		// plan twice changes nothing.
		clock.Set(time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC))
		apply("2027-03-22T02:00")
		apply("2027-03-22T02:00")
		clock.Set(time.Date(2027, 3, 25, 0, 0, 0, 0, time.UTC))
		drainWorker(t, w)
		got = taskMails(t, sink)
		want["li.wei@example.com"] = append(want["li.wei@example.com"],
			"任务提醒：订单 API v1下线的下线运行手册将于 2027年3月22日 02:00 CST 进行",
			"任务提醒：订单 API v1下线的功能 reports 阶段变更将于 2027年2月1日 08:00 CST 进行",
			"任务提醒：订单 API v1下线的里程碑 shutdown将于 2027年3月22日 02:00 CST 进行",
		)
		want["api-platform@example.com"] = append(want["api-platform@example.com"],
			"Task reminder: feature reports changes phase on 1 February 2027 08:00 CST (Orders API v1 sunset)",
			"Task reminder: the shutdown runbook on 22 March 2027 02:00 CST (Orders API v1 sunset)",
		)
		for _, s := range want {
			slices.Sort(s)
		}
		checkMails(t, "after the re-plan", got, want)

		// Every mail has its own Message-ID (derived from sunset, action, instant and owner).
		total, distinct := sink.Counts()
		if total != 11 || distinct != 11 {
			t.Errorf("%d mails with %d distinct Message-IDs, want 11 and 11", total, distinct)
		}
		for _, m := range sink.Mails() {
			text, _ := parts(t, m)
			switch m.To[0] {
			case "li.wei@example.com":
				if !strings.Contains(text, "Li Wei，您好") || !strings.Contains(text, "您负责订单 API v1下线的下一步") || !strings.Contains(text, "3d") {
					t.Errorf("zh reminder:\n%s", text)
				}
			case "api-platform@example.com":
				if !strings.Contains(text, "Hello api-platform,") || !strings.Contains(text, "(your areas: ") {
					t.Errorf("en reminder:\n%s", text)
				}
			}
			if m.Msg.Header.Get("List-Unsubscribe") != "" {
				t.Errorf("a task reminder offers an unsubscribe link: %q", m.Msg.Header.Get("List-Unsubscribe"))
			}
		}
	})
}

// TestCancelWithdrawsTaskReminders cancels a sunset: the reminders still queued never go out.
func TestCancelWithdrawsTaskReminders(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		eng, w, clock, sink, _ := taskSetup(t, st)
		if _, err := eng.Cancel(t.Context(), "orders-api-v1", "test", "plans changed"); err != nil {
			t.Fatal(err)
		}
		clock.Set(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC))
		drainWorker(t, w)
		if n := len(sink.Mails()); n != 0 {
			t.Errorf("%d reminders of a cancelled sunset went out", n)
		}
	})
}

// TestPauseWithdrawsTaskRemindersAndResumeQueuesThem pauses a sunset: while it is paused no
// reminder goes out for what the pause holds; after a resume, the owners are reminded of what
// is still ahead — once.
func TestPauseWithdrawsTaskRemindersAndResumeQueuesThem(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		eng, w, clock, sink, _ := taskSetup(t, st)
		if _, err := eng.Pause(t.Context(), "orders-api-v1", "test", "Acme needs time"); err != nil {
			t.Fatal(err)
		}
		clock.Set(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC))
		drainWorker(t, w)
		if n := len(sink.Mails()); n != 0 {
			t.Errorf("%d reminders went out while the sunset was paused", n)
		}
		// Resumed before its shutdown instant (2027-03-15 02:00 +08:00): the owners hear of it.
		clock.Set(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
		if _, err := eng.Resume(t.Context(), "orders-api-v1", "test", "Acme migrated"); err != nil {
			t.Fatal(err)
		}
		clock.Set(time.Date(2027, 3, 20, 0, 0, 0, 0, time.UTC))
		drainWorker(t, w)
		mails := taskMails(t, sink)
		shutdown := 0
		for _, subjects := range mails {
			for _, s := range subjects {
				if strings.Contains(s, "shutdown") {
					shutdown++
				}
			}
		}
		if shutdown == 0 {
			t.Errorf("no reminder of the shutdown after the resume: %v", mails)
		}
		for to, subjects := range mails {
			if len(slices.Compact(slices.Clone(subjects))) != len(subjects) { // sorted by taskMails
				t.Errorf("%s got a reminder twice: %v", to, subjects)
			}
		}
	})
}

// TestRemindersOff: a plan with reminders off queues none.
func TestRemindersOff(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		_, w, clock, sink, apply := taskSetup(t, st)
		_ = apply
		db := st.(*store.DB)
		eng2, err := engine.New(engine.Config{Store: st, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		eng2.OnSchedule(&notify.Handler{Outbox: db.Outbox()})
		off := strings.Replace(fmt.Sprintf(taskPlan, "2027-03-15T02:00", sink.Addr), "reminders: {before: 3d}", "reminders: {off: true}", 1)
		if _, err := eng2.Apply(t.Context(), "plan.yaml", []byte(off), "test"); err != nil {
			t.Fatal(err)
		}
		clock.Set(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC))
		drainWorker(t, w)
		if n := len(sink.Mails()); n != 0 {
			t.Errorf("%d reminders went out with reminders off", n)
		}
	})
}

func checkMails(t *testing.T, when string, got, want map[string][]string) {
	t.Helper()
	for to, subjects := range want {
		if !slices.Equal(got[to], subjects) {
			t.Errorf("%s: %s got\n  %s\nwant\n  %s", when, to, strings.Join(got[to], "\n  "), strings.Join(subjects, "\n  "))
		}
	}
	for to := range got {
		if _, ok := want[to]; !ok {
			t.Errorf("%s: %s got %q, want nothing", when, to, got[to])
		}
	}
}

// TestRescheduleQueuesRemindersOfStoredSunsets: a sunset applied by an engine without the hook
// (an older version) gets its reminders when a server starts (Reschedule), once however often it
// runs.
func TestRescheduleQueuesRemindersOfStoredSunsets(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		sink, err := notifytest.NewSMTPSink(true)
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		clock := sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		old, err := engine.New(engine.Config{Store: st, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Apply(t.Context(), "plan.yaml", fmt.Appendf(nil, taskPlan, "2027-03-15T02:00", sink.Addr), "test"); err != nil {
			t.Fatal(err)
		}
		db := st.(*store.DB)
		eng, err := engine.New(engine.Config{Store: st, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		eng.OnSchedule(&notify.Handler{Outbox: db.Outbox()})
		for range 2 {
			if n, err := eng.Reschedule(t.Context()); err != nil || n != 1 {
				t.Fatalf("Reschedule: %d sunsets, %v", n, err)
			}
		}
		w := &notify.Worker{Outbox: db.Outbox(), Channels: channels.Factory(channels.Options{}), Clock: clock,
			PublicURL: "https://sunset.example.com"}
		clock.Set(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC))
		drainWorker(t, w)
		got := taskMails(t, sink)
		if len(got["li.wei@example.com"]) != 7 || len(got["api-platform@example.com"]) != 3 || len(got["support@example.com"]) != 1 || len(got) != 3 {
			t.Errorf("reminders: %v", got)
		}
	})
}

func TestAnOwnerGetsTaskRemindersOnEveryChannelTheyChose(t *testing.T) {
	t.Parallel()
	p, problems := plan.Parse("plan.yaml", []byte(`
service:
  name: orders-api-v1
  timezone: Asia/Shanghai
  owners:
    - {name: Li Wei, email: li.wei@example.com, role: accountable, channels: [email, "chat:ops", "webhook:crm"]}
    - {team: support, email: support@example.com, role: responsible}
milestones:
  announce: 2027-01-05T10:00
  deprecate: announce
  shutdown: 2027-03-15T02:00
channels:
  email: {smtp: "127.0.0.1:2525", tls: none, from: "Sunset <noreply@example.com>"}
  webhooks: [{name: crm, url: "http://127.0.0.1:9/hooks", secret: "env:HOOK_SECRET"}]
  chat: [{name: ops, kind: slack, url: "env:SLACK_URL"}]
`))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	tl, err := p.Compile()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	got := map[string][]string{}
	for _, d := range notify.TaskReminders(p, 1, "orders-api-v1", tl.Actions, now) {
		if d.Notice == notify.TaskNotice("milestone/shutdown", time.Date(2027, 3, 14, 18, 0, 0, 0, time.UTC)) {
			got[d.Recipient.Email] = append(got[d.Recipient.Email], d.Channel)
		}
	}
	for who, want := range map[string][]string{
		"li.wei@example.com":  {"email", "chat:ops", "webhook:crm"},
		"support@example.com": {"email"},
	} {
		if !slices.Equal(got[who], want) {
			t.Errorf("%s's shutdown reminder goes over %v, want %v", who, got[who], want)
		}
	}
}
