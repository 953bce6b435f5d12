package plan

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sunsetops/sunset/plan/yamlnode"
)

// ShiftedInstant is one instant that Shift moved.
type ShiftedInstant struct {
	Path string    `json:"path"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Shift moves every absolute instant of the plan in data that is not yet past at now by by
// (calendar days for its d and w units, in the plan's time zone), and returns the plan's new
// text. Instants written relative to a milestone follow their milestone; instants already past
// stay, so what happened stays as it happened. Comments and layout are kept as far as the YAML
// encoder allows. by may be negative to bring dates forward.
func Shift(file string, data []byte, by string, now time.Time) ([]byte, []ShiftedInstant, error) {
	neg := strings.HasPrefix(by, "-")
	text := strings.TrimPrefix(strings.TrimPrefix(by, "-"), "+")
	d, err := ParseDuration(text)
	if err != nil {
		return nil, nil, fmt.Errorf("shift %q: %v", by, err)
	}
	if d == 0 {
		return nil, nil, errors.New("shift by 0 changes nothing; give a duration such as 14d or -1w")
	}
	days := calendarDays(text)
	rest := d - time.Duration(days)*24*time.Hour
	if neg {
		days, rest = -days, -rest
	}
	p, problems := Parse(file, data)
	if err := problems.Err(); err != nil {
		return nil, nil, err
	}
	loc := p.Location()

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, err
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil, nil, errors.New("the plan is empty")
	}
	var moved []ShiftedInstant
	shift := func(path string, n *yaml.Node) error {
		if n == nil || n.Kind != yaml.ScalarNode {
			return nil
		}
		in, err := ParseInstant(n.Value)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		t, ok := in.Absolute(loc)
		if !ok || t.Before(now) {
			return nil
		}
		to := t.In(loc).AddDate(0, 0, days).Add(rest)
		n.Value = formatLike(n.Value, in, to)
		moved = append(moved, ShiftedInstant{Path: path, From: t, To: to})
		return nil
	}
	doc := root.Content[0]
	for _, f := range []struct {
		path  []string
		items []string // keys inside each list item, for lists
	}{
		{path: []string{"milestones"}},
		{path: []string{"features"}, items: []string{"deprecate", "read_only", "gone"}},
		{path: []string{"brownouts"}, items: []string{"from", "until"}},
		{path: []string{"notices"}, items: []string{"at"}},
		{path: []string{"guardrails"}, items: []string{"from", "before"}},
		{path: []string{"data", "export"}, items: nil},
	} {
		n := yamlnode.Lookup(doc, f.path...)
		if n == nil {
			continue
		}
		name := strings.Join(f.path, ".")
		switch {
		case name == "milestones" && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := shift(name+"."+n.Content[i].Value, n.Content[i+1]); err != nil {
					return nil, nil, err
				}
			}
		case name == "data.export":
			if err := shift(name+".until", yamlnode.Lookup(n, "until")); err != nil {
				return nil, nil, err
			}
		case n.Kind == yaml.SequenceNode:
			for i, item := range n.Content {
				for _, key := range f.items {
					if err := shift(fmt.Sprintf("%s[%d].%s", name, i, key), yamlnode.Lookup(item, key)); err != nil {
						return nil, nil, err
					}
				}
			}
		}
	}
	if len(moved) == 0 {
		return nil, nil, errors.New("no instant of the plan lies ahead; nothing to shift")
	}
	out, err := yamlnode.Encode(&root)
	if err != nil {
		return nil, nil, err
	}
	// The shifted plan must still be valid (say, a shift that breaks the minimum notice period).
	if _, problems := Parse(file, out); problems.Err() != nil {
		return nil, nil, fmt.Errorf("the shifted plan would be invalid:\n%w", problems.Err())
	}
	return out, moved, nil
}

// formatLike writes t in the layout the original instant text used.
func formatLike(orig string, in Instant, t time.Time) string {
	orig = strings.TrimSpace(orig)
	switch {
	case in.hasZone:
		return t.Format(time.RFC3339)
	case len(orig) == len("2006-01-02") && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0:
		return t.Format("2006-01-02")
	case t.Second() != 0 || len(orig) == len("2006-01-02T15:04:05"):
		return t.Format("2006-01-02T15:04:05")
	default:
		return t.Format("2006-01-02T15:04")
	}
}
