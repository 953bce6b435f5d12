package plan

import (
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"
)

// Weekly is a weekly schedule of start times: a set of week days and one wall-clock time of day
// in the plan's time zone, as written in a brownout's `every` ("Tue,Thu 14:00", "Mon-Fri 09:30",
// "daily 03:00"). ParseWeekly builds one; the zero Weekly has no day and never starts.
//
// Weekly is a small comparable value; it is safe to copy and to use from many goroutines.
type Weekly struct {
	days   uint8 // bit i set: time.Weekday(i) is a start day
	hour   uint8 // 0–23
	minute uint8 // 0–59
}

// maxWeeklyLen bounds the text ParseWeekly reads; real schedules are a few dozen bytes.
const maxWeeklyLen = 128

// allDays is the days bit set of a daily schedule.
const allDays = 1<<7 - 1

// weekOrder is the order days are written in: Monday first, as people in most of the world
// read a week.
var weekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

var dayAbbrevs = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// dayNames maps every accepted (lower-case) spelling of a day to its weekday.
var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

// weeklyExamples ends every ParseWeekly error, so that the reader sees what is expected.
const weeklyExamples = `write days and a time such as "Tue,Thu 14:00", "Mon-Fri 09:30" or "daily 03:00"`

// ParseWeekly reads a weekly schedule: a day specification, white space, and a 24-hour time
// HH:MM (or H:MM) from 00:00 to 23:59.
//
// The day specification is "daily" (also "everyday"), "weekdays" (Mon-Fri), "weekends"
// (Sat,Sun), or a comma-separated list of days and ranges of days. Days are English names, the
// three-letter abbreviation (Mon, Tue, Wed, Thu, Fri, Sat, Sun) or the full name, in any case.
// A range "Mon-Fri" includes both ends and may wrap around the week ("Fri-Mon" is Fri, Sat, Sun
// and Mon). Spaces around commas and dashes are allowed; a day listed twice counts once.
//
// An error says what was wrong and shows the expected form; it never includes more than a short
// prefix of over-long input.
func ParseWeekly(s string) (Weekly, error) {
	if len(s) > maxWeeklyLen {
		return Weekly{}, fmt.Errorf("weekly schedule %.24q… is too long (at most %d bytes); %s", s, maxWeeklyLen, weeklyExamples)
	}
	fail := func(format string, args ...any) (Weekly, error) {
		return Weekly{}, fmt.Errorf("cannot read %q as a weekly schedule: %s; %s", s, fmt.Sprintf(format, args...), weeklyExamples)
	}
	text := strings.TrimSpace(s)
	if text == "" {
		return fail("it is empty")
	}
	cut := strings.LastIndexAny(text, " \t")
	if cut < 0 {
		if strings.Contains(text, ":") {
			return fail("days are missing before the time")
		}
		return fail("the time of day is missing")
	}
	daysText, clock := strings.TrimSpace(text[:cut]), text[cut+1:]
	hour, minute, err := parseClock(clock)
	if err != nil {
		return fail("%v", err)
	}
	days, err := parseDays(daysText)
	if err != nil {
		return fail("%v", err)
	}
	return Weekly{days: days, hour: uint8(hour), minute: uint8(minute)}, nil
}

// parseClock reads "HH:MM" or "H:MM", 00:00 to 23:59.
func parseClock(s string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !allDigits(h) || !allDigits(m) {
		return 0, 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	hour, _ = strconv.Atoi(h)
	minute, _ = strconv.Atoi(m)
	if hour > 23 || minute > 59 {
		return 0, 0, fmt.Errorf("time %q is not a time of day between 00:00 and 23:59", s)
	}
	return hour, minute, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseDays reads the day specification of a weekly schedule into a bit set.
func parseDays(s string) (uint8, error) {
	switch strings.ToLower(s) {
	case "daily", "everyday", "every day":
		return allDays, nil
	case "weekdays":
		return 1<<time.Monday | 1<<time.Tuesday | 1<<time.Wednesday | 1<<time.Thursday | 1<<time.Friday, nil
	case "weekends":
		return 1<<time.Saturday | 1<<time.Sunday, nil
	}
	var days uint8
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return 0, fmt.Errorf("a day is missing in %q", s)
		}
		first, last, isRange := strings.Cut(item, "-")
		from, err := parseDay(first)
		if err != nil {
			return 0, err
		}
		to := from
		if isRange {
			if to, err = parseDay(last); err != nil {
				return 0, err
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			days |= 1 << d
			if d == to {
				break
			}
		}
	}
	return days, nil
}

// parseDay reads one day name.
func parseDay(s string) (time.Weekday, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("a range of days needs a day on both sides of the dash")
	}
	if d, ok := dayNames[strings.ToLower(s)]; ok {
		return d, nil
	}
	hint := ""
	if d, ok := closestDay(s); ok {
		hint = fmt.Sprintf(" (did you mean %q?)", d)
	}
	return 0, fmt.Errorf("unknown day %q%s: use Mon, Tue, Wed, Thu, Fri, Sat, Sun or daily", s, hint)
}

// closestDay returns the day abbreviation (or "daily") nearest to a misspelt day name, when one
// is near enough to be a likely typo.
func closestDay(s string) (string, bool) {
	s = strings.ToLower(s)
	best, bestD := "", 2 // at most one edit away
	for _, c := range append(dayAbbrevs[:], "daily") {
		// Compare with the full name too, so that "Tues" and "Thurs" find their day.
		d := editDistance(s, strings.ToLower(c))
		if full, ok := fullDayNames[c]; ok {
			d = min(d, editDistance(s, full))
			if len(s) >= 3 && len(s) < len(full) {
				d = min(d, editDistance(s, full[:len(s)]))
			}
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best, best != ""
}

var fullDayNames = map[string]string{
	"Sun": "sunday", "Mon": "monday", "Tue": "tuesday", "Wed": "wednesday",
	"Thu": "thursday", "Fri": "friday", "Sat": "saturday",
}

// IsZero reports whether w is the zero Weekly, which has no day and never starts.
func (w Weekly) IsZero() bool { return w.days == 0 }

// On reports whether the schedule starts on day d (a day of the plan's time zone).
func (w Weekly) On(d time.Weekday) bool { return d >= 0 && d < 7 && w.days&(1<<d) != 0 }

// Days returns the start days, Monday first.
func (w Weekly) Days() []time.Weekday {
	var out []time.Weekday
	for _, d := range weekOrder {
		if w.On(d) {
			out = append(out, d)
		}
	}
	return out
}

// Clock returns the wall-clock start time of day.
func (w Weekly) Clock() (hour, minute int) { return int(w.hour), int(w.minute) }

// String returns the canonical text of the schedule, which ParseWeekly reads back to an equal
// Weekly: "daily 03:00", "weekdays" as "Mon-Fri 09:30", days Monday first, three or more
// consecutive days as a range ("Mon-Wed,Fri 14:00"), two as a list ("Sat,Sun 10:00"), the time
// as HH:MM. The zero Weekly is "never".
func (w Weekly) String() string {
	if w.days == 0 {
		return "never"
	}
	clock := fmt.Sprintf("%02d:%02d", w.hour, w.minute)
	if w.days == allDays {
		return "daily " + clock
	}
	var parts []string
	// Runs are found Monday first; Sunday is last, so a Sat-Sun run stays one run.
	for i := 0; i < 7; {
		if !w.On(weekOrder[i]) {
			i++
			continue
		}
		j := i
		for j+1 < 7 && w.On(weekOrder[j+1]) {
			j++
		}
		switch j - i {
		case 0:
			parts = append(parts, dayAbbrevs[weekOrder[i]])
		case 1:
			parts = append(parts, dayAbbrevs[weekOrder[i]], dayAbbrevs[weekOrder[j]])
		default:
			parts = append(parts, dayAbbrevs[weekOrder[i]]+"-"+dayAbbrevs[weekOrder[j]])
		}
		i = j + 1
	}
	return strings.Join(parts, ",") + " " + clock
}

// MarshalText writes the canonical form, as String does.
func (w Weekly) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText parses a schedule, as ParseWeekly does.
func (w *Weekly) UnmarshalText(b []byte) error {
	v, err := ParseWeekly(string(b))
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// Next returns the first start of the schedule at or after after (inclusive: a start exactly at
// after is returned), read in loc, as a time in loc. It returns the zero time for the zero
// Weekly. A nil loc means UTC.
//
// Starts follow the wall clock of loc across daylight-saving changes, as cron does: "daily
// 14:00" starts at 14:00 local time on both sides of a change, so consecutive starts may be 23
// or 25 hours apart. A start time that does not exist on a day because the clocks jump forward
// over it (02:30 on a spring-forward night in New York) happens later by the jump (03:30 local
// time, the same absolute instant as 02:30 in the old offset); a start time that happens twice
// because the clocks go back happens once, at its first occurrence.
func (w Weekly) Next(after time.Time, loc *time.Location) time.Time {
	if w.days == 0 {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	local := after.In(loc)
	y, m, d := local.Date()
	// Start a day early: a start shifted forward by a clock change can land on the next
	// calendar day. Eight days further always reach a start day.
	for i := -1; i <= 8; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC)
		if !w.On(day.Weekday()) {
			continue
		}
		if s := w.startOn(day, loc); !s.Before(after) {
			return s
		}
	}
	return time.Time{} // unreachable for a non-zero Weekly
}

// Prev returns the last start of the schedule at or before at, as a time in loc: the start of
// the window that at may fall in. It returns the zero time for the zero Weekly. A nil loc means
// UTC. Clock changes are handled as Next describes.
func (w Weekly) Prev(at time.Time, loc *time.Location) time.Time {
	if w.days == 0 {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	local := at.In(loc)
	y, m, d := local.Date()
	for i := 1; i >= -8; i-- {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC)
		if !w.On(day.Weekday()) {
			continue
		}
		if s := w.startOn(day, loc); !s.After(at) {
			return s
		}
	}
	return time.Time{}
}

// Starts yields every start s of the schedule with from <= s < until, in order, as times in
// loc. A nil loc means UTC.
func (w Weekly) Starts(from, until time.Time, loc *time.Location) iter.Seq[time.Time] {
	return func(yield func(time.Time) bool) {
		if w.days == 0 {
			return
		}
		if loc == nil {
			loc = time.UTC
		}
		y, m, d := from.In(loc).Date()
		// Walk calendar days from the day before from's (see Next); every week has a start
		// day, so a start at or after until ends the walk.
		for i := -1; ; i++ {
			day := time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC)
			if !w.On(day.Weekday()) {
				continue
			}
			s := w.startOn(day, loc)
			if s.Before(from) {
				continue
			}
			if !s.Before(until) || !yield(s) {
				return
			}
		}
	}
}

// startOn returns the start on the calendar day of day (a UTC date), at w's wall clock in loc.
func (w Weekly) startOn(day time.Time, loc *time.Location) time.Time {
	return wallTime(day.Year(), day.Month(), day.Day(), int(w.hour), int(w.minute), loc)
}

// wallTime returns the instant whose wall clock in loc reads the given date and time. Unlike
// time.Date, which leaves both cases unspecified, it is deterministic around clock changes: a
// wall time skipped by a forward jump is moved later by the jump, and a wall time that happens
// twice is its first occurrence.
func wallTime(year int, month time.Month, day, hour, minute int, loc *time.Location) time.Time {
	civil := time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
	u := civil.Unix()
	// The offsets a day before and a day after bracket any one clock change.
	_, before := time.Unix(u-86400, 0).In(loc).Zone()
	_, after := time.Unix(u+86400, 0).In(loc).Zone()
	if before == after {
		// No clock change near: the wall time exists once.
		return time.Unix(u-int64(before), 0).In(loc)
	}
	matches := func(t time.Time) bool {
		l := t.In(loc)
		return l.Year() == year && l.Month() == month && l.Day() == day && l.Hour() == hour && l.Minute() == minute
	}
	first, second := time.Unix(u-int64(before), 0), time.Unix(u-int64(after), 0)
	if second.Before(first) {
		first, second = second, first
	}
	switch {
	case matches(first):
		return first.In(loc)
	case matches(second):
		return second.In(loc)
	default:
		// In the gap of a forward jump: read the wall time in the offset before the jump,
		// which lands after the gap, later by the jump.
		return time.Unix(u-int64(before), 0).In(loc)
	}
}
