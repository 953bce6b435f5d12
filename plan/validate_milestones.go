package plan

// Validation of the milestones: their names, their instants (dates, or relative to another
// milestone without cycles), their order and the minimum notice period.

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// milestones checks names, resolves every milestone (reporting unknown references and cycles),
// and checks their order, the RFC 9745 rule and the minimum notice period.
func (v *validator) milestones() {
	p := v.p
	if len(p.Milestones) > maxMilestones {
		v.errorf("milestones", "%d milestones, more than %d; a plan needs a handful, so place other steps relative to them", len(p.Milestones), maxMilestones)
		for _, m := range p.Milestones {
			v.msBad[m.Name] = true
		}
		return
	}
	for _, m := range p.Milestones {
		if !validName(m.Name) {
			v.errorf("milestones."+m.Name, "milestone name %q must be letters, digits and underscores, starting with a letter", m.Name)
		}
	}
	v.resolveMilestones()

	if _, ok := p.Milestones.Get(Shutdown); !ok {
		path := "milestones"
		if !p.has(path) && len(p.Milestones) == 0 {
			path = "milestones.shutdown"
		}
		v.errorf(path, "missing the shutdown milestone; add shutdown: with the date the service goes away")
	}

	v.milestoneOrder()
	v.minNotice()
}

// minNotice checks the minimum notice period between the announcement (else the deprecation)
// and the shutdown: min_notice, or DefaultMinNotice.
func (v *validator) minNotice() {
	p := v.p
	minNotice := DefaultMinNotice
	if p.has("min_notice") || p.MinNotice != 0 {
		minNotice = time.Duration(p.MinNotice)
		if minNotice != DefaultMinNotice {
			v.warnf("min_notice", "min_notice %s overrides the default minimum notice period of %s", days(minNotice), days(DefaultMinNotice))
		}
	}
	start := Announce
	if _, ok := v.ms[start]; !ok {
		start = Deprecate
	}
	from, ok1 := v.ms[start]
	to, ok2 := v.ms[Shutdown]
	if ok1 && ok2 && !to.Before(from) && to.Sub(from) < minNotice {
		how := "move shutdown later or " + start + " earlier"
		if minNotice == DefaultMinNotice {
			how += " (min_notice overrides the period, with a warning)"
		}
		v.errorf("milestones.shutdown", "only %s between %s (%s) and shutdown (%s), less than the minimum notice period of %s; %s",
			days(to.Sub(from)), start, v.format(from), v.format(to), days(minNotice), how)
	}
}

// resolveMilestones resolves every milestone to an instant, following relative instants through
// the milestones they name. A milestone that cannot be resolved (unreadable, naming an unknown
// milestone, in a cycle or after one that cannot) is reported once and left out of v.ms.
func (v *validator) resolveMilestones() {
	p := v.p
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var stack []string
	var visit func(m Milestone) bool
	visit = func(m Milestone) bool {
		switch state[m.Name] {
		case done:
			_, ok := v.ms[m.Name]
			return ok
		case visiting:
			return false
		}
		state[m.Name] = visiting
		stack = append(stack, m.Name)
		defer func() {
			state[m.Name] = done
			stack = stack[:len(stack)-1]
		}()
		path := "milestones." + m.Name
		if t, ok := m.At.Absolute(v.loc); ok {
			v.ms[m.Name] = t
			return true
		}
		if m.At.Ref == "" { // unreadable instant, already reported by the decoder
			v.msBad[m.Name] = true
			return false
		}
		ref, ok := p.Milestones.Get(m.At.Ref)
		if !ok {
			v.unknownMilestone(path, m.At)
			v.msBad[m.Name] = true
			return false
		}
		if state[ref.Name] == visiting {
			cycle := append(slices.Clone(stack[slices.Index(stack, ref.Name):]), ref.Name)
			v.errorf(path, "milestones refer to each other in a cycle (%s); give one of them a date", strings.Join(cycle, " → "))
			for _, name := range cycle {
				v.msBad[name] = true
			}
			return false
		}
		if !visit(ref) {
			v.msBad[m.Name] = true
			return false
		}
		v.ms[m.Name] = m.At.From(v.ms[ref.Name], v.loc)
		return true
	}
	for _, m := range p.Milestones {
		visit(m)
	}
	for name := range v.msBad {
		delete(v.ms, name)
	}
}

// milestoneOrder checks that the well-known milestones come in order, between neighbours that
// are present and resolved.
func (v *validator) milestoneOrder() {
	prev := ""
	for _, name := range StandardMilestones {
		t, ok := v.ms[name]
		if !ok {
			continue
		}
		if prev != "" && t.Before(v.ms[prev]) && !(prev == Deprecate && name == Shutdown) {
			v.errorf("milestones."+name, "%s (%s) is before %s (%s); milestones must come in the order %s",
				name, v.format(t), prev, v.format(v.ms[prev]), strings.Join(StandardMilestones, " ≤ "))
		}
		prev = name
	}
	// RFC 9745 §3: a Sunset date before the Deprecation date is invalid. The order check above
	// leaves this pair to this clearer message.
	if dep, ok := v.ms[Deprecate]; ok {
		if sun, ok := v.ms[Shutdown]; ok && sun.Before(dep) {
			v.errorf("milestones.shutdown", "sunset (shutdown) %s is before the deprecation instant %s (deprecate); RFC 9745 forbids it: move shutdown after deprecate", v.format(sun), v.format(dep))
		}
	}
}

// days writes a long duration in days, as people count notice periods: 30d, 13d16h.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d < day {
		return FormatDuration(d)
	}
	s := fmt.Sprintf("%dd", d/day)
	if rest := d % day; rest != 0 {
		s += FormatDuration(rest)
	}
	return s
}
