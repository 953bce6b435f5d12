package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Track characters of the text timeline.
const (
	trackEmpty = '·'
	trackPoint = '●'
	trackRange = '━'
	trackNow   = '│'
)

// DefaultTextWidth is the line width WriteText uses when given none.
const DefaultTextWidth = 100

// WriteText writes the timeline as a terminal Gantt chart, width columns wide (width <= 0 means
// DefaultTextWidth). Below about 80 columns every column is still written, so lines are longer
// than width.
//
// The chart opens with a header: the service and its time zone, the span from the first action
// to the last, and now when it is not the zero time. Then comes one row per action: its local
// time (2006-01-02 15:04 MST in the timeline's zone), a track that places it on the span (●,
// with │ marking now when now falls inside the span), its kind, its name (cut with … beyond 16
// columns) and its detail, wrapped at spaces onto indented continuation lines to fit. The windows of one weekly brownout are summarised on one row at the first window, whose
// track shows the range they cover (━): "8 windows Tue,Thu 14:00 for 15m, 2027-02-16 …
// 2027-03-11: 503 for all consumers (whole service)". Lines carry no trailing spaces.
func (t *Timeline) WriteText(w io.Writer, now time.Time, width int) error {
	if width <= 0 {
		width = DefaultTextWidth
	}
	loc := t.location()
	var b bytes.Buffer
	fmt.Fprintf(&b, "Timeline of %s (%s)\n", t.Service, t.TimeZone)
	if len(t.Actions) == 0 {
		b.WriteString("No actions.\n")
		_, err := w.Write(b.Bytes())
		return err
	}

	rows := summarise(t.Actions, loc)
	c := &textChart{loc: loc, nowCol: -1}
	c.start, c.end = span(t.Actions, rows)
	rows = withGuards(rows, t.Guards, c.end, c.stamp)
	fmt.Fprintf(&b, "Span  %s → %s (%s, %d actions)\n", c.stamp(c.start), c.stamp(c.end), spanText(c.end.Sub(c.start)), len(t.Actions))
	c.trackWidth = min(max(width/8, 10), 30)
	nowInside := c.writeNow(&b, now)
	b.WriteByte('\n')
	c.layout(rows, width)
	if nowInside {
		c.nowCol = c.pos(now)
	}
	c.writeRows(&b, rows)
	_, err := w.Write(b.Bytes())
	return err
}

// span returns the first and the last instant of the actions, the last taking in the ends of
// summarised rows.
func span(actions []Action, rows []row) (start, end time.Time) {
	start, end = actions[0].At, actions[0].At
	for _, a := range actions {
		if a.At.Before(start) {
			start = a.At
		}
		if a.At.After(end) {
			end = a.At
		}
	}
	for _, r := range rows {
		if r.end.After(end) {
			end = r.end
		}
	}
	return start, end
}

// textChart is the layout of the text timeline: its span, the columns' widths and where now is
// on the tracks.
type textChart struct {
	loc                                *time.Location
	start, end                         time.Time
	trackWidth, stampW, nameW, detailW int
	nowCol                             int // -1 when now is not on the tracks
}

// Column widths the layout keeps to.
const maxNameW, kindW, minDetailW, minTrackW = 16, len("milestone"), 20, 8

// stamp writes an instant in the timeline's zone.
func (c *textChart) stamp(at time.Time) string { return at.In(c.loc).Format(stampLayout) }

// pos is the track column of an instant.
func (c *textChart) pos(at time.Time) int {
	if !c.end.After(c.start) {
		return 0
	}
	return int(float64(at.Sub(c.start))/float64(c.end.Sub(c.start))*float64(c.trackWidth-1) + 0.5)
}

// writeNow writes the header's line about now, unless now is the zero time, and reports
// whether now falls inside the span.
func (c *textChart) writeNow(b *bytes.Buffer, now time.Time) (inside bool) {
	if now.IsZero() {
		return false
	}
	where := ""
	switch {
	case now.Before(c.start):
		where = ", before the span"
	case now.After(c.end):
		where = ", after the span"
	default:
		inside = true
		where = fmt.Sprintf(", %s into the span (%c on the tracks)", spanText(now.Sub(c.start)), trackNow)
	}
	fmt.Fprintf(b, "Now   %s%s\n", c.stamp(now), where)
	return inside
}

// layout sets the columns' widths for rows in width columns. The detail column takes what is
// left and wraps; on a narrow terminal the track gives way first.
func (c *textChart) layout(rows []row, width int) {
	c.stampW, c.nameW = len("When"), len("Name")
	for _, r := range rows {
		c.stampW = max(c.stampW, displayWidth(c.stamp(r.at)))
		c.nameW = max(c.nameW, displayWidth(r.name))
	}
	c.nameW = min(c.nameW, maxNameW)
	fixed := c.stampW + 2 + 2 + kindW + 2 + c.nameW + 2 // all but the track and the detail
	if short := minDetailW - (width - fixed - c.trackWidth); short > 0 {
		c.trackWidth = max(c.trackWidth-short, minTrackW)
	}
	c.detailW = max(width-fixed-c.trackWidth, minDetailW)
}

// line writes one line of the chart, without trailing spaces.
func (c *textChart) line(b *bytes.Buffer, when, track, kind, name, detail string) {
	s := pad(when, c.stampW) + "  " + pad(track, c.trackWidth) + "  " + pad(kind, kindW) + "  " + pad(name, c.nameW) + "  " + detail
	b.WriteString(strings.TrimRight(s, " "))
	b.WriteByte('\n')
}

// writeRows writes the column heads and a row per action (or summary, or guardrail), its
// detail wrapped onto continuation lines.
func (c *textChart) writeRows(b *bytes.Buffer, rows []row) {
	c.line(b, "When", "Track", "Kind", "Name", "Detail")
	track := make([]rune, c.trackWidth)
	for _, r := range rows {
		for i := range track {
			track[i] = trackEmpty
		}
		if c.nowCol >= 0 {
			track[c.nowCol] = trackNow
		}
		from := c.pos(r.at)
		if !r.end.IsZero() {
			for i := from; i <= c.pos(r.end); i++ {
				track[i] = trackRange
			}
		} else {
			track[from] = trackPoint
		}
		detail := wrap(r.detail, c.detailW)
		c.line(b, c.stamp(r.at), string(track), string(r.kind), truncate(r.name, c.nameW), detail[0])
		// Continuation lines keep the now marker, so that it reads as one line down the chart.
		for i := range track {
			track[i] = ' '
		}
		if c.nowCol >= 0 {
			track[c.nowCol] = trackNow
		}
		for _, more := range detail[1:] {
			c.line(b, "", string(track), "", "", more)
		}
	}
}

// withGuards adds a row per guardrail at the instant it is armed, whose track covers the time
// it is watched (to its `before` instant, or to end), so that a plan reads where each guardrail
// applies and where it no longer does. A row goes after the actions at the same instant.
func withGuards(rows []row, guards []GuardWindow, end time.Time, stamp func(time.Time) string) []row {
	for _, g := range guards {
		r := row{at: g.From, end: end, kind: KindGuardrail, name: g.Name}
		to := "the end"
		if !g.Until.IsZero() {
			r.end = g.Until
			to = fmt.Sprintf("%s (%s)", g.UntilText, stamp(g.Until))
		}
		if r.end.Before(r.at) {
			r.end = r.at
		}
		r.detail = fmt.Sprintf("watched from %s to %s, before each step and every minute while the service runs: %s if %s", g.FromText, to, g.Then, g.Condition)
		if !g.Until.IsZero() {
			r.detail += "; not checked from " + g.UntilText + " on"
		}
		i := len(rows)
		for i > 0 && rows[i-1].at.After(r.at) {
			i--
		}
		rows = slices.Insert(rows, i, r)
	}
	return rows
}

// row is one line of the text timeline: an action, or the summary of a brownout's windows
// (then end is the last window's start).
type row struct {
	at, end time.Time
	kind    ActionKind
	name    string
	detail  string
}

// windowGroup gathers the windows of one weekly brownout.
type windowGroup struct {
	row              int // index of its summary row
	count            int
	first, last      time.Time
	schedule, effect string
}

// summarise turns actions into rows, folding the windows of each weekly brownout into one row
// placed at its first window. Windows are recognised by their detail ("window n/N, SCHEDULE:
// EFFECT") and grouped by key prefix, schedule and effect, so that a timeline decoded from JSON
// (which carries no keys) is summarised too.
func summarise(actions []Action, loc *time.Location) []row {
	rows := make([]row, 0, len(actions))
	groups := map[string]*windowGroup{}
	for _, a := range actions {
		total, schedule, effect, ok := parseWindowDetail(a)
		if !ok {
			rows = append(rows, row{at: a.At, kind: a.Kind, name: a.Name, detail: a.Detail})
			continue
		}
		prefix := a.Key[:strings.LastIndexByte(a.Key, '/')+1]
		id := prefix + "\x00" + strconv.Itoa(total) + "\x00" + schedule + "\x00" + effect
		g, seen := groups[id]
		if !seen {
			g = &windowGroup{row: len(rows), first: a.At, schedule: schedule, effect: effect}
			groups[id] = g
			rows = append(rows, row{at: a.At, kind: a.Kind, name: a.Name, detail: a.Detail})
		}
		g.count++
		g.last = a.At
		if g.count > 1 {
			r := &rows[g.row]
			r.end = g.last
			r.detail = fmt.Sprintf("%d windows %s, %s … %s: %s", g.count, g.schedule,
				g.first.In(loc).Format(time.DateOnly), g.last.In(loc).Format(time.DateOnly), g.effect)
		}
	}
	return rows
}

// parseWindowDetail reads "window n/N, SCHEDULE: EFFECT" from a brownout window's detail.
func parseWindowDetail(a Action) (total int, schedule, effect string, ok bool) {
	if a.Kind != KindBrownout {
		return 0, "", "", false
	}
	rest, found := strings.CutPrefix(a.Detail, "window ")
	if !found {
		return 0, "", "", false
	}
	counts, rest, found := strings.Cut(rest, ", ")
	if !found {
		return 0, "", "", false
	}
	_, totalText, found := strings.Cut(counts, "/")
	if !found {
		return 0, "", "", false
	}
	total, err := strconv.Atoi(totalText)
	if err != nil {
		return 0, "", "", false
	}
	schedule, effect, found = strings.Cut(rest, ": ")
	if !found {
		return 0, "", "", false
	}
	return total, schedule, effect, true
}

// spanText writes a length of time for people: whole days from two days on, else hours and
// minutes.
func spanText(d time.Duration) string {
	if d >= 48*time.Hour {
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	}
	return FormatDuration(d.Truncate(time.Minute))
}

// pad fills s with spaces to display width w.
func pad(s string, w int) string {
	if n := displayWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// wrap breaks s into lines of display width at most w, at spaces; a word longer than w is cut.
// It returns at least one line.
func wrap(s string, w int) []string {
	var lines []string
	cur := ""
	for word := range strings.FieldsSeq(s) {
		for displayWidth(word) > w {
			if cur != "" {
				lines, cur = append(lines, cur), ""
			}
			head := truncate(word, w+1) // w runes of columns, without the ellipsis
			head = strings.TrimSuffix(head, "…")
			lines = append(lines, head)
			word = word[len(head):]
		}
		switch {
		case cur == "":
			cur = word
		case displayWidth(cur)+1+displayWidth(word) <= w:
			cur += " " + word
		default:
			lines, cur = append(lines, cur), word
		}
	}
	return append(lines, cur)
}

// truncate cuts s to display width w, ending it with … when cut.
func truncate(s string, w int) string {
	if displayWidth(s) <= w {
		return s
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		rw := runeWidth(r)
		if used+rw > w-1 {
			break
		}
		b.WriteRune(r)
		used += rw
	}
	b.WriteRune('…')
	return b.String()
}

// displayWidth is how many terminal columns s takes: East Asian wide characters take two.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r >= 0x1100 && r <= 0x115F, // Hangul Jamo
		r >= 0x2E80 && r <= 0xA4CF && r != 0x303F, // CJK radicals … Yi
		r >= 0xAC00 && r <= 0xD7A3,                // Hangul syllables
		r >= 0xF900 && r <= 0xFAFF,                // CJK compatibility ideographs
		r >= 0xFE30 && r <= 0xFE4F,                // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFF60,                // full-width forms
		r >= 0xFFE0 && r <= 0xFFE6,                // full-width signs
		r >= 0x20000 && r <= 0x3FFFD:              // CJK extensions
		return 2
	}
	return 1
}

// location returns the timeline's zone: Location, else the named TimeZone, else UTC.
func (t *Timeline) location() *time.Location {
	if t.Location != nil {
		return t.Location
	}
	if loc, err := time.LoadLocation(t.TimeZone); err == nil && t.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// MarshalJSON writes the timeline as
//
//	{"service": "...", "timezone": "...", "actions": [{"at": "...", "kind": "...", "name": "...", "detail": "..."}]}
//
// with at in RFC 3339 in the timeline's zone, every action listed (brownout windows one by
// one), and "actions" an empty array rather than null when there is none. Keys are not part of
// it.
func (t *Timeline) MarshalJSON() ([]byte, error) {
	type action struct {
		At     string     `json:"at"`
		Kind   ActionKind `json:"kind"`
		Name   string     `json:"name"`
		Detail string     `json:"detail"`
	}
	out := struct {
		Service  string   `json:"service"`
		TimeZone string   `json:"timezone"`
		Actions  []action `json:"actions"`
	}{Service: t.Service, TimeZone: t.TimeZone, Actions: make([]action, len(t.Actions))}
	loc := t.location()
	for i, a := range t.Actions {
		out.Actions[i] = action{At: a.At.In(loc).Format(time.RFC3339), Kind: a.Kind, Name: a.Name, Detail: a.Detail}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
