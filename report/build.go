package report

// The sections of a report, each computed from the input: timeline, consumers, notices,
// feedback, guardrails, runbook, stragglers and business.

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/plan"
)

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
