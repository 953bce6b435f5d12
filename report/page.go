package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// page is a rendered document before it becomes Markdown or HTML: the same headings, facts and
// tables in both, so the two formats never disagree. Charts appear only in HTML.
type page struct {
	lang     string
	title    string
	subtitle string
	meta     []fact
	sections []section
}

type fact struct{ label, value string }

type section struct {
	id      string
	heading string
	facts   []fact
	charts  []chart
	tables  []table
	// text is free text (the lessons), shown as written.
	text string
	// empty is shown when the section has nothing else.
	empty string
}

type table struct {
	caption string
	head    []string
	// right marks columns aligned right (numbers).
	right []bool
	rows  [][]string
}

// chart is an inline SVG chart: a line over points or bars with stacked parts.
type chart struct {
	kind  string // "line" or "bars"
	title string
	// line: labels under the x axis (dates) and one value per label.
	labels []string
	values []float64
	// bars: one group per label, one value per series.
	series []string
	groups [][]float64
}

func (p *page) add(s section) { p.sections = append(p.sections, s) }

func itoa(n int) string    { return strconv.Itoa(n) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
func yesNo(lang string, b bool) string {
	if b {
		return t(lang, "yes")
	}
	return t(lang, "no")
}

// reportPage lays out a report in lang.
func reportPage(r *Report, lang string) *page {
	loc := location(r.TimeZone)
	p := &page{lang: lang, title: t(lang, "report") + ": " + r.Title.In(lang), subtitle: r.Sunset}
	p.meta = []fact{{t(lang, "state"), r.State}, {t(lang, "generated"), instant(r.GeneratedAt, loc)}, {t(lang, "timezone"), r.TimeZone}}

	p.add(timelineSection(r, lang, loc))
	p.add(consumersSection(r, lang, loc))
	p.add(noticesSection(r, lang))
	p.add(feedbackSection(r, lang))
	p.add(guardrailsSection(r, lang, loc))
	p.add(runbookSection(r, lang, loc))
	p.add(stragglersSection(r, lang, loc))
	if b := r.Business; b != nil {
		p.add(businessSection(b, lang))
	}
	p.add(eventsSection(r, lang))
	p.add(lessonsSection(r, lang, loc))
	return p
}

// timelineSection lists the plan's actions, planned against carried out, and the shifts of the timeline.
func timelineSection(r *Report, lang string, loc *time.Location) section {
	tl := section{id: "timeline", heading: t(lang, "timeline"), facts: []fact{
		{t(lang, "done"), itoa(r.Timeline.Done)}, {t(lang, "late") + " (> " + seconds(r.Timeline.LateAfterSeconds) + ")", itoa(r.Timeline.Late)},
		{t(lang, "before_apply"), itoa(r.Timeline.BeforeApply)}, {t(lang, "skipped"), itoa(r.Timeline.Skipped)},
		{t(lang, "pending"), itoa(r.Timeline.Pending)}, {t(lang, "max_slip"), seconds(r.Timeline.MaxSlipSeconds)},
	}}
	tt := table{head: []string{t(lang, "action"), t(lang, "kind"), t(lang, "status"), t(lang, "planned"), t(lang, "actual"), t(lang, "slip")}, right: []bool{5: true}}
	for _, e := range r.Timeline.Entries {
		slip := "—"
		switch {
		case e.Timing == TimingBeforeApply:
			slip = t(lang, "before_apply")
		case e.Timing == TimingSkipped:
			slip = t(lang, "skipped")
		case e.Timing == TimingLate:
			slip = seconds(e.SlipSeconds) + " (" + t(lang, "late") + ")"
		case !e.Actual.IsZero():
			slip = seconds(e.SlipSeconds)
		}
		tt.rows = append(tt.rows, []string{e.Name, e.Kind, e.Status, instant(e.Planned, loc), instant(e.Actual, loc), slip})
	}
	tl.tables = append(tl.tables, tt)
	if len(r.Timeline.Shifts) > 0 {
		st := table{caption: t(lang, "shifts"), head: []string{t(lang, "at"), t(lang, "by"), t(lang, "kind"), t(lang, "shifts"), t(lang, "reason")}}
		for _, s := range r.Timeline.Shifts {
			st.rows = append(st.rows, []string{instant(s.At, loc), s.Actor, s.Type, s.By, s.Reason})
		}
		tl.tables = append(tl.tables, st)
	}
	return tl
}

// consumersSection gives the consumers at the announcement and at the shutdown, how many migrated, and the curve of active consumers.
func consumersSection(r *Report, lang string, loc *time.Location) section {
	c := r.Consumers
	cs := section{id: "consumers", heading: t(lang, "consumers"), facts: []fact{
		{t(lang, "at_announcement"), itoa(c.AtAnnouncement) + " (" + instant(c.Announcement, loc) + ")"},
		{t(lang, "at_shutdown"), itoa(c.AtShutdown) + " (" + instant(c.Shutdown, loc) + ")"},
		{t(lang, "migrated"), itoa(c.Migrated)},
		{t(lang, "migrated_share"), percent(c.MigratedShare)},
	}}
	if c.LastCall != "" {
		cs.facts = append(cs.facts, fact{t(lang, "last_call"), c.LastCall})
	}
	if c.DaysToZeroTraffic >= 0 {
		cs.facts = append(cs.facts, fact{t(lang, "days_to_zero"), itoa(c.DaysToZeroTraffic)})
	}
	if len(c.Curve) > 0 {
		ch := chart{kind: "line", title: t(lang, "curve")}
		ct := table{caption: t(lang, "curve"), head: []string{t(lang, "date"), t(lang, "n_consumers"), t(lang, "requests")}, right: []bool{1: true, 2: true}}
		for _, d := range c.Curve {
			ch.labels = append(ch.labels, d.Date)
			ch.values = append(ch.values, float64(d.Consumers))
			if d.Requests > 0 { // the chart shows the quiet days; the table lists the others
				ct.rows = append(ct.rows, []string{d.Date, itoa(d.Consumers), utoa(d.Requests)})
			}
		}
		cs.charts = append(cs.charts, ch)
		cs.tables = append(cs.tables, ct)
	}
	return cs
}

// noticesSection gives the awareness reached and the notices per channel and state.
func noticesSection(r *Report, lang string) section {
	n := r.Notices
	ns := section{id: "notices", heading: t(lang, "notices"), facts: []fact{
		{t(lang, "awareness"), fmt.Sprintf("%d / %d (%s)", n.ConsumersAware, n.ConsumersKnown, percent(n.AwareShare))},
		{t(lang, "in_band"), itoa(n.InBand)},
	}}
	if len(n.ByChannel) > 0 {
		nt := table{head: []string{t(lang, "channel"), t(lang, "delivered"), t(lang, "failed"), t(lang, "retrying"), t(lang, "sent"), t(lang, "queued"), t(lang, "suppressed"), t(lang, "held")}, right: []bool{false, true, true, true, true, true, true, true}}
		ch := chart{kind: "bars", title: t(lang, "notices"), series: []string{t(lang, "delivered"), t(lang, "failed"), t(lang, "sent") + "/" + t(lang, "queued")}}
		for _, x := range append(append([]ChannelCount{}, n.ByChannel...), n.Total) {
			name := x.Channel
			if name == "total" {
				name = t(lang, "total")
			} else {
				ch.labels = append(ch.labels, name)
				ch.groups = append(ch.groups, []float64{float64(x.Delivered), float64(x.Failed), float64(x.Sent + x.Queued + x.Retrying)})
			}
			nt.rows = append(nt.rows, []string{name, itoa(x.Delivered), itoa(x.Failed), itoa(x.Retrying), itoa(x.Sent), itoa(x.Queued), itoa(x.Suppressed), itoa(x.Held)})
		}
		ns.charts = append(ns.charts, ch)
		ns.tables = append(ns.tables, nt)
	} else {
		ns.empty = t(lang, "none")
	}
	return ns
}

// feedbackSection gives the feedback by mood, the survey and the themes.
func feedbackSection(r *Report, lang string) section {
	f := r.Feedback
	fs := section{id: "feedback", heading: t(lang, "feedback"), facts: []fact{
		{t(lang, "messages"), itoa(f.Total)},
		{t(lang, "moods"), fmt.Sprintf("%d / %d / %d", f.ByMood["positive"], f.ByMood["neutral"], f.ByMood["negative"])},
		{t(lang, "negative_ratio"), percent(f.NegativeRatio)},
		{t(lang, "extension"), itoa(f.ExtensionRequests)},
		{t(lang, "survey") + " — " + t(lang, "responses"), itoa(f.Survey.Responses)},
	}}
	if f.Survey.Responses > 0 {
		fs.facts = append(fs.facts, fact{t(lang, "satisfaction"), strconv.FormatFloat(f.Survey.Satisfaction, 'f', 1, 64)})
		for _, q := range sortedKeys(f.Survey.Yes, f.Survey.No) {
			fs.facts = append(fs.facts, fact{t(lang, "survey") + ": " + q, fmt.Sprintf("%s %d, %s %d", t(lang, "yes"), f.Survey.Yes[q], t(lang, "no"), f.Survey.No[q])})
		}
	}
	if len(f.Themes) > 0 {
		th := table{caption: t(lang, "themes"), head: []string{t(lang, "themes"), t(lang, "messages")}, right: []bool{1: true}}
		for _, x := range f.Themes {
			th.rows = append(th.rows, []string{x.Phrase, itoa(x.Count)})
		}
		fs.tables = append(fs.tables, th)
	}
	return fs
}

// guardrailsSection lists the guardrails that tripped and the pauses.
func guardrailsSection(r *Report, lang string, loc *time.Location) section {
	g := r.Guardrails
	gs := section{id: "guardrails", heading: t(lang, "guardrails"), facts: []fact{
		{t(lang, "trips"), itoa(len(g.Trips))}, {t(lang, "pauses"), itoa(len(g.Pauses))}, {t(lang, "paused_total"), seconds(g.PausedSeconds)},
	}}
	if len(g.Trips) > 0 {
		tr := table{caption: t(lang, "trips"), head: []string{t(lang, "at"), t(lang, "n_guardrails"), t(lang, "reaction"), t(lang, "held_back")}}
		for _, x := range g.Trips {
			before := x.Before
			if x.Then == "notify" {
				before = "" // a warning holds nothing back
			}
			tr.rows = append(tr.rows, []string{instant(x.At, loc), strings.Join(x.Guardrails, "; "), t(lang, "then_"+x.Then), before})
		}
		gs.tables = append(gs.tables, tr)
	}
	if len(g.Pauses) > 0 {
		pt := table{caption: t(lang, "pauses"), head: []string{t(lang, "from"), t(lang, "until"), t(lang, "duration"), t(lang, "cause"), t(lang, "by"), t(lang, "reason")}, right: []bool{2: true}}
		for _, x := range g.Pauses {
			until := instant(x.Until, loc)
			if x.Until.IsZero() {
				until = t(lang, "still_paused")
			}
			reason := x.Reason
			if x.EndReason != "" {
				reason += " → " + x.EndedBy + ": " + x.EndReason
			}
			pt.rows = append(pt.rows, []string{instant(x.From, loc), until, seconds(x.DurationSeconds), t(lang, x.Cause), x.Actor, reason})
		}
		gs.tables = append(gs.tables, pt)
	}
	return gs
}

// runbookSection gives the runbook's state and its steps.
func runbookSection(r *Report, lang string, loc *time.Location) section {
	rb := section{id: "runbook", heading: t(lang, "runbook")}
	if r.Runbook.State == "" {
		rb.empty = t(lang, "none")
	} else {
		rb.facts = []fact{{t(lang, "state"), string(r.Runbook.State)}, {t(lang, "duration"), seconds(r.Runbook.TotalSeconds)}}
		st := table{head: []string{t(lang, "step"), t(lang, "kind"), t(lang, "status"), t(lang, "attempts"), t(lang, "from"), t(lang, "duration")}, right: []bool{3: true, 5: true}}
		for _, x := range r.Runbook.Steps {
			st.rows = append(st.rows, []string{x.Name, x.Kind, string(x.Status), itoa(x.Attempts), instant(x.Started, loc), seconds(x.DurationSeconds)})
		}
		rb.tables = append(rb.tables, st)
	}
	return rb
}

// stragglersSection gives who still called after the shutdown.
func stragglersSection(r *Report, lang string, loc *time.Location) section {
	s := r.Stragglers
	ss := section{id: "stragglers", heading: t(lang, "stragglers"), facts: []fact{
		{t(lang, "since"), instant(s.Since, loc)}, {t(lang, "requests"), utoa(s.Requests)}, {t(lang, "unidentified"), utoa(s.Unidentified)},
	}}
	if s.InShutdownHour > 0 {
		ss.facts = append(ss.facts, fact{t(lang, "in_shutdown_hour"), utoa(s.InShutdownHour)})
	}
	if len(s.Consumers) > 0 {
		st := table{head: []string{t(lang, "consumer"), t(lang, "name"), t(lang, "tier"), t(lang, "requests"), t(lang, "last_seen"), t(lang, "features")}, right: []bool{3: true}}
		for _, x := range s.Consumers {
			st.rows = append(st.rows, []string{x.Consumer, x.Name, x.Tier, utoa(x.Requests), instantSeconds(x.LastSeen, loc), strings.Join(x.Features, ", ")})
		}
		ss.tables = append(ss.tables, st)
	}
	return ss
}

// eventsSection says whether the event chain was checked and held.
func eventsSection(r *Report, lang string) section {
	e := r.Events
	es := section{id: "events", heading: t(lang, "events")}
	switch {
	case !e.Checked:
		es.facts = []fact{{t(lang, "status"), t(lang, "not_checked")}}
	case e.OK:
		es.facts = []fact{{t(lang, "status"), t(lang, "chain_ok")}, {t(lang, "n_events"), itoa(e.Events)}, {t(lang, "head"), e.Head}}
	default:
		es.facts = []fact{{t(lang, "status"), t(lang, "chain_broken")}, {t(lang, "n_events"), itoa(e.Events)}, {t(lang, "head"), e.Head}}
		for _, pr := range e.Problems {
			es.facts = append(es.facts, fact{"⚠", pr})
		}
	}
	return es
}

// lessonsSection shows the lessons learned as written, and who wrote them when.
func lessonsSection(r *Report, lang string, loc *time.Location) section {
	ls := section{id: "lessons", heading: t(lang, "lessons"), text: r.Lessons.Text}
	if strings.TrimSpace(r.Lessons.Text) == "" {
		ls.text, ls.empty = "", t(lang, "no_lessons")
	} else if !r.Lessons.UpdatedAt.IsZero() {
		ls.facts = []fact{{t(lang, "by"), r.Lessons.UpdatedBy + ", " + instant(r.Lessons.UpdatedAt, loc)}}
	}
	return ls
}

// businessSection gives the revenue lost, at risk and migrated, and each account's outcome.
func businessSection(b *Business, lang string) section {
	bs := section{id: "business", heading: t(lang, "business"), facts: []fact{
		{t(lang, "revenue_total"), money(b.RevenueTotal)}, {t(lang, "revenue_lost"), money(b.RevenueLost)},
		{t(lang, "revenue_at_risk"), money(b.RevenueAtRisk)}, {t(lang, "revenue_migr"), money(b.RevenueMigrated)},
		{t(lang, "churned") + " / " + t(lang, "migrated_o") + " / " + t(lang, "retained") + " / " + t(lang, "at_risk_l"),
			fmt.Sprintf("%d / %d / %d / %d", b.Outcomes[Churned], b.Outcomes[Migrated], b.Outcomes[Retained], b.Outcomes[AtRisk])},
	}}
	at := table{head: []string{t(lang, "account"), t(lang, "revenue"), t(lang, "outcome"), t(lang, "n_consumers")}, right: []bool{1: true}}
	for _, x := range b.Accounts {
		at.rows = append(at.rows, []string{x.Account, money(x.Revenue), outcomeLabel(lang, x.Outcome), strings.Join(x.Consumers, ", ")})
	}
	bs.tables = append(bs.tables, at)
	return bs
}

// assessmentPage lays out an assessment in lang.
func assessmentPage(a *Assessment, lang string) *page {
	loc := location(a.TimeZone)
	p := &page{lang: lang, title: t(lang, "assessment") + ": " + a.Title.In(lang), subtitle: a.Sunset}
	p.meta = []fact{{t(lang, "state"), a.State}, {t(lang, "generated"), instant(a.GeneratedAt, loc)},
		{t(lang, "window"), instant(a.From, loc) + " – " + instant(a.To, loc)}, {t(lang, "timezone"), a.TimeZone}}

	ms := section{id: "milestones", heading: t(lang, "milestones")}
	mt := table{head: []string{t(lang, "milestone"), t(lang, "planned")}}
	for _, m := range a.Milestones {
		mt.rows = append(mt.rows, []string{m.Name, instant(m.At, loc)})
	}
	ms.tables = append(ms.tables, mt)
	p.add(ms)

	cs := section{id: "consumers", heading: t(lang, "active"), facts: []fact{{t(lang, "n_consumers"), itoa(len(a.Consumers))}, {t(lang, "unidentified"), utoa(a.Unidentified)}}}
	if len(a.Tiers) > 0 {
		tt := table{caption: t(lang, "tiers"), head: []string{t(lang, "tier"), t(lang, "n_consumers"), t(lang, "requests")}, right: []bool{1: true, 2: true}}
		for _, x := range a.Tiers {
			tt.rows = append(tt.rows, []string{x.Tier, itoa(x.Consumers), utoa(x.Requests)})
		}
		cs.tables = append(cs.tables, tt)
	}
	if len(a.Consumers) > 0 {
		ct := table{head: []string{t(lang, "consumer"), t(lang, "name"), t(lang, "tier"), t(lang, "requests"), t(lang, "last_seen"), t(lang, "features")}, right: []bool{3: true}}
		for _, x := range a.Consumers {
			ct.rows = append(ct.rows, []string{x.ID, x.Name, x.Tier, utoa(x.Requests), instant(x.LastSeen, loc), strings.Join(x.Features, ", ")})
		}
		cs.tables = append(cs.tables, ct)
	} else {
		cs.empty = t(lang, "none")
	}
	p.add(cs)

	fs := section{id: "features", heading: t(lang, "features_use")}
	ft := table{head: []string{t(lang, "name"), t(lang, "core"), t(lang, "requests"), t(lang, "n_consumers"), t(lang, "gone")}, right: []bool{2: true, 3: true}}
	for _, x := range a.Features {
		ft.rows = append(ft.rows, []string{x.Name, yesNo(lang, x.Core), utoa(x.Requests), itoa(x.Consumers), instant(x.Gone, loc)})
	}
	fs.tables = append(fs.tables, ft)
	p.add(fs)

	if ar := a.Accounts; ar != nil {
		as := section{id: "accounts", heading: t(lang, "accounts"), facts: []fact{
			{t(lang, "at_risk"), fmt.Sprintf("%d / %d", ar.AccountsAtRisk, len(ar.Accounts))},
			{t(lang, "revenue_at_risk"), money(ar.RevenueAtRisk) + " / " + money(ar.RevenueTotal)},
		}}
		at := table{head: []string{t(lang, "account"), t(lang, "revenue"), t(lang, "at_risk"), t(lang, "active")}, right: []bool{1: true}}
		for _, x := range ar.Accounts {
			at.rows = append(at.rows, []string{x.Account, money(x.Revenue), yesNo(lang, x.AtRisk), strings.Join(x.ActiveConsumers, ", ")})
		}
		as.tables = append(as.tables, at)
		p.add(as)
	}

	rs := section{id: "risks", heading: t(lang, "risks")}
	if len(a.Risks) == 0 {
		rs.empty = t(lang, "none")
	} else {
		rt := table{head: []string{t(lang, "risk"), t(lang, "likelihood"), t(lang, "impact"), t(lang, "mitigation"), t(lang, "owner")}}
		for _, x := range a.Risks {
			rt.rows = append(rt.rows, []string{x.Risk, x.Likelihood, x.Impact, x.Mitigation, x.Owner})
		}
		rs.tables = append(rs.tables, rt)
	}
	p.add(rs)

	ss := section{id: "stakeholders", heading: t(lang, "stakeholders")}
	if len(a.Stakeholders) == 0 {
		ss.empty = t(lang, "none")
	} else {
		st := table{head: []string{t(lang, "name"), t(lang, "team"), t(lang, "role"), t(lang, "signed")}}
		for _, x := range a.Stakeholders {
			st.rows = append(st.rows, []string{x.Name, x.Team, x.Role, yesNo(lang, x.SignedOff)})
		}
		ss.tables = append(ss.tables, st)
	}
	p.add(ss)

	al := section{id: "alternatives", heading: t(lang, "alternatives")}
	if len(a.Alternatives) == 0 {
		al.empty = t(lang, "none")
	} else {
		at := table{head: []string{t(lang, "name"), "URL", t(lang, "guide")}}
		for _, x := range a.Alternatives {
			at.rows = append(at.rows, []string{x.Name, x.URL, x.Guide})
		}
		al.tables = append(al.tables, at)
	}
	p.add(al)
	return p
}

func sortedKeys(ms ...map[string]int) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sortStrings(out)
	return out
}
