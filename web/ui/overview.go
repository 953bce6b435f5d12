package ui

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/report"
)

// overviewRow is one sunset under way on the overview.
type overviewRow struct {
	Name, Title, State, StateText       string
	Milestone, MilestoneAt              string
	MilestoneISO, Countdown             string
	NextName, NextKind, NextAt, NextISO string
	Awaiting                            []string
	// Failing names the action holding the sunset back, with its error; empty when none.
	Failing, FailingError string
}

// historyRow compares one past (shut down or evaluated) sunset with the others, from the
// report's figures.
type historyRow struct {
	Name, Title, State, StateText string
	// NoticePeriod is the days from the announcement to the shutdown.
	NoticePeriod string
	// ZeroTraffic is the days from the announcement to the last counted call.
	ZeroTraffic string
	// Migrated is the share of consumers active at the announcement and gone at the shutdown.
	Migrated string
	// Mood sums up the feedback: how many messages, the share of negative ones.
	Mood string
	// Pauses counts the pauses and their total length.
	Pauses string
}

// overviewData is what ui_overview.html shows.
type overviewData struct {
	uiPage
	Error   string
	Rows    []overviewRow
	History []historyRow
	// Attention lists what someone must look at now, across the sunsets under way.
	Attention []attentionItem
}

// attentionItem is one thing on the overview that needs someone: a failing action, a channel
// down, deliveries retrying, given up or held.
type attentionItem struct {
	Name, Title, Text, Detail string
}

// attention says what of sunset st needs someone now, in lang: its failing action (from its
// status) and its notices in trouble (from the ledger and the worker's breakers).
func (s *Server) attention(ctx context.Context, lang string, st *engine.Status) []attentionItem {
	t := uiTexts[lang]
	title := statusTitle(st, lang)
	var out []attentionItem
	for _, f := range st.Failing {
		out = append(out, attentionItem{Name: st.Name, Title: title, Text: t["ActionFailing"] + " " + f.Key, Detail: f.LastError})
	}
	if s.GatewayPhase(ctx, st); st.PhasesDiverge {
		out = append(out, attentionItem{Name: st.Name, Title: title,
			Text: fmt.Sprintf(t["AttentionDiverge"], st.EnginePhase, st.GatewayPhase)})
	}
	if s.Notices == nil {
		return out
	}
	l, err := s.Notices.Ledger(ctx, st.Name, 1)
	if err != nil {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "overview: notices", slog.String("sunset", st.Name), slog.Any("err", err))
		return out
	}
	if s.Breakers != nil {
		for _, b := range s.Breakers() {
			if b.Open {
				out = append(out, attentionItem{Name: st.Name, Title: title, Text: t["ChannelDown"] + " " + b.Channel, Detail: b.LastError})
			}
		}
	}
	var retrying, failed int
	for _, x := range l.Lines {
		retrying += x.Retrying
		failed += x.Failed
	}
	if retrying > 0 {
		detail := ""
		if len(l.Retrying) > 0 {
			detail = l.Retrying[0].LastError
		}
		out = append(out, attentionItem{Name: st.Name, Title: title, Text: fmt.Sprintf(t["AttentionRetrying"], retrying), Detail: detail})
	}
	if failed > 0 {
		detail := ""
		if len(l.Failures) > 0 {
			detail = l.Failures[0].LastError
		}
		out = append(out, attentionItem{Name: st.Name, Title: title, Text: fmt.Sprintf(t["AttentionFailed"], failed), Detail: detail})
	}
	if l.Held > 0 {
		out = append(out, attentionItem{Name: st.Name, Title: title, Text: fmt.Sprintf(t["AttentionHeld"], l.Held), Detail: l.HeldReason})
	}
	return out
}

// isPast reports whether a sunset in state st belongs to the history: its service is gone.
func isPast(st engine.State) bool {
	return st == engine.StateShutDown || st == engine.StateEvaluated
}

// handleOverview serves GET /: every sunset under way with its state and a countdown to its
// next milestone, and the history comparing past sunsets.
func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) {
	d := overviewData{uiPage: s.newUIPage(r, "")}
	d.Title = d.T["OverviewTitle"]
	status := http.StatusOK
	list, err := s.Engine.Statuses(r.Context())
	if err != nil {
		s.logger().LogAttrs(r.Context(), slog.LevelError, "overview", slog.Any("err", err))
		d.Error, status = d.T["Failed"], http.StatusInternalServerError
	}
	now := s.now()
	for _, st := range list {
		if st == nil || st.Sunset == nil {
			continue
		}
		if isPast(st.State) {
			d.History = append(d.History, s.historyRow(r.Context(), d.Lang, st))
			continue
		}
		d.Rows = append(d.Rows, s.overviewRow(r.Context(), d.Lang, st, now))
		d.Attention = append(d.Attention, s.attention(r.Context(), d.Lang, st)...)
	}
	s.renderUI(w, r, "ui_overview.html", status, d.Lang, d)
}

// statusTitle is the sunset's title in lang, else its service's name.
func statusTitle(st *engine.Status, lang string) string {
	if t := st.Title.In(lang); t != "" {
		return t
	}
	return st.Service
}

// stateText names a state in lang.
func stateText(lang string, st engine.State) string {
	if txt, ok := uiTexts[lang]["state_"+string(st)]; ok {
		return txt
	}
	return string(st)
}

// kindText names an action kind in lang.
func kindText(lang, kind string) string {
	if txt, ok := uiTexts[lang]["kind_"+kind]; ok {
		return txt
	}
	return kind
}

// statusLocation is the sunset's time zone, UTC when it cannot be loaded.
func statusLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// localTime formats t in loc with the zone's name (not its abbreviation: CST is China and also
// the American Central).
func localTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04") + " " + loc.String()
}

// overviewRow describes a sunset under way; its next milestone comes from the engine's actions.
func (s *Server) overviewRow(ctx context.Context, lang string, st *engine.Status, now time.Time) overviewRow {
	loc := statusLocation(st.TimeZone)
	row := overviewRow{Name: st.Name, Title: statusTitle(st, lang), State: string(st.State), StateText: stateText(lang, st.State), Awaiting: st.Awaiting}
	if len(st.Failing) > 0 {
		row.Failing, row.FailingError = st.Failing[0].Key, st.Failing[0].LastError
	}
	if st.Next != nil {
		row.NextName, row.NextKind = st.Next.Name, kindText(lang, st.Next.Kind)
		if st.Next.Kind == string(plan.KindMilestone) {
			row.NextName = milestoneText(lang, st.Next.Name)
		}
		row.NextAt, row.NextISO = localTime(st.Next.At, loc), st.Next.At.UTC().Format(time.RFC3339)
	}
	acts, err := s.Engine.Actions(ctx, st.Name)
	if err != nil {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "overview: actions", slog.String("sunset", st.Name), slog.Any("err", err))
		return row
	}
	for _, a := range acts {
		if a.Kind != string(plan.KindMilestone) || (a.Status != engine.ActionPending && a.Status != engine.ActionHeld && a.Status != engine.ActionEnqueued) {
			continue
		}
		row.Milestone = milestoneText(lang, a.Name)
		row.MilestoneAt, row.MilestoneISO = localTime(a.At, loc), a.At.UTC().Format(time.RFC3339)
		row.Countdown = countdown(lang, a.At.Sub(now))
		break
	}
	return row
}

// milestoneText names a standard milestone in lang; other names are shown as written.
func milestoneText(lang, name string) string {
	if txt, ok := uiTexts[lang]["ms_"+name]; ok {
		return txt
	}
	return name
}

// countdown says how long until an instant d away: "in 3 d 4 h", or "due 2 h ago" when past.
func countdown(lang string, d time.Duration) string {
	t := uiTexts[lang]
	if d < 0 {
		return fmt.Sprintf(t.fmtOverdue(), spanText(lang, -d))
	}
	return fmt.Sprintf(t.fmtIn(), spanText(lang, d))
}

// fmtIn is the format of a countdown to an instant ahead.
func (t uiText) fmtIn() string { return t["CountdownIn"] }

// fmtOverdue is the format of a countdown to an instant past.
func (t uiText) fmtOverdue() string { return t["CountdownOverdue"] }

// spanText writes a duration with its two largest units: "3 d 4 h", "3 天 4 小时", "12 min".
func spanText(lang string, d time.Duration) string {
	t := uiTexts[lang]
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	mins := int(d % time.Hour / time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%d %s %d %s", days, t["UnitDay"], hours, t["UnitHour"])
	case hours > 0:
		return fmt.Sprintf("%d %s %d %s", hours, t["UnitHour"], mins, t["UnitMin"])
	default:
		return fmt.Sprintf("%d %s", mins, t["UnitMin"])
	}
}

// historyRow builds a past sunset's figures with the report's builder.
func (s *Server) historyRow(ctx context.Context, lang string, st *engine.Status) historyRow {
	t := uiTexts[lang]
	row := historyRow{Name: st.Name, Title: statusTitle(st, lang), State: string(st.State), StateText: stateText(lang, st.State),
		NoticePeriod: "—", ZeroTraffic: "—", Migrated: "—", Mood: "—", Pauses: "—"}
	in, err := s.ReportInput(ctx, st.Name, false)
	if err != nil {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "overview: history", slog.String("sunset", st.Name), slog.Any("err", err))
		return row
	}
	rep := report.Build(*in)
	c := rep.Consumers
	// The notice period as planned (after any shift): from the announcement to the shutdown.
	if ms, err := in.Plan.MilestoneTimes(); err == nil && !ms[plan.Announce].IsZero() && !ms[plan.Shutdown].IsZero() {
		days := ms[plan.Shutdown].Sub(ms[plan.Announce]).Hours() / 24
		row.NoticePeriod = fmt.Sprintf("%d %s", int(math.Round(days)), t["UnitDays"])
	}
	if c.DaysToZeroTraffic >= 0 && c.LastCall != "" {
		row.ZeroTraffic = fmt.Sprintf("%d %s", c.DaysToZeroTraffic, t["UnitDays"])
	}
	if c.AtAnnouncement > 0 {
		row.Migrated = fmt.Sprintf("%s (%d/%d)", percentText(c.MigratedShare), c.Migrated, c.AtAnnouncement)
	}
	if f := rep.Feedback; f.Total > 0 {
		row.Mood = fmt.Sprintf(t["MoodSummary"], f.Total, percentText(f.NegativeRatio))
	}
	g := rep.Guardrails
	row.Pauses = fmt.Sprintf("%d", len(g.Pauses))
	if g.PausedSeconds > 0 {
		row.Pauses += " (" + spanText(lang, time.Duration(g.PausedSeconds)*time.Second) + ")"
	}
	return row
}

// percentText writes a ratio as a whole percentage.
func percentText(v float64) string { return fmt.Sprintf("%.0f%%", math.Round(v*100)) }
