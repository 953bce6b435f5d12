package plan

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// remindersPlan is a valid plan with owners; %s is the reminders block.
const remindersPlan = `service:
  name: demo-api
  owners:
    - {name: Li Wei, email: li.wei@example.com, role: accountable}
    - {team: platform, email: platform@example.com, role: responsible, for: [gateway, stop]}
    - {team: support, email: support@example.com, role: responsible, for: [notices, shutdown]}
    - {name: Bob, email: bob@example.com, role: consulted}
    - {name: No Mail, role: responsible}
milestones:
  announce: 2027-01-04T10:00
  deprecate: 2027-01-04T10:00
  shutdown: 2027-03-01T02:00
runbook:
  - {name: stop, gateway: gone}
%s`

func TestRemindersValidation(t *testing.T) {
	cases := []struct {
		name, block string
		want        []string // problems, with their positions
		lead        time.Duration
		on          bool
	}{
		{name: "default", block: "", lead: DefaultReminderLead, on: true},
		{name: "lead", block: "reminders: {before: 1w}", lead: 7 * 24 * time.Hour, on: true},
		{name: "off", block: "reminders: {off: true}", on: false},
		{name: "zero", block: "reminders:\n  before: 0", want: []string{"plan.yaml:16:11: reminders.before: before must be longer than 0; to send no reminders, write off: true"}},
		{name: "too soon", block: "reminders: {before: 30s}", want: []string{"plan.yaml:15:21: reminders.before: a reminder 30s before an action comes too late to act on; use at least 1m, e.g. before: 2d"}},
		{name: "too far", block: "reminders: {before: 13w}", want: []string{"plan.yaml:15:21: reminders.before: a reminder 13w ahead is forgotten by the day; use at most 12w6d"}},
		{name: "off and before", block: "reminders: {before: 2d, off: true}", want: []string{"plan.yaml:15:30: reminders.off: warning: reminders are off, so before has no effect"}, on: false},
		{name: "negative", block: "reminders: {before: -2d}", want: []string{"plan.yaml:15:21: reminders.before: "}},
		{name: "unknown key", block: "reminders: {befor: 2d}", want: []string{`plan.yaml:15:13: reminders.befor: unknown key "befor" (did you mean "before"?)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, problems := Parse("plan.yaml", []byte(strings.Replace(remindersPlan, "%s", c.block, 1)))
			var got []string
			for _, pr := range problems {
				got = append(got, pr.String())
			}
			if len(got) != len(c.want) {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("problem %d = %q, want %q", i, got[i], c.want[i])
				}
			}
			if len(c.want) == 0 || c.name == "off and before" {
				lead, on := p.ReminderLead()
				if lead != c.lead || on != c.on {
					t.Errorf("ReminderLead() = %v, %v, want %v, %v", lead, on, c.lead, c.on)
				}
			}
		})
	}
}

func TestRemindersWarnWhenNobodyGetsThem(t *testing.T) {
	text := strings.Replace(remindersPlan, "%s", "reminders: {before: 2d}", 1)
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.Contains(l, "role: accountable") && !strings.Contains(l, "role: responsible, for") {
			keep = append(keep, l)
		}
	}
	_, problems := Parse("plan.yaml", []byte(strings.Join(keep, "\n")))
	var found bool
	for _, pr := range problems {
		found = found || strings.Contains(pr.String(), "reminders: warning: no owner gets task reminders")
	}
	if !found {
		t.Errorf("no warning that nobody gets reminders: %v", problems)
	}
}

func TestTaskOwners(t *testing.T) {
	p, problems := Parse("plan.yaml", []byte(strings.Replace(remindersPlan, "%s", "", 1)))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	tl, err := p.Compile()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, a := range tl.Actions {
		for _, o := range p.TaskOwners(a) {
			who := o.Owner.Name + o.Owner.Team
			if len(o.Areas) > 0 {
				who += "(" + strings.Join(o.Areas, ",") + ")"
			}
			got[a.Key] = append(got[a.Key], who)
		}
	}
	want := map[string][]string{
		"milestone/announce":  {"Li Wei"},
		"milestone/deprecate": {"Li Wei"},
		"milestone/shutdown":  {"Li Wei", "support(shutdown)"},
		"runbook/start":       {"Li Wei", "platform(stop)"},
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: owners %v, want %v", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: owners %v, want none", k, got[k])
		}
	}
	for _, c := range []struct {
		a    Action
		want []string
		ok   bool
	}{
		{Action{Key: "brownout/0/1", Kind: KindBrownout}, []string{"gateway"}, true},
		{Action{Key: "brownout/0/2", Kind: KindBrownout}, nil, false},
		{Action{Key: "brownout/1/start", Kind: KindBrownout}, []string{"gateway"}, true},
		{Action{Key: "brownout/1/end", Kind: KindBrownout}, nil, false},
		{Action{Key: "feature/reports/gone", Kind: KindFeature}, []string{"gateway"}, true},
		{Action{Key: "notice/3", Kind: KindNotice}, []string{"notices"}, true},
		{Action{Key: "data/delete", Kind: KindData}, []string{"data", DeleteData}, true},
		{Action{Key: "data/export-until", Kind: KindData}, nil, false},
		{Action{Key: "guardrail/0/shutdown", Kind: KindGuardrail}, nil, false},
	} {
		areas, ok := p.TaskAreas(c.a)
		if ok != c.ok || !slices.Equal(areas, c.want) {
			t.Errorf("TaskAreas(%s) = %v, %v, want %v, %v", c.a.Key, areas, ok, c.want, c.ok)
		}
	}
}
