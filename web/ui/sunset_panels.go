package ui

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/runbook/runs"
)

// usageFigures draws the migration curve: requests and distinct consumers per day.
func usageFigures(rep *report.Report, lang string) usagePanel {
	t := uiTexts[lang]
	c := rep.Consumers
	u := usagePanel{Days: len(c.Curve), Share: "—"}
	if len(c.Curve) == 0 {
		return u
	}
	req := seriesChart{Title: t["RequestsPerDay"], Bars: true}
	con := seriesChart{Title: t["ConsumersPerDay"]}
	for _, p := range c.Curve {
		req.Labels, req.Values = append(req.Labels, p.Date), append(req.Values, float64(p.Requests))
		con.Labels, con.Values = append(con.Labels, p.Date), append(con.Values, float64(p.Consumers))
	}
	u.Requests, u.Consumers = req.SVG(), con.SVG()
	return u
}

// consumerRows lists every known consumer (from the contacts and the usage) with whether it
// is active (called in the report's activity window before now), migrated (active at the
// announcement, and no longer before the shutdown — as the report counts), cut off (still
// calling when the service shut down, not now) or silent, and how many requests it made.
func consumerRows(in *report.Input, rep *report.Report, now time.Time, lang string) ([]consumerRow, map[string]int) {
	t := uiTexts[lang]
	loc := in.Plan.Location()
	unknown := in.UnknownConsumer
	if unknown == "" {
		unknown = "(other)"
	}
	type seen struct {
		last     time.Time
		requests uint64
		before   bool
	}
	by := map[string]*seen{}
	// As planned: an announcement run late (a paused sunset, a rehearsal) still counts from
	// the date consumers were told to expect.
	announce := rep.Consumers.Announcement
	// Migration is judged at the shutdown, or now when the shutdown is still ahead.
	until := now
	if ms, err := in.Plan.MilestoneTimes(); err == nil {
		if !ms[plan.Announce].IsZero() {
			announce = ms[plan.Announce]
		}
		if sd := ms[plan.Shutdown]; !sd.IsZero() && sd.Before(now) {
			until = sd
		}
	}
	for _, c := range in.Usage {
		if c.Consumer == "" || c.Consumer == unknown {
			continue
		}
		x := by[c.Consumer]
		if x == nil {
			x = &seen{}
			by[c.Consumer] = x
		}
		x.requests += c.Count
		if c.Last().After(x.last) {
			x.last = c.Last()
		}
		if !announce.IsZero() && c.Hour.Before(announce) && !c.Hour.Before(announce.Add(-report.ActivityWindow)) {
			x.before = true
		}
	}
	rows := map[string]*consumerRow{}
	for _, c := range in.Contacts {
		rows[c.ID] = &consumerRow{ID: c.ID, Name: c.Name, Tier: c.Tier}
	}
	for id := range by {
		if rows[id] == nil {
			rows[id] = &consumerRow{ID: id}
		}
	}
	counts := map[string]int{"active": 0, "migrated": 0, "cut_off": 0, "silent": 0, "announced": 0}
	var out []consumerRow
	for id, row := range rows {
		row.Status = "silent"
		if x := by[id]; x != nil {
			if x.before {
				counts["announced"]++
			}
			row.Requests, row.LastSeen = x.requests, localTime(x.last, loc)
			switch {
			case !x.last.Before(now.Add(-report.ActivityWindow)):
				row.Status = "active"
			case !x.last.Before(until.Add(-report.ActivityWindow)):
				row.Status = "cut_off"
			case x.before:
				row.Status = "migrated"
			}
		}
		row.StatusText = t["cons_"+row.Status]
		counts[row.Status]++
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b consumerRow) int {
		if c := strings.Compare(statusOrder(a.Status), statusOrder(b.Status)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, counts
}

// statusOrder sorts the consumers still calling first.
func statusOrder(s string) string {
	return map[string]string{"active": "0", "cut_off": "1", "silent": "2", "migrated": "3"}[s]
}

// awareOf marks the consumers the ledger says were told, and adds those it knows only from it.
func awareOf(rows []consumerRow, l *notify.Ledger, loc *time.Location) {
	by := map[string]notify.ConsumerAwareness{}
	for _, c := range l.Consumers {
		by[c.ID] = c
	}
	for i := range rows {
		c, ok := by[rows[i].ID]
		if !ok {
			continue
		}
		rows[i].Aware, rows[i].Reached = c.Aware, strings.Join(c.Reached, ", ")
		if !c.InBand.IsZero() {
			rows[i].InBand = localTime(c.InBand, loc)
		}
	}
}

// noticePanelOf shows the ledger.
func noticePanelOf(l *notify.Ledger, loc *time.Location) *noticePanel {
	n := &noticePanel{Lines: l.Lines, Known: l.ConsumersKnown, Aware: l.ConsumersAware, InBand: l.InBand,
		Recipients: l.Recipients, RecipAware: l.Aware, Held: l.Held}
	if l.ConsumersKnown > 0 {
		n.AwareShare = percentText(float64(l.ConsumersAware) / float64(l.ConsumersKnown))
	}
	for _, f := range l.Failures {
		who := f.Recipient.ID
		if who == "" {
			who = f.Recipient.Email
		}
		n.Failures = append(n.Failures, failureRow{Notice: f.Notice, Channel: f.Channel, Recipient: who, Error: f.LastError, At: localTime(f.CreatedAt, loc)})
	}
	for _, f := range l.Retrying {
		who := f.Recipient.ID
		if who == "" {
			who = f.Recipient.Email
		}
		n.Retrying = append(n.Retrying, failureRow{Notice: f.Notice, Channel: f.Channel, Recipient: who, Error: f.LastError,
			At: localTime(f.NextAt, loc), Attempts: f.Attempts})
	}
	for _, b := range l.Breakers {
		if b.Failures == 0 {
			continue
		}
		n.Channels = append(n.Channels, channelRow{Channel: b.Channel, Error: b.LastError, Failures: b.Failures, Down: b.Open,
			Since: localTime(b.OpenedAt, loc), Until: localTime(b.OpenUntil, loc)})
	}
	return n
}

// moods are the feedback moods in display order.
var moods = []string{"negative", "neutral", "positive"}

// feedbackPanel sums up the feedback and lists the latest messages.
func (s *Server) feedbackPanel(ctx context.Context, name string, sum *feedback.Summary, loc *time.Location, lang string) *feedbackPanel {
	t := uiTexts[lang]
	f := &feedbackPanel{Total: sum.Total, Extensions: sum.ExtensionRequests, Negative: percentText(sum.NegativeRatio)}
	for _, m := range moods {
		f.Moods = append(f.Moods, moodCount{Mood: m, Text: t["mood_"+m], Count: sum.ByMood[m]})
	}
	f.Themes = sum.Themes
	if len(f.Themes) > uiThemes {
		f.Themes = f.Themes[:uiThemes]
	}
	items, err := s.Feedback.List(ctx, name, time.Time{})
	if err != nil {
		return f
	}
	for i := len(items) - 1; i >= 0 && len(f.Latest) < uiFeedback; i-- {
		it := items[i]
		if strings.TrimSpace(it.Text) == "" {
			continue
		}
		f.Latest = append(f.Latest, feedbackRow{At: localTime(it.At, loc), Mood: it.Mood, MoodText: textOr(t, "mood_"+it.Mood, it.Mood),
			Category: it.Category, Text: it.Text, Lang: feedbackLang(it.Locale)})
	}
	return f
}

// feedbackLang is the lang attribute of a message in locale ("zh-CN" → "zh"); empty if unknown.
func feedbackLang(locale string) string {
	l, _, _ := strings.Cut(locale, "-")
	return strings.ToLower(l)
}

// runPanel shows the latest run; verified maps backups to the archives the run verified.
func (s *Server) runPanel(ctx context.Context, name string, p *plan.Plan, loc *time.Location, lang string) (*runPanel, map[string]string) {
	t := uiTexts[lang]
	run, err := s.Runbooks.Status(ctx, name)
	var se *sunset.Error
	if errors.As(err, &se) && se.Code == sunset.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "sunset page: runbook", slog.String("sunset", name), slog.Any("err", err))
		return &runPanel{Message: t["PanelFailed"]}, nil
	}
	state := string(run.State)
	rp := &runPanel{State: state, StateText: textOr(t, "run_"+state, state), Message: run.Message, Approvals: run.Approvals}
	rp.Live = run.State == runs.StateRunning || run.State == runs.StateWaiting
	approvals := map[string]plan.Approval{}
	for _, st := range p.Runbook {
		if st.Approval != nil {
			approvals[st.Name] = *st.Approval
		}
	}
	ended := run.State.Ended()
	for _, st := range run.Steps {
		status := string(st.Status)
		row := stepRow{Name: st.Name, Kind: st.Kind, Status: status, StatusText: textOr(t, "step_"+status, status),
			Attempts: st.Attempts, Error: st.Error, Output: truncate(st.Output, uiOutputChars)}
		if !st.Started.IsZero() {
			row.Started = localTime(st.Started, loc)
		}
		if !st.Ended.IsZero() {
			row.Ended = localTime(st.Ended, loc)
		}
		if st.Kind == "approval" {
			// The plan names the role and the count; a run of an older plan may lack them.
			a := approvals[st.Name]
			row.Role, row.Need = cmp.Or(a.Role, "approver"), max(a.Count, 1)
			for _, ap := range run.Approvals {
				if ap.Step == st.Name {
					row.Have++
					row.Approvers = append(row.Approvers, ap.Person)
				}
			}
			row.CanApprove = !ended && st.Status != runs.StepDone && st.Status != runs.StepSkipped
		}
		rp.Steps = append(rp.Steps, row)
	}
	log := run.Log
	if len(log) > uiLogLines {
		log = log[len(log)-uiLogLines:]
	}
	for _, l := range log {
		rp.Log = append(rp.Log, uiLogLine{LogLine: l, Clock: l.At.In(loc).Format("15:04:05")})
	}
	return rp, run.Verified
}

// backupSource says where a backup reads from.
func backupSource(s plan.BackupSource) string {
	switch {
	case s.Dir != "":
		return "dir " + s.Dir
	case s.SQLite != "":
		return "sqlite " + s.SQLite
	case s.Postgres != "":
		return "postgres (" + string(s.Postgres) + ")"
	case s.HTTP != "":
		return "http " + s.HTTP
	}
	return ""
}

// exportPanel shows the export job and its counts.
func (s *Server) exportPanel(ctx context.Context, name string) *exportPanel {
	v, err := s.Exports.ExportStatus(ctx, name)
	if err != nil {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "sunset page: exports", slog.String("sunset", name), slog.Any("err", err))
		return nil
	}
	c := v.Counts
	e := &exportPanel{Counts: []exportCount{{"users", c.Users}, {"done", c.Done}, {"failed", c.Failed},
		{"downloaded", c.Downloaded}, {"kept", c.Kept}, {"outstanding", c.Outstanding}, {"migrated", c.Migrated},
		{"migration_failed", c.MigrationFailed}}}
	if v.Job != nil {
		e.State, e.Message = v.Job.State, v.Job.Message
	}
	return e
}
