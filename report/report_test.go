package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const scenarioPlan = `service:
  name: orders-api-v1
  title: {en: Orders API v1, zh: 订单 API v1}
  timezone: Asia/Shanghai
stakeholders:
  - {name: sales, team: Sales, role: sales}
  - {name: legal, role: legal}
alternatives:
  - {name: Orders API v2, url: https://example.com/v2, guide: https://example.com/migrate}
consumers:
  identify: {header: X-API-Key}
  tiers: [critical, standard, free]
milestones:
  announce: 2027-01-05T10:00
  deprecate: 2027-01-05T10:00
  shutdown: 2027-02-15T02:00
features:
  - {name: reports, routes: ["GET /v1/reports/{id}"], gone: 2027-02-01T02:00}
  - {name: orders, core: true, routes: ["/v1/orders/"]}
risks:
  - {risk: Acme's nightly batch breaks, likelihood: medium, impact: high, mitigation: Call Acme weekly, owner: Li Wei}
`

func mustPlan(t *testing.T) *plan.Plan {
	t.Helper()
	p, problems := plan.Parse("orders-api-v1.yaml", []byte(scenarioPlan))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	return p
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ev(seq int64, when, typ, actor, data string) Event {
	return Event{Seq: seq, At: at(when), Type: typ, Actor: actor, Data: json.RawMessage(data)}
}

// scenario is a shut-down sunset with a bit of everything: a late milestone, a re-plan, a
// guardrail trip and an operator pause, notices over three channels, feedback and a survey, a
// runbook, stragglers after the shutdown and four accounts.
func scenario(t *testing.T) Input {
	t.Helper()
	var usage []Count
	add := func(consumer, feature, hour string, n uint64) {
		usage = append(usage, Count{Feature: feature, Consumer: consumer, Hour: at(hour), Count: n})
	}
	// Before the announcement (2027-01-05T02:00Z) four consumers call.
	for _, c := range []string{"acme", "globex", "initech", "umbrella"} {
		add(c, "orders", "2027-01-02T03:00:00Z", 40)
	}
	add("(other)", "orders", "2027-01-02T03:00:00Z", 7)
	add("acme", "reports", "2027-01-03T03:00:00Z", 5)
	// Then they leave one by one; acme and globex are still there the week before shutdown.
	add("acme", "orders", "2027-01-20T03:00:00Z", 30)
	add("globex", "orders", "2027-01-20T03:00:00Z", 10)
	add("initech", "orders", "2027-01-10T03:00:00Z", 3)
	add("acme", "orders", "2027-02-10T03:00:00Z", 20)
	add("globex", "orders", "2027-02-12T03:00:00Z", 2)
	// After the shutdown (2027-02-14T18:00Z) acme still knocks.
	add("acme", "orders", "2027-02-14T20:00:00Z", 6)
	add("acme", "reports", "2027-02-15T09:00:00Z", 1)
	add("(other)", "orders", "2027-02-14T21:00:00Z", 2)

	return Input{
		Name:     "orders-api-v1",
		State:    "evaluated",
		Plan:     mustPlan(t),
		Signoffs: []string{"sales"},
		Actions: []Action{
			{Key: "milestone/announce", Kind: "milestone", Name: "announce", Status: "done", At: at("2027-01-05T02:00:00Z"), DoneAt: at("2027-01-05T02:00:03Z")},
			{Key: "notice/announce/0", Kind: "notice", Name: "announce", Status: "done", At: at("2027-01-05T02:00:00Z"), DoneAt: at("2027-01-05T02:00:04Z")},
			{Key: "feature/reports/gone", Kind: "feature", Name: "reports", Status: "done", At: at("2027-01-31T18:00:00Z"), DoneAt: at("2027-02-01T06:00:00Z")},
			{Key: "milestone/shutdown", Kind: "milestone", Name: "shutdown", Status: "done", At: at("2027-02-14T18:00:00Z"), DoneAt: at("2027-02-14T18:00:01Z")},
			{Key: "notice/done/0", Kind: "notice", Name: "done", Status: "held", At: at("2027-02-14T18:00:00Z")},
		},
		Events: []Event{
			ev(1, "2027-01-01T00:00:00Z", "sunset.created", "li.wei", `{}`),
			ev(2, "2027-01-20T08:00:00Z", "guardrail.tripped", "engine", `{"guardrails":[{"name":"mood","when":"feedback.negative_ratio > 0.4 over 24h"}],"before":{"key":"feature/reports/gone"}}`),
			ev(3, "2027-01-21T08:00:00Z", "sunset.resumed", "li.wei", `{"reason":"Acme has a plan"}`),
			ev(4, "2027-01-22T00:00:00Z", "sunset.shifted", "li.wei", `{"by":"7d","reason":"Acme needs time"}`),
			ev(5, "2027-02-01T00:00:00Z", "sunset.paused", "zhang.min", `{"reason":"holiday freeze"}`),
			ev(6, "2027-02-03T12:30:00Z", "sunset.resumed", "zhang.min", `{"reason":"freeze over"}`),
		},
		Verification: &Verification{OK: true, Events: 6, Head: "4f2a9c"},
		Usage:        usage,
		Contacts: []Contact{
			{ID: "acme", Name: "Acme Corp", Tier: "critical"},
			{ID: "globex", Name: "Globex", Tier: "standard"},
			{ID: "initech", Tier: "free"},
		},
		Accounts: []Account{
			{Account: "Acme", Consumers: []string{"acme"}, Revenue: 120000},
			{Account: "Globex", Consumers: []string{"globex"}, Revenue: 30000},
			{Account: "Initech", Consumers: []string{"initech"}, Revenue: 5000, Status: Churned},
			{Account: "Hooli", Consumers: []string{"hooli-1", "hooli-2"}, Revenue: 800},
		},
		Notices: []NoticeCount{
			{Notice: "announce", Channel: "email", Delivered: 3, Failed: 1},
			{Notice: "reminder", Channel: "email", Delivered: 2},
			{Notice: "announce", Channel: "webhook:crm", Delivered: 1},
			{Notice: "announce", Channel: "banner", Delivered: 1, Queued: 1},
		},
		Awareness: Awareness{Known: 4, Aware: 3, InBand: 2},
		Feedback: &feedback.Summary{
			Total: 5, ByMood: map[string]int{"positive": 1, "neutral": 1, "negative": 3}, NegativeRatio: 0.6, ExtensionRequests: 2,
			Themes: []feedback.Theme{{Phrase: "more time", Lang: "en", Count: 2}, {Phrase: "导出", Lang: "zh", Count: 1}},
			Survey: feedback.SurveySummary{Responses: 2, Satisfaction: 3.5, Yes: map[string]int{"moved": 1}, No: map[string]int{"moved": 1}},
		},
		Runbook: &RunbookRun{State: "done", Steps: []RunbookStep{
			{Name: "read-only", Kind: "gateway", Status: "done", Attempts: 1, Started: at("2027-02-14T18:00:05Z"), Ended: at("2027-02-14T18:00:06Z")},
			{Name: "final-backup", Kind: "backup", Status: "done", Attempts: 2, Started: at("2027-02-14T18:00:06Z"), Ended: at("2027-02-14T18:12:36Z")},
			{Name: "sign-off", Kind: "approval", Status: "done", Attempts: 1, Started: at("2027-02-14T18:12:36Z"), Ended: at("2027-02-14T19:40:00Z")},
		}},
		Lessons: Lessons{Text: "Start the partner calls a month earlier.\n| pipes | survive |", UpdatedAt: at("2027-02-20T02:00:00Z"), UpdatedBy: "li.wei"},
		Now:     at("2027-02-20T04:00:00Z"),
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./report -update after checking):\n%s", name, got)
	}
}

func render(t *testing.T, d Document, format, lang string) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "json":
		err = d.WriteJSON(&b)
	case "md":
		err = d.WriteMarkdown(&b, lang)
	case "html":
		err = d.WriteHTML(&b, lang)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReportMatchesTheGoldenFiles(t *testing.T) {
	r := Build(scenario(t))
	golden(t, "report.json", render(t, r, "json", "en"))
	golden(t, "report.en.md", render(t, r, "md", "en"))
	golden(t, "report.zh.md", render(t, r, "md", "zh"))
}

func TestAssessmentMatchesTheGoldenFiles(t *testing.T) {
	in := scenario(t)
	in.State, in.Now = "draft", at("2027-01-04T00:00:00Z")
	a := Assess(in)
	golden(t, "assessment.json", render(t, a, "json", "en"))
	golden(t, "assessment.en.md", render(t, a, "md", "en"))
}

func TestReportFigures(t *testing.T) {
	r := Build(scenario(t))
	c := r.Consumers
	if c.AtAnnouncement != 4 || c.AtShutdown != 2 || c.Migrated != 2 || c.MigratedShare != 0.5 {
		t.Errorf("consumers: %+v", c)
	}
	if r.Timeline.Done != 4 || r.Timeline.Late != 1 || r.Timeline.Pending != 1 || r.Timeline.MaxSlipSeconds != 12*3600 {
		t.Errorf("timeline: done %d late %d pending %d max %d", r.Timeline.Done, r.Timeline.Late, r.Timeline.Pending, r.Timeline.MaxSlipSeconds)
	}
	g := r.Guardrails
	if len(g.Trips) != 1 || len(g.Pauses) != 2 || g.Pauses[0].Cause != "guardrail" || g.Pauses[0].DurationSeconds != 86400 || g.Pauses[1].Cause != "operator" {
		t.Errorf("guardrails: %+v", g)
	}
	s := r.Stragglers
	if s.Requests != 9 || s.Unidentified != 2 || len(s.Consumers) != 1 || s.Consumers[0].Consumer != "acme" || s.Consumers[0].Tier != "critical" {
		t.Errorf("stragglers: %+v", s)
	}
	b := r.Business
	if b.Outcomes[AtRisk] != 1 || b.Outcomes[Migrated] != 1 || b.Outcomes[Churned] != 1 || b.Outcomes[Retained] != 1 ||
		b.RevenueAtRisk != 120000 || b.RevenueLost != 5000 || b.RevenueMigrated != 30000 || b.RevenueRetained != 800 {
		t.Errorf("business: %+v", b)
	}
	if r.Runbook.TotalSeconds != 5995 || r.Runbook.Steps[1].DurationSeconds != 750 {
		t.Errorf("runbook: %+v", r.Runbook)
	}
	if r.Notices.Total.Delivered != 7 || r.Notices.Total.Failed != 1 || len(r.Notices.ByChannel) != 3 {
		t.Errorf("notices: %+v", r.Notices)
	}
}

func TestAssessmentNamesWhatTheShutdownWouldHit(t *testing.T) {
	in := scenario(t)
	in.Now = at("2027-01-04T00:00:00Z")
	a := Assess(in)
	if len(a.Consumers) != 4 || a.Consumers[0].ID != "acme" || a.Consumers[0].Tier != "critical" || a.Unidentified != 7 {
		t.Errorf("consumers: %+v", a.Consumers)
	}
	if a.Tiers[0].Tier != "critical" || a.Tiers[len(a.Tiers)-1].Tier != "unknown" {
		t.Errorf("tiers are not in the plan's order: %+v", a.Tiers)
	}
	if a.Accounts.AccountsAtRisk != 3 || a.Accounts.RevenueAtRisk != 155000 || a.Accounts.Accounts[3].Account != "Hooli" {
		t.Errorf("accounts: %+v", a.Accounts)
	}
	if len(a.Stakeholders) != 2 || !a.Stakeholders[0].SignedOff || a.Stakeholders[1].SignedOff {
		t.Errorf("stakeholders: %+v", a.Stakeholders)
	}
	if len(a.Risks) != 1 || a.Risks[0].Owner != "Li Wei" {
		t.Errorf("risks: %+v", a.Risks)
	}
}

// htmlDoc parses an HTML report with encoding/xml in its tolerant HTML mode and returns every
// element with its attributes, in document order.
func htmlDoc(t *testing.T, b []byte) []xml.StartElement {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	var out []xml.StartElement
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("the HTML does not parse: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			out = append(out, se.Copy())
		}
	}
}

func TestHTMLIsSelfContainedWithSVGCharts(t *testing.T) {
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			b := render(t, Build(scenario(t)), "html", lang)
			els := htmlDoc(t, b)
			svgs, polylines, rects := 0, 0, 0
			for _, el := range els {
				switch el.Name.Local {
				case "script", "link", "img", "iframe", "object", "embed":
					t.Errorf("<%s> in a self-contained report", el.Name.Local)
				case "svg":
					svgs++
				case "polyline":
					polylines++
				case "rect":
					rects++
				}
				for _, a := range el.Attr {
					v := strings.ToLower(a.Value)
					if (a.Name.Local == "href" || a.Name.Local == "src") && !strings.HasPrefix(v, "#") {
						t.Errorf("<%s %s=%q> references something outside the file", el.Name.Local, a.Name.Local, a.Value)
					}
				}
			}
			if svgs != 2 || polylines != 1 || rects < 9 {
				t.Errorf("want the migration curve and the notice bars: %d svg, %d polyline, %d rect", svgs, polylines, rects)
			}
			s := string(b)
			for _, bad := range []string{"url(", "@import", "<script", "http://", "https://"} {
				if strings.Contains(strings.ToLower(s), bad) {
					t.Errorf("the HTML contains %q", bad)
				}
			}
			if !strings.Contains(s, "@media print") {
				t.Error("no print style")
			}
			want := map[string]string{"en": "Planned vs actual timeline", "zh": "计划与实际时间线"}[lang]
			if !strings.Contains(s, want) || !strings.Contains(s, "&lt;") == strings.Contains(s, "<script") {
				t.Errorf("no %q heading", want)
			}
		})
	}
}

func TestHTMLEscapesWhatUsersWrote(t *testing.T) {
	in := scenario(t)
	in.Lessons.Text = `<script>alert(1)</script><img src="https://evil.example/x">`
	b := render(t, Build(in), "html", "en")
	if bytes.Contains(b, []byte("<script>")) || bytes.Contains(b, []byte("<img")) {
		t.Fatal("lessons text reached the HTML unescaped")
	}
}

func TestReadAccounts(t *testing.T) {
	got, err := ReadAccounts(strings.NewReader("\ufeffRevenue,account,consumers,status\n120000.50,Acme, acme;acme-2 ,\n0,Hooli,,retained\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Account != "Acme" || len(got[0].Consumers) != 2 || got[0].Revenue != 120000.5 || got[1].Status != Retained {
		t.Fatalf("%+v", got)
	}
	t.Run("names every bad line", func(t *testing.T) {
		_, err := ReadAccounts(strings.NewReader("account,consumers,revenue,status\nA,a,$5,\n,b,1,\nC,c,1,gone\n"))
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{"line 2: revenue", "line 3: account is empty", "line 4: status"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: want %q", err, want)
			}
		}
	})
	t.Run("refuses a file without the columns", func(t *testing.T) {
		if _, err := ReadAccounts(strings.NewReader("name,revenue\n")); err == nil || !strings.Contains(err.Error(), `no "account" column`) {
			t.Fatalf("%v", err)
		}
	})
}

// TestTimelineIsTrueAboutTime: "late" is more than LateAfter after the planned instant; an
// action planned before the sunset was applied is "before apply" whenever it ran, never late,
// and its slip counts in no figure; a skipped action is neither done nor pending.
func TestTimelineIsTrueAboutTime(t *testing.T) {
	applied := at("2027-01-05T10:00:00Z")
	cases := []struct {
		name       string
		action     Action
		wantTiming string
		wantSlip   int64
	}{
		{"on time to the second", Action{At: at("2027-01-06T00:00:00Z"), DoneAt: at("2027-01-06T00:00:01Z"), Status: "done"}, TimingOnTime, 1},
		{"within the tolerance", Action{At: at("2027-01-06T00:00:00Z"), DoneAt: at("2027-01-06T00:05:00Z"), Status: "done"}, TimingOnTime, 300},
		{"past the tolerance", Action{At: at("2027-01-06T00:00:00Z"), DoneAt: at("2027-01-06T00:05:01Z"), Status: "done"}, TimingLate, 301},
		{"due before apply, ran on apply 58 min later", Action{At: at("2027-01-05T09:02:00Z"), DoneAt: at("2027-01-05T10:00:02Z"), Status: "done"}, TimingBeforeApply, 0},
		{"due before apply, not run", Action{At: at("2027-01-05T09:00:00Z"), Status: "held"}, TimingBeforeApply, 0},
		{"skipped by an operator", Action{At: at("2027-01-06T00:00:00Z"), DoneAt: at("2027-01-09T00:00:00Z"), Status: "skipped"}, TimingSkipped, 0},
		{"not run", Action{At: at("2027-01-06T00:00:00Z"), Status: "pending"}, TimingPending, 0},
	}
	in := Input{Name: "orders-api-v1", Plan: mustPlan(t), Now: at("2027-02-20T00:00:00Z"),
		Events: []Event{ev(1, "2027-01-05T10:00:00Z", "sunset.created", "li.wei", `{}`)}}
	for i, c := range cases {
		c.action.Key, c.action.Kind, c.action.Name = fmt.Sprintf("a/%d", i), "guardrail", c.name
		in.Actions = append(in.Actions, c.action)
	}
	tl := Build(in).Timeline
	for i, c := range cases {
		e := tl.Entries[i]
		if e.Timing != c.wantTiming || e.SlipSeconds != c.wantSlip {
			t.Errorf("%s: timing %s slip %d, want %s %d", c.name, e.Timing, e.SlipSeconds, c.wantTiming, c.wantSlip)
		}
	}
	if tl.Late != 1 || tl.BeforeApply != 2 || tl.Skipped != 1 || tl.Pending != 1 || tl.Done != 4 || tl.MaxSlipSeconds != 301 ||
		!tl.AppliedAt.Equal(applied) || tl.LateAfterSeconds != 300 {
		t.Errorf("figures: late %d before apply %d skipped %d pending %d done %d max slip %d applied %s tolerance %d",
			tl.Late, tl.BeforeApply, tl.Skipped, tl.Pending, tl.Done, tl.MaxSlipSeconds, tl.AppliedAt, tl.LateAfterSeconds)
	}
	var md bytes.Buffer
	if err := Build(in).WriteMarkdown(&md, "en"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Skipped (before apply)", "5m 1s (Late)", "**Late (> 5m 0s)**: 1"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md.String())
	}
}

// TestStragglersCountFromTheShutdownInstant: the shutdown at 10:20 falls inside an hour. That
// hour counts for a consumer whose latest request in it came after 10:20 (not only from the
// next full hour), not for one that stopped at 10:10; last seen is the latest request's time,
// not its hour.
func TestStragglersCountFromTheShutdownInstant(t *testing.T) {
	in := Input{Name: "orders-api-v1", Plan: mustPlan(t), Now: at("2027-02-20T00:00:00Z"),
		Actions: []Action{{Key: "milestone/shutdown", Kind: "milestone", Name: "shutdown", Status: "done",
			At: at("2027-02-14T10:20:00Z"), DoneAt: at("2027-02-14T10:20:01Z")}},
		Usage: []Count{
			{Consumer: "acme", Feature: "orders", Hour: at("2027-02-14T09:00:00Z"), Count: 100, LastAt: at("2027-02-14T09:59:59Z")},
			{Consumer: "acme", Feature: "orders", Hour: at("2027-02-14T10:00:00Z"), Count: 400, LastAt: at("2027-02-14T10:45:12Z")},
			{Consumer: "globex", Feature: "orders", Hour: at("2027-02-14T10:00:00Z"), Count: 50, LastAt: at("2027-02-14T10:10:00Z")},
			{Consumer: "acme", Feature: "reports", Hour: at("2027-02-14T11:00:00Z"), Count: 2600, LastAt: at("2027-02-14T11:59:30Z")},
		}}
	s := Build(in).Stragglers
	if s.Requests != 3000 || s.InShutdownHour != 400 {
		t.Errorf("stragglers: %d requests (%d in the shutdown's hour), want 3000 (400)", s.Requests, s.InShutdownHour)
	}
	if len(s.Consumers) != 1 || s.Consumers[0].Consumer != "acme" || !s.Consumers[0].LastSeen.Equal(at("2027-02-14T11:59:30Z")) ||
		strings.Join(s.Consumers[0].Features, ",") != "orders,reports" {
		t.Errorf("consumers: %+v, want acme alone, last seen 11:59:30", s.Consumers)
	}
	// Without the latest request's time (an older gateway), last seen falls back to the hour.
	in.Usage[3].LastAt = time.Time{}
	if s := Build(in).Stragglers; !s.Consumers[0].LastSeen.Equal(at("2027-02-14T11:00:00Z")) {
		t.Errorf("last seen without last_at = %s, want the hour", s.Consumers[0].LastSeen)
	}
	var md bytes.Buffer
	if err := Build(in).WriteMarkdown(&md, "zh"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "其中关停所在小时内的请求（部分可能早于关停）**: 400") {
		t.Errorf("the report does not say how many fall in the shutdown's hour:\n%s", md.String())
	}
}
