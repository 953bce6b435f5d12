package plan

import (
	"strings"
	"testing"
	"time"
)

const pastPlan = `service:
  name: orders-api-v1
  timezone: UTC
milestones:
  announce: 2027-01-05T10:00
  deprecate: announce
  shutdown: 2027-03-15T02:00
brownouts:
  - {every: "Tue,Thu 14:00", for: 1h, from: 2027-02-01, until: 2027-03-01}
notices:
  - {at: announce, to: all, channels: [email], template: announce}
  - {at: shutdown-7d, to: all, channels: [email], template: final_reminder}
channels:
  email: {smtp: "127.0.0.1:2525", from: noreply@example.com}
`

// TestPastWarningsNameEveryElementBeforeNow: relative to now, each plan element whose actions
// are already past gets one warning at its place; none when everything is ahead.
func TestPastWarningsNameEveryElementBeforeNow(t *testing.T) {
	p, problems := Parse("plan.yaml", []byte(pastPlan))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	tl, err := p.Compile()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		now  time.Time
		want []string // paths warned of, in timeline order
	}{
		{"all ahead", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{"at the announcement itself", time.Date(2027, 1, 5, 10, 0, 0, 0, time.UTC), nil},
		{"a minute after the announcement", time.Date(2027, 1, 5, 10, 1, 0, 0, time.UTC),
			[]string{"milestones.announce", "milestones.deprecate", "notices[0]"}},
		{"in the brownouts", time.Date(2027, 2, 10, 0, 0, 0, 0, time.UTC),
			[]string{"milestones.announce", "milestones.deprecate", "notices[0]", "brownouts[0]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := p.PastWarnings(tl, c.now)
			var got []string
			for _, w := range ws {
				if w.Severity != Warning {
					t.Errorf("%s is not a warning", w)
				}
				got = append(got, w.Path)
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("warned of %v, want %v", got, c.want)
			}
		})
	}
	ws := p.PastWarnings(tl, time.Date(2027, 2, 10, 0, 0, 0, 0, time.UTC))
	if s := ws[3].String(); !strings.HasPrefix(s, "plan.yaml:9:5: brownouts[0]: warning: 3 actions, the first brownout brownout at 2027-02-02 14:00 UTC, are before now (2027-02-10 00:00 UTC)") ||
		!strings.Contains(s, "counts them as skipped (before apply), not late") {
		t.Errorf("brownout warning: %s", s)
	}
	if s := ws[0].String(); !strings.HasPrefix(s, "plan.yaml:5:13: milestones.announce: warning: milestone announce at 2027-01-05 10:00 UTC is before now (2027-02-10 00:00 UTC)") {
		t.Errorf("announce warning: %s", s)
	}
}
