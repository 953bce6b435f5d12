package plan

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxListedWindows is the most windows of one weekly brownout that Compile lists as actions of
// their own. A brownout with more windows (a daily window over three years has about 1,100) is
// compiled into a start and an end action that name the schedule instead, so that a long plan
// still compiles while the timeline stays readable and the engine's job count stays bounded; the
// gateway enforces every window from the schedule either way.
const MaxListedWindows = 500

// GuardrailLead is how long before a milestone its guardrail checks are placed, so that a
// tripped guardrail pauses the sunset before the milestone's step runs.
const GuardrailLead = time.Hour

// defaultBrownoutStatus is the answer of a brownout that names none (issue 3: 503).
const defaultBrownoutStatus = 503

// Compile returns every action the plan implies, sorted by instant, at absolute instants in the
// plan's time zone (Location). It expects a validated plan; an instant it cannot resolve, a
// schedule it cannot read, or two plan elements that would share a key make it return an error
// naming each place (joined with errors.Join), and no timeline.
//
// Ties keep plan order: milestones in file order first, then features (each feature's phases in
// order), brownouts, notices, guardrails, the runbook and data actions.
//
// The actions and their keys, which stay the same when a re-plan moves dates (i and n count in
// the plan's lists, from 0 like the field paths brownouts[0], except window numbers, which
// count from 1 as in the detail "window 3/8"):
//
//   - milestone/NAME: each milestone, named as in the plan.
//   - feature/NAME/deprecated, feature/NAME/read_only, feature/NAME/gone or
//     feature/NAME/redirect: each feature's phase changes. A feature is deprecated at its own
//     deprecate instant, else the deprecate milestone, else announce; read-only at its own
//     read_only instant, or the read_only milestone for core features; gone (410) or
//     redirected (308, when it names a redirect URL) at its own gone instant, else shutdown.
//     A phase that would begin when the feature is already gone is left out.
//   - brownout/i/n: window n of weekly brownout i, for each start from `from` (inclusive) to
//     `until` (exclusive; default shutdown). Above MaxListedWindows windows: brownout/i/start
//     and brownout/i/end instead.
//   - brownout/i/start: the start of percentage brownout i.
//   - notice/i: notice i.
//   - guardrail/i/MILESTONE: a check of guardrail i GuardrailLead before each milestone later
//     than announce (before announce there is no reaction to watch), only while the check is
//     earlier than the guardrail's `before` instant and not before a milestone earlier than its
//     `from` instant (a check that the lead would place before `from` is placed at `from`).
//     Milestones at the same instant share one check, named after the first of them.
//   - runbook/start: the runbook starts at the shutdown milestone.
//   - data/delete: at the delete_data milestone; data/export-until: when export links expire.
func (p *Plan) Compile() (*Timeline, error) {
	loc := p.Location()
	ms, err := p.MilestoneTimes()
	if err != nil {
		return nil, fmt.Errorf("milestones: %w", err)
	}
	c := &compiler{p: p, loc: loc, ms: ms}
	c.milestones()
	c.features()
	c.brownouts()
	c.notices()
	c.guardrails()
	c.runbook()
	c.data()
	c.uniqueKeys()
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	slices.SortStableFunc(c.acts, func(a, b Action) int { return a.At.Compare(b.At) })
	zone := p.Service.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	return &Timeline{Service: p.Service.Name, TimeZone: zone, Location: loc, Actions: c.acts, Guards: c.guards}, nil
}

// compiler gathers the actions of one plan in plan order, and every problem met on the way.
type compiler struct {
	p      *Plan
	loc    *time.Location
	ms     map[string]time.Time
	acts   []Action
	guards []GuardWindow
	errs   []error
}

func (c *compiler) add(key string, at time.Time, kind ActionKind, name, detail string) {
	c.acts = append(c.acts, Action{Key: key, At: at.In(c.loc), Kind: kind, Name: name, Detail: detail})
}

func (c *compiler) fail(path, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// resolve returns the absolute time of in, read in the plan's zone. Unlike Plan.Resolve it does
// not load the zone again for every instant.
func (c *compiler) resolve(in Instant, path string) (time.Time, bool) {
	if t, ok := in.Absolute(c.loc); ok {
		return t.In(c.loc), true
	}
	if in.Ref == "" {
		c.fail(path, "empty instant")
		return time.Time{}, false
	}
	base, ok := c.ms[in.Ref]
	if !ok {
		c.fail(path, "%q names unknown milestone %q%s", in.Raw, in.Ref, suggest(in.Ref, milestoneNames(c.p.Milestones)))
		return time.Time{}, false
	}
	return in.From(base, c.loc).In(c.loc), true
}

// milestone returns the resolved instant of the named milestone.
func (c *compiler) milestone(name string) (time.Time, bool) {
	t, ok := c.ms[name]
	return t, ok
}

// milestoneDetails says in a sentence what each well-known milestone means.
var milestoneDetails = map[string]string{
	Announce:   "the sunset is announced",
	Deprecate:  "Deprecation and Sunset headers on every answer",
	ReadOnly:   "the service refuses writes",
	Shutdown:   "the service answers 410 Gone",
	DeleteData: "end of data retention",
}

func (c *compiler) milestones() {
	for _, m := range c.p.Milestones {
		detail, ok := milestoneDetails[m.Name]
		if !ok {
			detail = "custom milestone"
		}
		if m.At.IsRelative() {
			detail += " (" + m.At.Raw + ")"
		}
		c.add("milestone/"+m.Name, c.ms[m.Name], KindMilestone, m.Name, detail)
	}
}

func (c *compiler) features() {
	for i, f := range c.p.Features {
		path := fmt.Sprintf("features[%d]", i)
		key := "feature/" + f.Name + "/"
		gone, found, bad := c.instantOr(f.Gone, path+".gone", Shutdown)
		if bad {
			continue
		}
		if !found {
			c.fail(path, "feature %q has no gone instant and the plan has no shutdown milestone", f.Name)
			continue
		}
		deprecated, found, bad := c.instantOr(f.Deprecate, path+".deprecate", Deprecate, Announce)
		if !bad && found && deprecated.Before(gone) {
			c.add(key+"deprecated", deprecated, KindFeature, f.Name, "deprecated: Deprecation and Sunset headers on "+routeList(f.Routes))
		}
		var readOnlyDefault []string
		if f.Core {
			readOnlyDefault = []string{ReadOnly}
		}
		readOnly, found, bad := c.instantOr(f.ReadOnly, path+".read_only", readOnlyDefault...)
		if !bad && found && readOnly.Before(gone) {
			c.add(key+"read_only", readOnly, KindFeature, f.Name, "read_only: writes refused with 503, reads still served")
		}
		if f.Redirect != "" {
			c.add(key+"redirect", gone, KindFeature, f.Name, "redirect: 308 to "+f.Redirect)
		} else {
			c.add(key+"gone", gone, KindFeature, f.Name, "gone: 410")
		}
	}
}

// instantOr resolves explicit when it is set, and otherwise returns the first of the fallback
// milestones that the plan has. found reports whether there was an instant; bad whether explicit
// could not be resolved (the problem is recorded).
func (c *compiler) instantOr(explicit *Instant, path string, fallbacks ...string) (t time.Time, found, bad bool) {
	if explicit != nil {
		t, ok := c.resolve(*explicit, path)
		return t, ok, !ok
	}
	for _, name := range fallbacks {
		if t, ok := c.milestone(name); ok {
			return t, true, false
		}
	}
	return time.Time{}, false, false
}

// routeList writes at most three routes and how many more there are.
func routeList(routes []string) string {
	const shown = 3
	switch {
	case len(routes) == 0:
		return "its routes"
	case len(routes) <= shown:
		return strings.Join(routes, ", ")
	default:
		return fmt.Sprintf("%s and %d more routes", strings.Join(routes[:shown], ", "), len(routes)-shown)
	}
}

func (c *compiler) brownouts() {
	for i, b := range c.p.Brownouts {
		path := fmt.Sprintf("brownouts[%d]", i)
		from, ok := c.resolve(b.From, path+".from")
		if !ok {
			continue
		}
		var until time.Time
		untilText := ""
		if b.Until != nil {
			if until, ok = c.resolve(*b.Until, path+".until"); !ok {
				continue
			}
			untilText = c.instantText(*b.Until, until)
		} else if until, ok = c.milestone(Shutdown); ok {
			untilText = Shutdown
		} else {
			c.fail(path, "a brownout without until ends at the shutdown milestone, which the plan lacks")
			continue
		}
		status := b.Status
		if status == 0 {
			status = defaultBrownoutStatus
		}
		who := "all consumers"
		if b.Audience == "laggards" {
			who = "laggards"
		}
		if ex := c.p.Consumers.Exempt; len(ex) > 0 {
			// Exempt consumers are spared until shutdown; say so where the reader looks.
			if len(ex) <= 3 {
				who += " except " + strings.Join(ex, ", ")
			} else {
				who += fmt.Sprintf(" except %d exempt consumers", len(ex))
			}
		}
		scope := "(whole service)"
		if len(b.Features) > 0 {
			scope = "(features: " + strings.Join(b.Features, ", ") + ")"
		}
		key := "brownout/" + strconv.Itoa(i) + "/"

		if b.Every == "" {
			if b.Percent <= 0 {
				c.fail(path, "a brownout needs either every (weekly windows) or percent")
				continue
			}
			if !from.Before(until) {
				c.fail(path, "from (%s) is not before until (%s)", c.stamp(from), c.stamp(until))
				continue
			}
			c.add(key+"start", from, KindBrownout, "brownout",
				fmt.Sprintf("%s%% of requests from %s fail with %d until %s %s", percent(b.Percent), who, status, untilText, scope))
			continue
		}

		w, err := ParseWeekly(b.Every)
		if err != nil {
			c.fail(path+".every", "%v", err)
			continue
		}
		if b.For <= 0 {
			c.fail(path+".for", "a brownout with weekly windows needs a duration such as 15m")
			continue
		}
		share := ""
		if b.Percent > 0 {
			share = percent(b.Percent) + "% of requests from "
		}
		schedule := w.String() + " for " + b.For.String()
		effect := fmt.Sprintf("%d for %s%s %s", status, share, who, scope)

		// Keep the starts while they may still be listed; count the rest.
		var starts []time.Time
		var last time.Time
		total := 0
		for s := range w.Starts(from, until, c.loc) {
			if total < MaxListedWindows+1 {
				starts = append(starts, s)
			}
			last = s
			total++
		}
		switch {
		case total == 0:
			c.fail(path, "no %s window starts between from (%s) and until (%s)", w.String(), c.stamp(from), c.stamp(until))
		case total > MaxListedWindows:
			c.add(key+"start", starts[0], KindBrownout, "brownout",
				fmt.Sprintf("%d windows, %s until %s, too many to list: %s", total, schedule, untilText, effect))
			c.add(key+"end", last.Add(time.Duration(b.For)), KindBrownout, "brownout",
				fmt.Sprintf("last of %d windows ends, %s", total, schedule))
		default:
			for n, s := range starts {
				c.add(key+strconv.Itoa(n+1), s, KindBrownout, "brownout",
					fmt.Sprintf("window %d/%d, %s: %s", n+1, total, schedule, effect))
			}
		}
	}
}

// percent writes a share without trailing zeros: 10, 2.5.
func percent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// instantText names an instant for a detail: a relative one as written, an absolute one by its
// local time.
func (c *compiler) instantText(in Instant, t time.Time) string {
	if in.IsRelative() {
		return in.Raw
	}
	return c.stamp(t)
}

// stamp is the local time format of timelines.
func (c *compiler) stamp(t time.Time) string { return t.In(c.loc).Format(stampLayout) }

// stampLayout is how timelines write an instant for people.
const stampLayout = "2006-01-02 15:04 MST"

func (c *compiler) notices() {
	for i, n := range c.p.Notices {
		at, ok := c.resolve(n.At, fmt.Sprintf("notices[%d].at", i))
		if !ok {
			continue
		}
		detail := "to " + n.To
		if len(n.Channels) > 0 {
			detail += " via " + strings.Join(n.Channels, ", ")
		}
		if n.Mandatory {
			detail += " (mandatory)"
		}
		c.add("notice/"+strconv.Itoa(i), at, KindNotice, n.Template, detail)
	}
}

func (c *compiler) guardrails() {
	if len(c.p.Guardrails) == 0 {
		return
	}
	// The milestones worth a check: later than announce, one per distinct instant.
	announce, hasAnnounce := c.milestone(Announce)
	type point struct {
		name string
		at   time.Time
	}
	var points []point
	for _, m := range c.p.Milestones {
		at := c.ms[m.Name]
		if hasAnnounce && !at.After(announce) {
			continue
		}
		if slices.ContainsFunc(points, func(p point) bool { return p.at.Equal(at) }) {
			continue
		}
		points = append(points, point{m.Name, at})
	}
	for i, g := range c.p.Guardrails {
		path := fmt.Sprintf("guardrails[%d]", i)
		var before, from time.Time
		if g.Before != nil {
			var ok bool
			if before, ok = c.resolve(*g.Before, path+".before"); !ok {
				continue
			}
		}
		if g.From != nil {
			var ok bool
			if from, ok = c.resolve(*g.From, path+".from"); !ok {
				continue
			}
		}
		name := g.Name
		if name == "" {
			name = "guardrail-" + strconv.Itoa(i)
		}
		then := g.Then
		if then == "" {
			then = "pause"
		}
		gw := GuardWindow{Name: name, Condition: g.When, Then: then, FromText: Announce}
		if hasAnnounce {
			gw.From = announce.In(c.loc)
		}
		if g.From != nil && (!hasAnnounce || from.After(announce)) {
			gw.From, gw.FromText = from.In(c.loc), g.From.Raw
		}
		if g.Before != nil {
			gw.Until, gw.UntilText = before.In(c.loc), g.Before.Raw
		}
		if !gw.From.IsZero() {
			c.guards = append(c.guards, gw)
		}
		for _, pt := range points {
			at := pt.at.Add(-GuardrailLead)
			if g.Before != nil && !at.Before(before) {
				continue
			}
			if g.From != nil && at.Before(from) {
				// A check before the guardrail is armed would not see it; the milestone at
				// (or after) from still gets its check, placed at from when the lead would
				// put it earlier.
				if pt.at.Before(from) {
					continue
				}
				at = from
			}
			c.add("guardrail/"+strconv.Itoa(i)+"/"+pt.name, at, KindGuardrail, name,
				fmt.Sprintf("before %s, %s if %s", pt.name, then, g.When))
		}
	}
}

func (c *compiler) runbook() {
	if len(c.p.Runbook) == 0 {
		return
	}
	at, ok := c.milestone(Shutdown)
	if !ok {
		c.fail("runbook", "the runbook starts at the shutdown milestone, which the plan lacks")
		return
	}
	const shown = 8
	names := make([]string, 0, min(len(c.p.Runbook), shown))
	for _, s := range c.p.Runbook[:min(len(c.p.Runbook), shown)] {
		names = append(names, s.Name)
	}
	list := strings.Join(names, ", ")
	if len(c.p.Runbook) > shown {
		list += ", …"
	}
	steps := "steps"
	if len(c.p.Runbook) == 1 {
		steps = "step"
	}
	c.add("runbook/start", at, KindRunbook, "runbook", fmt.Sprintf("%d %s: %s", len(c.p.Runbook), steps, list))
}

func (c *compiler) data() {
	if at, ok := c.milestone(DeleteData); ok {
		hold, keep := "no", ""
		if r := c.p.Data.Retention; r != nil {
			if r.LegalHold {
				hold = "yes"
			}
			if r.Keep > 0 {
				keep = ", backups kept " + daysText(time.Duration(r.Keep))
			}
		}
		c.add("data/delete", at, KindData, "delete", "delete data (legal hold: "+hold+keep+")")
	}
	if e := c.p.Data.Export; e != nil && e.Until != nil {
		if at, ok := c.resolve(*e.Until, "data.export.until"); ok {
			c.add("data/export-until", at, KindData, "export", "export links expire")
		}
	}
}

// daysText writes a whole number of days as "180 days", anything else as FormatDuration does.
func daysText(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return strconv.Itoa(int(d/day)) + " days"
	}
	return FormatDuration(d)
}

// uniqueKeys reports keys that two plan elements share, such as two features of one name.
func (c *compiler) uniqueKeys() {
	seen := make(map[string]bool, len(c.acts))
	for _, a := range c.acts {
		if seen[a.Key] {
			c.errs = append(c.errs, fmt.Errorf("two plan elements compile to the action %q: names must be unique", a.Key))
			continue
		}
		seen[a.Key] = true
	}
}
