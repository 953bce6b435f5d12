package plan

import (
	"fmt"
	"time"
)

// Location returns the plan's time zone; UTC when none is set or the name is unknown
// (validation reports an unknown name).
func (p *Plan) Location() *time.Location {
	if p.loc != nil {
		return p.loc
	}
	if p.Service.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(p.Service.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// MilestoneTimes resolves every milestone to an absolute instant. Milestones may be written
// relative to each other ("deprecate: announce+1w"); a reference to an unknown milestone or a
// cycle is an error naming the milestone.
func (p *Plan) MilestoneTimes() (map[string]time.Time, error) {
	loc := p.Location()
	out := make(map[string]time.Time, len(p.Milestones))
	const (
		unvisited = iota
		visiting
		done
	)
	state := make(map[string]int, len(p.Milestones))
	var visit func(name string, chain []string) error
	visit = func(name string, chain []string) error {
		m, ok := p.Milestones.Get(name)
		if !ok {
			return fmt.Errorf("unknown milestone %q", name)
		}
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("milestones refer to each other in a cycle: %v", append(chain, name))
		}
		state[name] = visiting
		if t, ok := m.At.Absolute(loc); ok {
			out[name] = t
		} else {
			if err := visit(m.At.Ref, append(chain, name)); err != nil {
				return fmt.Errorf("milestone %s: %w", name, err)
			}
			out[name] = m.At.From(out[m.At.Ref], loc)
		}
		state[name] = done
		return nil
	}
	for _, m := range p.Milestones {
		if err := visit(m.Name, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Resolve returns the absolute time of in, given the resolved milestones (from MilestoneTimes).
func (p *Plan) Resolve(in Instant, milestones map[string]time.Time) (time.Time, error) {
	if t, ok := in.Absolute(p.Location()); ok {
		return t, nil
	}
	if in.Ref == "" {
		return time.Time{}, fmt.Errorf("empty instant")
	}
	base, ok := milestones[in.Ref]
	if !ok {
		return time.Time{}, fmt.Errorf("%q names unknown milestone %q%s", in.Raw, in.Ref, suggest(in.Ref, milestoneNames(p.Milestones)))
	}
	return in.From(base, p.Location()), nil
}

func milestoneNames(ms Milestones) []string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names
}

// suggest returns ` (did you mean "x"?)` for the candidate closest to s, or "" when none is close.
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(s)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
