package report

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/plan"
)

// Report is the evaluation after the shutdown. Its JSON field names are stable and documented
// in docs/report.md; durations are whole seconds, instants RFC 3339 in UTC.
type Report struct {
	// Kind is "report".
	Kind        string    `json:"kind"`
	Sunset      string    `json:"sunset"`
	Title       plan.Text `json:"title"`
	State       string    `json:"state"`
	TimeZone    string    `json:"timezone"`
	GeneratedAt time.Time `json:"generated_at"`

	Timeline   Timeline   `json:"timeline"`
	Consumers  Consumers  `json:"consumers"`
	Notices    Notices    `json:"notices"`
	Feedback   Feedback   `json:"feedback"`
	Guardrails Guardrails `json:"guardrails"`
	Runbook    Runbook    `json:"runbook"`
	Stragglers Stragglers `json:"stragglers"`
	// Business is present when an accounts CSV was given.
	Business *Business `json:"business,omitempty"`
	Events   Chain     `json:"events"`
	Lessons  Lessons   `json:"lessons"`
}

// LateAfter is the tolerance of "late": how long after its planned instant an action may run
// and still be on time. The dispatcher polls and a failing action is retried, so a few seconds
// or minutes of delay are normal.
const LateAfter = 5 * time.Minute

// The timings of a timeline entry (TimelineEntry.Timing).
const (
	// TimingOnTime: it ran no more than LateAfter after its planned instant.
	TimingOnTime = "on_time"
	// TimingLate: it ran more than LateAfter after its planned instant.
	TimingLate = "late"
	// TimingBeforeApply: its planned instant was before the sunset was applied, so it could
	// not run on time; it ran (or was passed over) when the plan was applied. Not late.
	TimingBeforeApply = "before_apply"
	// TimingSkipped: an operator skipped it, with a reason (sunset skip).
	TimingSkipped = "skipped"
	// TimingPending: it has not run (pending, held, cancelled).
	TimingPending = "pending"
	// TimingSuperseded: a re-plan removed it.
	TimingSuperseded = "superseded"
)

// Timeline compares each action's planned instant with when it ran.
type Timeline struct {
	Entries []TimelineEntry `json:"entries"`
	// Done counts the actions that ran; Late those that ran more than LateAfter
	// (LateAfterSeconds) after their planned instant, of those planned after the sunset was
	// applied; BeforeApply those planned before it was applied (never late); Skipped those an
	// operator skipped; Pending those that have not run (held, pending, cancelled...).
	Done             int   `json:"done"`
	Late             int   `json:"late"`
	BeforeApply      int   `json:"before_apply"`
	Skipped          int   `json:"skipped"`
	Pending          int   `json:"pending"`
	LateAfterSeconds int64 `json:"late_after_seconds"`
	// MaxSlipSeconds is the largest slip of the actions planned after the sunset was applied.
	MaxSlipSeconds int64 `json:"max_slip_seconds"`
	// AppliedAt is when the sunset was applied (its sunset.created event); zero when unknown.
	AppliedAt time.Time `json:"applied_at,omitzero"`
	// Shifts are the re-plans that moved dates (sunset.shifted and plan.replanned events).
	Shifts []Shift `json:"shifts"`
}

// TimelineEntry is one action: planned and actual instants. SlipSeconds is actual − planned
// (0 until the action ran, and for an action planned before the sunset was applied); Timing
// sums it up (TimingOnTime, TimingLate, TimingBeforeApply...).
type TimelineEntry struct {
	Key         string    `json:"key"`
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	Planned     time.Time `json:"planned"`
	Actual      time.Time `json:"actual,omitzero"`
	SlipSeconds int64     `json:"slip_seconds"`
	Timing      string    `json:"timing"`
}

// Shift is one re-plan of the sunset.
type Shift struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Type   string    `json:"type"`
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// ActivityWindow is how far back "active at an instant" looks: a consumer is active at the
// announcement (or the shutdown) when it called in the 7 days before it.
const ActivityWindow = 7 * 24 * time.Hour

// Consumers is how the callers went away.
type Consumers struct {
	// Announcement and Shutdown are the instants compared: when the milestone ran, else when
	// it was planned.
	Announcement time.Time `json:"announcement,omitzero"`
	Shutdown     time.Time `json:"shutdown,omitzero"`
	// AtAnnouncement and AtShutdown count the identified consumers active in the
	// ActivityWindow before each instant.
	AtAnnouncement int `json:"at_announcement"`
	AtShutdown     int `json:"at_shutdown"`
	// Migrated counts the consumers active at the announcement and no longer at the shutdown;
	// MigratedShare is Migrated / AtAnnouncement (0 without consumers).
	Migrated      int     `json:"migrated"`
	MigratedShare float64 `json:"migrated_share"`
	// Curve is the migration curve: distinct identified consumers and requests per day in the
	// plan's time zone, oldest first, with no gap between the first and the last day counted.
	Curve []DayPoint `json:"curve"`
	// LastCall is the day of the last counted request before the shutdown, and
	// DaysToZeroTraffic the whole days from the announcement to it (−1 when unknown).
	LastCall          string `json:"last_call,omitempty"`
	DaysToZeroTraffic int    `json:"days_to_zero_traffic"`
}

// DayPoint is one day of the migration curve.
type DayPoint struct {
	Date      string `json:"date"`
	Consumers int    `json:"consumers"`
	Requests  uint64 `json:"requests"`
}

// Notices is what the notices did.
type Notices struct {
	// ByChannel counts deliveries per channel endpoint ("email", "webhook:crm"), sorted.
	ByChannel []ChannelCount `json:"by_channel"`
	Total     ChannelCount   `json:"total"`
	// ConsumersKnown, ConsumersAware and InBand: see Awareness. AwareShare is aware / known.
	ConsumersKnown int     `json:"consumers_known"`
	ConsumersAware int     `json:"consumers_aware"`
	InBand         int     `json:"in_band"`
	AwareShare     float64 `json:"aware_share"`
}

// ChannelCount counts deliveries of one channel endpoint by outcome. Sent counts deliveries
// handed to the channel whose outcome is not recorded yet.
type ChannelCount struct {
	Channel string `json:"channel"`
	Queued  int    `json:"queued"`
	// Retrying counts deliveries that failed at least once and wait for another attempt.
	Retrying   int `json:"retrying"`
	Sent       int `json:"sent"`
	Delivered  int `json:"delivered"`
	Failed     int `json:"failed"`
	Suppressed int `json:"suppressed"`
	// Held counts deliveries held for their loopback links (no public URL).
	Held int `json:"held"`
}

// Feedback sums up what users said.
type Feedback struct {
	Total             int            `json:"total"`
	ByMood            map[string]int `json:"by_mood"`
	NegativeRatio     float64        `json:"negative_ratio"`
	ExtensionRequests int            `json:"extension_requests"`
	Themes            []Theme        `json:"themes"`
	Survey            Survey         `json:"survey"`
}

// Theme is a key phrase of the feedback and how many messages mention it.
type Theme struct {
	Phrase string `json:"phrase"`
	Count  int    `json:"count"`
}

// Survey sums up the survey after the shutdown.
type Survey struct {
	Responses    int            `json:"responses"`
	Satisfaction float64        `json:"satisfaction"`
	Yes          map[string]int `json:"yes"`
	No           map[string]int `json:"no"`
}

// Guardrails lists the trips and pauses.
type Guardrails struct {
	Trips  []Trip  `json:"trips"`
	Pauses []Pause `json:"pauses"`
	// PausedSeconds is the total time paused (an open pause counts until GeneratedAt).
	PausedSeconds int64 `json:"paused_seconds"`
}

// Trip is one guardrail trip.
type Trip struct {
	At time.Time `json:"at"`
	// Guardrails names the conditions that held.
	Guardrails []string `json:"guardrails"`
	// Before is the action the trip held back.
	Before string `json:"before,omitempty"`
	// Then is the guardrails' reaction: "pause", or "notify" (the owners were warned and the
	// sunset went on).
	Then string `json:"then"`
}

// Pause is one pause, by an operator or a guardrail, and how long it lasted.
type Pause struct {
	From time.Time `json:"from"`
	// Until is when it was resumed or cancelled; zero while still paused.
	Until           time.Time `json:"until,omitzero"`
	DurationSeconds int64     `json:"duration_seconds"`
	// Cause is "guardrail" or "operator".
	Cause  string `json:"cause"`
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
	// EndedBy and EndReason say who resumed (or cancelled) it and why.
	EndedBy   string `json:"ended_by,omitempty"`
	EndReason string `json:"end_reason,omitempty"`
}

// Runbook is the latest run of the shutdown runbook.
type Runbook struct {
	// State is the run's state; empty when no run exists.
	State        string        `json:"state"`
	Steps        []RunbookStat `json:"steps"`
	TotalSeconds int64         `json:"total_seconds"`
}

// RunbookStat is one step's outcome and duration (0 when it did not start and end).
type RunbookStat struct {
	Name            string    `json:"name"`
	Kind            string    `json:"kind"`
	Status          string    `json:"status"`
	Attempts        int       `json:"attempts"`
	Started         time.Time `json:"started,omitzero"`
	Ended           time.Time `json:"ended,omitzero"`
	DurationSeconds int64     `json:"duration_seconds"`
}

// Stragglers is the traffic after the shutdown: who still knocks on the tombstone. It is
// counted from the shutdown instant, not from the next full hour: usage is kept per hour with
// the instant of each hour's latest request, so the hour the shutdown falls in counts when its
// latest request came at or after the shutdown (InShutdownHour says how many requests that
// hour holds, some of which may precede the shutdown) and not at all when it came before.
type Stragglers struct {
	// Since is the shutdown instant; zero when the sunset has no shutdown milestone.
	Since    time.Time `json:"since,omitzero"`
	Requests uint64    `json:"requests"`
	// InShutdownHour is how many of Requests were counted in the hour the shutdown fell in.
	InShutdownHour uint64      `json:"in_shutdown_hour,omitempty"`
	Consumers      []Straggler `json:"consumers"`
	// Unidentified counts requests from callers the gateway could not name.
	Unidentified uint64 `json:"unidentified"`
}

// Straggler is one consumer still calling after the shutdown.
type Straggler struct {
	Consumer string    `json:"consumer"`
	Name     string    `json:"name,omitempty"`
	Tier     string    `json:"tier,omitempty"`
	Requests uint64    `json:"requests"`
	LastSeen time.Time `json:"last_seen"`
	Features []string  `json:"features"`
}

// Business is the impact on the accounts of the accounts CSV.
type Business struct {
	Accounts []AccountOutcome `json:"accounts"`
	// Outcomes counts accounts per outcome: churned, migrated, retained, at_risk.
	Outcomes map[string]int `json:"outcomes"`
	// RevenueTotal sums every account; RevenueLost the churned ones; RevenueAtRisk those still
	// calling after the shutdown; RevenueMigrated the migrated ones; RevenueRetained the rest.
	RevenueTotal    float64 `json:"revenue_total"`
	RevenueLost     float64 `json:"revenue_lost"`
	RevenueAtRisk   float64 `json:"revenue_at_risk"`
	RevenueMigrated float64 `json:"revenue_migrated"`
	RevenueRetained float64 `json:"revenue_retained"`
}

// AccountOutcome is what became of one account.
type AccountOutcome struct {
	Account string  `json:"account"`
	Revenue float64 `json:"revenue"`
	// Outcome is churned, migrated, retained or at_risk; Source says whether the CSV stated it
	// ("csv") or traffic implied it ("traffic").
	Outcome   string   `json:"outcome"`
	Source    string   `json:"source"`
	Consumers []string `json:"consumers"`
	// StillCalling lists its consumers with requests after the shutdown.
	StillCalling []string `json:"still_calling"`
}

// Chain is the result of verifying the audit events' hash chain.
type Chain struct {
	// Checked is false when no verification was available.
	Checked  bool     `json:"checked"`
	OK       bool     `json:"ok"`
	Events   int      `json:"events"`
	Head     string   `json:"head"`
	Problems []string `json:"problems"`
}

// Build evaluates the sunset described by in. It never fails: a missing figure is an empty
// section.
func Build(in Input) *Report {
	loc := in.Plan.Location()
	r := &Report{
		Kind:        "report",
		Sunset:      in.Name,
		Title:       in.Plan.Service.Title,
		State:       in.State,
		TimeZone:    loc.String(),
		GeneratedAt: in.Now.UTC(),
		Lessons:     in.Lessons,
	}
	if r.Title == (plan.Text{}) {
		r.Title = plan.Text{EN: in.Name}
	}
	r.Timeline = buildTimeline(in)
	announce, shutdown := milestoneInstant(in, plan.Announce), milestoneInstant(in, plan.Shutdown)
	r.Consumers = buildConsumers(in, loc, announce, shutdown)
	r.Notices = buildNotices(in)
	r.Feedback = buildFeedback(in.Feedback)
	r.Guardrails = buildGuardrails(in)
	r.Runbook = buildRunbook(in.Runbook)
	r.Stragglers = buildStragglers(in, shutdown)
	if in.Accounts != nil {
		r.Business = buildBusiness(in, r.Stragglers)
	}
	r.Events = Chain{Problems: []string{}}
	if v := in.Verification; v != nil {
		r.Events = Chain{Checked: true, OK: v.OK, Events: v.Events, Head: v.Head, Problems: slices.Clone(v.Problems)}
		if r.Events.Problems == nil {
			r.Events.Problems = []string{}
		}
	}
	return r
}

func (in Input) unknown() string {
	if in.UnknownConsumer != "" {
		return in.UnknownConsumer
	}
	return "(other)"
}

// milestoneInstant is when the milestone ran, else when it is planned; zero if the plan has no
// such milestone.
func milestoneInstant(in Input, name string) time.Time {
	for _, a := range in.Actions {
		if a.Kind == string(plan.KindMilestone) && a.Name == name {
			if !a.DoneAt.IsZero() {
				return a.DoneAt.UTC()
			}
			return a.At.UTC()
		}
	}
	if ms, err := in.Plan.MilestoneTimes(); err == nil {
		if t, ok := ms[name]; ok {
			return t.UTC()
		}
	}
	return time.Time{}
}

// appliedAt is when the sunset was applied: its first sunset.created event; zero without one.
func appliedAt(in Input) time.Time {
	for _, ev := range in.Events {
		if ev.Type == "sunset.created" {
			return ev.At.UTC()
		}
	}
	return time.Time{}
}

func buildTimeline(in Input) Timeline {
	t := Timeline{Entries: []TimelineEntry{}, Shifts: []Shift{}, LateAfterSeconds: int64(LateAfter / time.Second), AppliedAt: appliedAt(in)}
	for _, a := range in.Actions {
		e := TimelineEntry{Key: a.Key, Kind: a.Kind, Name: a.Name, Status: a.Status, Planned: a.At.UTC()}
		before := !t.AppliedAt.IsZero() && a.At.Before(t.AppliedAt)
		switch {
		case a.Status == "skipped":
			e.Timing = TimingSkipped
			t.Skipped++
		case a.Status == "superseded":
			e.Timing = TimingSuperseded
		case before:
			// Due before the sunset existed: it could not run on time, whatever it did since.
			e.Timing = TimingBeforeApply
			if !a.DoneAt.IsZero() {
				e.Actual = a.DoneAt.UTC()
				t.Done++
			}
			t.BeforeApply++
		case !a.DoneAt.IsZero():
			e.Actual = a.DoneAt.UTC()
			e.SlipSeconds = int64(a.DoneAt.Sub(a.At) / time.Second)
			t.Done++
			e.Timing = TimingOnTime
			if a.DoneAt.Sub(a.At) > LateAfter {
				e.Timing = TimingLate
				t.Late++
			}
			t.MaxSlipSeconds = max(t.MaxSlipSeconds, e.SlipSeconds)
		default:
			e.Timing = TimingPending
			t.Pending++
		}
		t.Entries = append(t.Entries, e)
	}
	for _, ev := range in.Events {
		if ev.Type != "sunset.shifted" && ev.Type != "plan.replanned" {
			continue
		}
		var d struct {
			By       string `json:"by"`
			Reason   string `json:"reason"`
			Revision int    `json:"revision"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		t.Shifts = append(t.Shifts, Shift{At: ev.At.UTC(), Actor: ev.Actor, Type: ev.Type, By: d.By, Reason: d.Reason})
	}
	return t
}

// activeBetween returns the identified consumers with requests in hours [from, to).
func activeBetween(in Input, from, to time.Time) map[string]bool {
	out := map[string]bool{}
	for _, c := range in.Usage {
		if c.Count > 0 && c.Consumer != in.unknown() && !c.Hour.Before(from) && c.Hour.Before(to) {
			out[c.Consumer] = true
		}
	}
	return out
}

func buildConsumers(in Input, loc *time.Location, announce, shutdown time.Time) Consumers {
	c := Consumers{Announcement: announce, Shutdown: shutdown, Curve: []DayPoint{}, DaysToZeroTraffic: -1}
	var atA, atS map[string]bool
	if !announce.IsZero() {
		atA = activeBetween(in, announce.Add(-ActivityWindow), announce)
		c.AtAnnouncement = len(atA)
	}
	if !shutdown.IsZero() {
		atS = activeBetween(in, shutdown.Add(-ActivityWindow), shutdown)
		c.AtShutdown = len(atS)
	}
	for id := range atA {
		if !atS[id] {
			c.Migrated++
		}
	}
	if c.AtAnnouncement > 0 {
		c.MigratedShare = float64(c.Migrated) / float64(c.AtAnnouncement)
	}
	type day struct {
		consumers map[string]bool
		requests  uint64
	}
	days := map[string]*day{}
	var first, last time.Time
	var lastCall time.Time
	for _, u := range in.Usage {
		if u.Count == 0 {
			continue
		}
		d := time.Date(u.Hour.In(loc).Year(), u.Hour.In(loc).Month(), u.Hour.In(loc).Day(), 0, 0, 0, 0, loc)
		key := d.Format(time.DateOnly)
		x := days[key]
		if x == nil {
			x = &day{consumers: map[string]bool{}}
			days[key] = x
		}
		x.requests += u.Count
		if u.Consumer != in.unknown() {
			x.consumers[u.Consumer] = true
		}
		if first.IsZero() || d.Before(first) {
			first = d
		}
		if d.After(last) {
			last = d
		}
		if (shutdown.IsZero() || u.Hour.Before(shutdown)) && u.Hour.After(lastCall) {
			lastCall = u.Hour
		}
	}
	for d := first; !first.IsZero() && !d.After(last); d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		p := DayPoint{Date: key}
		if x := days[key]; x != nil {
			p.Consumers, p.Requests = len(x.consumers), x.requests
		}
		c.Curve = append(c.Curve, p)
	}
	if !lastCall.IsZero() {
		c.LastCall = lastCall.In(loc).Format(time.DateOnly)
		if !announce.IsZero() && !lastCall.Before(announce) {
			c.DaysToZeroTraffic = int(lastCall.Sub(announce) / (24 * time.Hour))
		}
	}
	return c
}

func buildNotices(in Input) Notices {
	n := Notices{ByChannel: []ChannelCount{}, Total: ChannelCount{Channel: "total"}}
	by := map[string]*ChannelCount{}
	for _, x := range in.Notices {
		c := by[x.Channel]
		if c == nil {
			c = &ChannelCount{Channel: x.Channel}
			by[x.Channel] = c
		}
		for _, cc := range []*ChannelCount{c, &n.Total} {
			cc.Queued += x.Queued
			cc.Retrying += x.Retrying
			cc.Held += x.Held
			cc.Sent += x.Sent
			cc.Delivered += x.Delivered
			cc.Failed += x.Failed
			cc.Suppressed += x.Suppressed
		}
	}
	for _, k := range slices.Sorted(maps.Keys(by)) {
		n.ByChannel = append(n.ByChannel, *by[k])
	}
	n.ConsumersKnown, n.ConsumersAware, n.InBand = in.Awareness.Known, in.Awareness.Aware, in.Awareness.InBand
	if n.ConsumersKnown > 0 {
		n.AwareShare = float64(n.ConsumersAware) / float64(n.ConsumersKnown)
	}
	return n
}

func buildFeedback(s *feedback.Summary) Feedback {
	f := Feedback{ByMood: map[string]int{}, Themes: []Theme{}, Survey: Survey{Yes: map[string]int{}, No: map[string]int{}}}
	for _, m := range feedback.Moods {
		f.ByMood[m] = 0
	}
	if s == nil {
		return f
	}
	f.Total, f.NegativeRatio, f.ExtensionRequests = s.Total, s.NegativeRatio, s.ExtensionRequests
	maps.Copy(f.ByMood, s.ByMood)
	for _, t := range s.Themes {
		f.Themes = append(f.Themes, Theme{Phrase: t.Phrase, Count: t.Count})
	}
	f.Survey.Responses, f.Survey.Satisfaction = s.Survey.Responses, s.Survey.Satisfaction
	maps.Copy(f.Survey.Yes, s.Survey.Yes)
	maps.Copy(f.Survey.No, s.Survey.No)
	return f
}

func buildGuardrails(in Input) Guardrails {
	g := Guardrails{Trips: []Trip{}, Pauses: []Pause{}}
	var open *Pause
	for _, ev := range in.Events {
		var d struct {
			Reason     string `json:"reason"`
			Guardrails []struct {
				Name string `json:"name"`
				When string `json:"when"`
			} `json:"guardrails"`
			Before struct {
				Key string `json:"key"`
			} `json:"before"`
			Told bool `json:"told"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		switch ev.Type {
		case "guardrail.warned":
			if !d.Told {
				continue // recorded before an action by a server that could tell nobody
			}
			t := Trip{At: ev.At.UTC(), Guardrails: []string{}, Before: d.Before.Key, Then: "notify"}
			for _, x := range d.Guardrails {
				t.Guardrails = append(t.Guardrails, cmp.Or(x.Name, x.When))
			}
			g.Trips = append(g.Trips, t)
		case "guardrail.tripped":
			t := Trip{At: ev.At.UTC(), Guardrails: []string{}, Before: d.Before.Key, Then: "pause"}
			for _, x := range d.Guardrails {
				t.Guardrails = append(t.Guardrails, cmp.Or(x.Name, x.When))
			}
			g.Trips = append(g.Trips, t)
			if open == nil {
				open = &Pause{From: ev.At.UTC(), Cause: "guardrail", Actor: ev.Actor, Reason: joinNames(t.Guardrails)}
			}
		case "sunset.paused":
			if open == nil {
				open = &Pause{From: ev.At.UTC(), Cause: "operator", Actor: ev.Actor, Reason: d.Reason}
			}
		case "sunset.resumed", "sunset.cancelled":
			if open != nil {
				open.Until, open.EndedBy, open.EndReason = ev.At.UTC(), ev.Actor, d.Reason
				open.DurationSeconds = int64(open.Until.Sub(open.From) / time.Second)
				g.Pauses = append(g.Pauses, *open)
				open = nil
			}
		}
	}
	if open != nil {
		open.DurationSeconds = int64(in.Now.Sub(open.From) / time.Second)
		g.Pauses = append(g.Pauses, *open)
	}
	for _, p := range g.Pauses {
		g.PausedSeconds += p.DurationSeconds
	}
	return g
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += "; "
		}
		out += n
	}
	return out
}

func buildRunbook(run *RunbookRun) Runbook {
	rb := Runbook{Steps: []RunbookStat{}}
	if run == nil {
		return rb
	}
	rb.State = run.State
	var first, last time.Time
	for _, s := range run.Steps {
		st := RunbookStat{Name: s.Name, Kind: s.Kind, Status: s.Status, Attempts: s.Attempts, Started: s.Started.UTC(), Ended: s.Ended.UTC()}
		if s.Started.IsZero() {
			st.Started = time.Time{}
		}
		if s.Ended.IsZero() {
			st.Ended = time.Time{}
		}
		if !s.Started.IsZero() && !s.Ended.IsZero() {
			st.DurationSeconds = int64(s.Ended.Sub(s.Started) / time.Second)
			if first.IsZero() || s.Started.Before(first) {
				first = s.Started
			}
			if s.Ended.After(last) {
				last = s.Ended
			}
		}
		rb.Steps = append(rb.Steps, st)
	}
	if !first.IsZero() {
		rb.TotalSeconds = int64(last.Sub(first) / time.Second)
	}
	return rb
}

func buildStragglers(in Input, shutdown time.Time) Stragglers {
	s := Stragglers{Since: shutdown, Consumers: []Straggler{}}
	if shutdown.IsZero() {
		return s
	}
	contacts := contactIndex(in.Contacts)
	by := map[string]*Straggler{}
	feats := map[string]map[string]bool{}
	for _, c := range in.Usage {
		if c.Count == 0 || !c.Hour.Add(time.Hour).After(shutdown) {
			continue // none, or the whole hour before the shutdown
		}
		if c.Hour.Before(shutdown) {
			// The hour the shutdown fell in: a straggler if its latest request came after.
			if !c.LastAt.IsZero() && c.LastAt.Before(shutdown) {
				continue
			}
			s.InShutdownHour += c.Count
		}
		s.Requests += c.Count
		if c.Consumer == in.unknown() {
			s.Unidentified += c.Count
			continue
		}
		x := by[c.Consumer]
		if x == nil {
			ct := contacts[c.Consumer]
			x = &Straggler{Consumer: c.Consumer, Name: ct.Name, Tier: ct.Tier}
			by[c.Consumer] = x
			feats[c.Consumer] = map[string]bool{}
		}
		x.Requests += c.Count
		if c.Last().After(x.LastSeen) {
			x.LastSeen = c.Last()
		}
		feats[c.Consumer][cmp.Or(c.Feature, "(none)")] = true
	}
	for id, x := range by {
		x.Features = slices.Sorted(maps.Keys(feats[id]))
		s.Consumers = append(s.Consumers, *x)
	}
	slices.SortFunc(s.Consumers, func(a, b Straggler) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Consumer, b.Consumer))
	})
	return s
}

func contactIndex(cs []Contact) map[string]Contact {
	m := make(map[string]Contact, len(cs))
	for _, c := range cs {
		m[c.ID] = c
	}
	return m
}

func buildBusiness(in Input, st Stragglers) *Business {
	b := &Business{Accounts: []AccountOutcome{}, Outcomes: map[string]int{Churned: 0, Migrated: 0, Retained: 0, AtRisk: 0}}
	calling := map[string]bool{}
	for _, x := range st.Consumers {
		calling[x.Consumer] = true
	}
	seen := map[string]bool{}
	for _, c := range in.Usage {
		if c.Count > 0 {
			seen[c.Consumer] = true
		}
	}
	for _, a := range in.Accounts {
		o := AccountOutcome{Account: a.Account, Revenue: a.Revenue, Consumers: slices.Clone(a.Consumers), StillCalling: []string{}, Source: "traffic"}
		used := false
		for _, id := range a.Consumers {
			if calling[id] {
				o.StillCalling = append(o.StillCalling, id)
			}
			used = used || seen[id]
		}
		switch {
		case a.Status != "":
			o.Outcome, o.Source = a.Status, "csv"
		case len(o.StillCalling) > 0:
			o.Outcome = AtRisk
		case used:
			o.Outcome = Migrated
		default:
			o.Outcome = Retained
		}
		b.Outcomes[o.Outcome]++
		b.RevenueTotal += a.Revenue
		switch o.Outcome {
		case Churned:
			b.RevenueLost += a.Revenue
		case AtRisk:
			b.RevenueAtRisk += a.Revenue
		case Migrated:
			b.RevenueMigrated += a.Revenue
		default:
			b.RevenueRetained += a.Revenue
		}
		b.Accounts = append(b.Accounts, o)
	}
	slices.SortFunc(b.Accounts, func(x, y AccountOutcome) int {
		return cmp.Or(cmp.Compare(y.Revenue, x.Revenue), cmp.Compare(x.Account, y.Account))
	})
	return b
}
