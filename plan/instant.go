package plan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Instant is a point in time written either absolutely ("2027-03-15T02:00", "2027-09-15",
// "2027-03-15T02:00:00+08:00") or relative to a milestone ("shutdown-7d", "announce+2w",
// "read_only"). Absolute instants without an offset are read in the plan's time zone.
type Instant struct {
	// Raw is the text as written.
	Raw string
	// Ref is the milestone name of a relative instant; empty for an absolute one.
	Ref string
	// Offset is the offset's nominal length (a day counted as 24h), signed.
	Offset time.Duration
	// Days is the signed number of calendar days (d and w units) within Offset. They are added
	// as calendar days in the plan's time zone, so "shutdown-7d" keeps shutdown's wall-clock
	// time across a daylight-saving change.
	Days int
	// civil holds an absolute instant's wall clock (in the plan's zone unless hasZone).
	civil   time.Time
	hasZone bool
}

// IsRelative reports whether the instant is written relative to a milestone.
func (in Instant) IsRelative() bool { return in.Ref != "" }

// String returns the instant as written.
func (in Instant) String() string { return in.Raw }

// MarshalText writes the instant as it was written.
func (in Instant) MarshalText() ([]byte, error) { return []byte(in.Raw), nil }

// UnmarshalText parses an instant, as ParseInstant does.
func (in *Instant) UnmarshalText(b []byte) error {
	v, err := ParseInstant(string(b))
	if err != nil {
		return err
	}
	*in = v
	return nil
}

var absLayouts = []struct {
	layout  string
	hasZone bool
}{
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04Z07:00", true},
	{"2006-01-02T15:04:05", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02 15:04:05", false},
	{"2006-01-02 15:04", false},
	{"2006-01-02", false},
}

// ParseInstant parses an absolute or relative instant. It does not check that a referenced
// milestone exists; Resolve does.
func ParseInstant(s string) (Instant, error) {
	raw := s
	s = strings.TrimSpace(s)
	if s == "" {
		return Instant{}, errors.New("empty instant")
	}
	if len(s) > 64 {
		return Instant{}, fmt.Errorf("instant %.20q… is too long", s)
	}
	if s[0] >= '0' && s[0] <= '9' {
		for _, l := range absLayouts {
			t, err := time.Parse(l.layout, s)
			if err == nil {
				return Instant{Raw: raw, civil: t, hasZone: l.hasZone}, nil
			}
		}
		return Instant{}, fmt.Errorf("cannot read %q as a date: use 2027-03-15, 2027-03-15T02:00 or RFC 3339, or a milestone offset such as shutdown-7d", s)
	}
	// Relative: NAME, NAME+DUR, NAME-DUR.
	i := strings.IndexAny(s, "+-")
	name, rest := s, ""
	if i >= 0 {
		name, rest = s[:i], s[i:]
	}
	name = strings.TrimSpace(name)
	if !validName(name) {
		return Instant{}, fmt.Errorf("%q is neither a date nor a milestone offset such as shutdown-7d", s)
	}
	in := Instant{Raw: raw, Ref: name}
	if rest != "" {
		sign := time.Duration(1)
		if rest[0] == '-' {
			sign = -1
		}
		d, err := ParseDuration(strings.TrimSpace(rest[1:]))
		if err != nil {
			return Instant{}, fmt.Errorf("offset in %q: %v", s, err)
		}
		in.Offset = sign * d
		in.Days = int(sign) * calendarDays(strings.TrimSpace(rest[1:]))
	}
	return in, nil
}

// calendarDays counts the days that the w and d units of a valid duration text hold.
func calendarDays(s string) int {
	days := 0
	for s != "" {
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(s[:j])
		s = s[j:]
		k := 0
		for k < len(s) && (s[k] < '0' || s[k] > '9') {
			k++
		}
		switch s[:k] {
		case "w":
			days += 7 * n
		case "d":
			days += n
		}
		s = s[k:]
	}
	return days
}

// From returns the instant a relative Instant names, given its milestone's instant: calendar
// days are added in loc (keeping the wall-clock time across daylight-saving changes), the rest
// as elapsed time.
func (in Instant) From(base time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	rest := in.Offset - time.Duration(in.Days)*24*time.Hour
	return base.In(loc).AddDate(0, 0, in.Days).Add(rest)
}

// validName reports whether s is a milestone-like identifier: a letter, then letters, digits,
// underscores or dashes... dashes would be ambiguous with offsets, so only letters, digits and
// underscores.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Absolute returns the instant of an absolute Instant, reading a zone-less one in loc.
// It reports false for a relative instant.
func (in Instant) Absolute(loc *time.Location) (time.Time, bool) {
	if in.Ref != "" || in.Raw == "" {
		return time.Time{}, false
	}
	if in.hasZone {
		return in.civil, true
	}
	c := in.civil
	return time.Date(c.Year(), c.Month(), c.Day(), c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), loc), true
}

// Duration is a length of time written as Go durations plus days and weeks: "15m", "2h30m",
// "7d", "2w", "1w3d12h".
type Duration time.Duration

// maxDuration is the longest duration ParseDuration accepts: a century.
const maxDuration = 100 * 365 * 24 * time.Hour

// ParseDuration parses a duration with units w, d, h, m, s, ms. Negative values are refused.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	orig := s
	for s != "" {
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 || j > 9 {
			return 0, fmt.Errorf("cannot read %q as a duration: use a number and a unit such as 15m, 2h, 7d or 2w", orig)
		}
		n, _ := strconv.Atoi(s[:j])
		s = s[j:]
		k := 0
		for k < len(s) && (s[k] < '0' || s[k] > '9') {
			k++
		}
		var unit time.Duration
		switch s[:k] {
		case "w":
			unit = 7 * 24 * time.Hour
		case "d":
			unit = 24 * time.Hour
		case "h":
			unit = time.Hour
		case "m":
			unit = time.Minute
		case "s":
			unit = time.Second
		case "ms":
			unit = time.Millisecond
		default:
			return 0, fmt.Errorf("cannot read %q as a duration: unknown unit %q (use w, d, h, m or s)", orig, s[:k])
		}
		s = s[k:]
		// Check before multiplying: 107000w overflows time.Duration and wraps negative.
		if time.Duration(n) > maxDuration/unit {
			return 0, fmt.Errorf("duration %q is longer than a century", orig)
		}
		total += time.Duration(n) * unit
		if total > maxDuration {
			return 0, fmt.Errorf("duration %q is longer than a century", orig)
		}
	}
	return total, nil
}

// FormatDuration writes d with the largest exact units: 7d, 2w, 1d12h, 15m.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	neg := d < 0
	if neg {
		d = -d
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for _, u := range []struct {
		s string
		d time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if d >= u.d {
			fmt.Fprintf(&b, "%d%s", d/u.d, u.s)
			d %= u.d
		}
	}
	return b.String()
}

// String writes the duration as FormatDuration does.
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// MarshalText writes the duration as FormatDuration does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a duration, as ParseDuration does.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Pos is a place in a plan file; Line and Col count from 1. The zero Pos means unknown.
type Pos struct {
	Line int
	Col  int
}

// Severity says whether a problem makes the plan unusable.
type Severity int

const (
	// Error makes the plan invalid.
	Error Severity = iota
	// Warning is reported but the plan stays valid.
	Warning
)

// Problem is one thing wrong with a plan, with its place.
type Problem struct {
	File     string
	Pos      Pos
	Path     string // field path, e.g. features[1].routes[0]; empty for file-level problems
	Message  string
	Severity Severity
}

// String formats the problem as FILE:LINE:COL: path: message, with "warning: " before the
// message of a warning.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Pos.Line, p.Pos.Col)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	if p.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in one plan, in file order.
type Problems []Problem

// Errors returns only the problems of Error severity.
func (ps Problems) Errors() Problems { return ps.bySeverity(Error) }

// Warnings returns only the problems of Warning severity.
func (ps Problems) Warnings() Problems { return ps.bySeverity(Warning) }

func (ps Problems) bySeverity(sev Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == sev {
			out = append(out, p)
		}
	}
	return out
}

// Err returns nil when there is no Error-severity problem, otherwise an error whose message is
// every error problem, one per line.
func (ps Problems) Err() error {
	errs := ps.Errors()
	if len(errs) == 0 {
		return nil
	}
	return &InvalidError{Problems: errs}
}

// InvalidError is returned for a plan with errors. Its message lists every problem, one per line.
type InvalidError struct {
	Problems Problems
}

func (e *InvalidError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
