package plan

import (
	"fmt"
	"strings"
	"time"
)

// PastWarnings warns of every action of tl whose instant is before now: applied at now, such an
// action runs at once, not at its instant, and the report counts it as skipped (before apply),
// not late. It is a warning, not an error: a plan written for a service already announced by
// other means may mean it. Actions of one plan element (a brownout's windows, a feature's
// phases) give one warning, at that element's place, naming how many and the earliest.
func (p *Plan) PastWarnings(tl *Timeline, now time.Time) Problems {
	type group struct {
		first Action
		n     int
	}
	var order []string
	groups := map[string]*group{}
	for _, a := range tl.Actions {
		if !a.At.Before(now) {
			continue
		}
		path := p.actionPath(a.Key)
		g := groups[path]
		if g == nil {
			g = &group{first: a}
			groups[path] = g
			order = append(order, path)
		}
		g.n++
	}
	loc := p.Location()
	stamp := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") }
	var out Problems
	for _, path := range order {
		g := groups[path]
		msg := fmt.Sprintf("%s %s at %s is before now (%s): applied now, it runs at once and the report counts it as skipped (before apply), not late; move it later if it should happen on its own date",
			g.first.Kind, g.first.Name, stamp(g.first.At), stamp(now))
		if g.n > 1 {
			msg = fmt.Sprintf("%d actions, the first %s %s at %s, are before now (%s): applied now, they run at once and the report counts them as skipped (before apply), not late; move them later if they should happen on their own dates",
				g.n, g.first.Kind, g.first.Name, stamp(g.first.At), stamp(now))
		}
		out = append(out, Problem{File: p.File(), Pos: p.Pos(path), Path: path, Severity: Warning, Message: msg})
	}
	return out
}

// actionPath is the place in the plan of the element that made the action with key:
// "milestone/shutdown" → milestones.shutdown, "notice/2" → notices[2], "brownout/0/5" →
// brownouts[0], "feature/reports/gone" → features[i], "guardrail/1/…" → guardrails[1],
// "runbook/start" → runbook, "data/…" → data.
func (p *Plan) actionPath(key string) string {
	parts := strings.Split(key, "/")
	switch parts[0] {
	case "milestone":
		return "milestones." + parts[len(parts)-1]
	case "notice", "brownout", "guardrail":
		if len(parts) > 1 {
			return parts[0] + "s[" + parts[1] + "]"
		}
	case "feature":
		for i, f := range p.Features {
			if len(parts) > 1 && f.Name == parts[1] {
				return fmt.Sprintf("features[%d]", i)
			}
		}
		return "features"
	case "runbook":
		return "runbook"
	case "data":
		return "data"
	}
	return "milestones"
}
