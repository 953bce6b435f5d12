package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/runbook/runs"
	"github.com/sunsetops/sunset/web/httpx"
	"github.com/sunsetops/sunset/web/intake"
)

// Limits of the sunset page's lists.
const (
	uiEvents       = 200 // audit events shown, newest first
	uiLogLines     = 100 // runbook log lines shown, newest last
	uiFeedback     = 10  // latest feedback messages shown
	uiThemes       = 12  // feedback themes shown
	uiFailures     = 10  // latest failed deliveries shown
	uiOutputChars  = 2000
	uiEventDataLen = 240
)

// sunsetData is what ui_sunset.html shows.
type sunsetData struct {
	// CanPause and CanResume offer the pause or the resume form (operators).
	CanPause, CanResume bool
	// AwaitsSignoff offers the sign-off buttons of the stakeholders in Awaiting: the sunset is a
	// draft, or was paused in draft.
	AwaitsSignoff bool
	uiPage
	Name, Service, State, StateText, TimeZone string
	Awaiting, Signoffs                        []string
	// Error is the problem of a form the page answers (shown in an alert); Done confirms one.
	Error, Done string
	// TypedReason and TypedActor are what a refused steering form had typed, shown again so
	// that nothing typed is lost (the lessons' text goes back into Lessons.Text).
	TypedReason, TypedActor string
	// Failing are the actions whose last run failed, Blocked the keys of the due actions that
	// wait behind them.
	Failing []failingRow
	Blocked []string
	// PhasesDiverge shows EnginePhase and GatewayPhase (in words) side by side: they differ.
	PhasesDiverge             bool
	EnginePhase, GatewayPhase string
	// SuspectPause says that a suspect guardrail trip paused the sunset (intake.SuspectPause).
	SuspectPause string
	// Links to the report, the assessment, the public page and the API.
	ReportHTML, Assessment, Public, API string

	Gantt   template.HTML
	Actions []actionRow
	Usage   usagePanel
	// Consumers are the known consumers; Counts counts them by status.
	Consumers      []consumerRow
	ConsumerCounts map[string]int
	Notices        *noticePanel
	Feedback       *feedbackPanel
	Guardrails     []engine.GuardrailResult
	GuardError     string
	Runbook        *runPanel
	Backups        []backupRow
	Exports        *exportPanel
	Events         []eventRow
	Chain          *engine.Verification
	Lessons        report.Lessons
	LessonsOn      bool
	LessonsAt      string
}

// failingRow is one failing action: its key and name, its attempts and retry in words, its
// last error.
type failingRow struct{ Key, Name, Line, Next, Error string }

// actionRow is one timeline action in the table under the Gantt chart.
type actionRow struct {
	At, Kind, Name, Status, StatusText string
}

// usagePanel is the usage and the remaining consumers over time.
type usagePanel struct {
	Requests, Consumers template.HTML
	Days                int
	// AtAnnouncement counts the consumers active in the week before the planned announcement;
	// Active those active in the week before now; Migrated those of the first no longer active.
	AtAnnouncement, Active, Migrated int
	Share                            string
}

// consumerRow is one consumer: whether it still calls, and whether it was told.
type consumerRow struct {
	ID, Name, Tier string
	// Status is active, migrated or silent.
	Status, StatusText string
	LastSeen           string
	Requests           uint64
	Aware              bool
	Reached, InBand    string
}

// noticePanel is the notice ledger.
type noticePanel struct {
	Lines                  []notify.LedgerLine
	Failures               []failureRow
	Known, Aware, InBand   int
	Recipients, RecipAware int
	// Held counts the deliveries held for their loopback links.
	Held                    int
	AwareShare, HasFailures string
	// Retrying are the latest deliveries waiting for another attempt (At is the next one).
	Retrying []failureRow
	// Channels are the endpoints whose sends are failing or whose breaker is open.
	Channels []channelRow
}

// failureRow is one failed delivery.
type failureRow struct {
	Notice, Channel, Recipient, Error, At string
	Attempts                              int
}

// channelRow is one channel endpoint in trouble: Down when its breaker is open (since Since,
// next try at Until), else failing.
type channelRow struct {
	Channel, Error, Since, Until string
	Failures                     int
	Down                         bool
}

// feedbackPanel sums up the feedback.
type feedbackPanel struct {
	Total, Extensions int
	Negative          string
	Moods             []moodCount
	Themes            []feedback.Theme
	Latest            []feedbackRow
}

// moodCount is how many messages have one mood.
type moodCount struct {
	Mood, Text string
	Count      int
}

// feedbackRow is one message.
type feedbackRow struct{ At, Mood, MoodText, Category, Text, Lang string }

// runPanel is the latest runbook run with its approvals and log.
type runPanel struct {
	State, StateText, Message string
	// Live is true while the run may still change (the script refreshes the panel).
	Live      bool
	Steps     []stepRow
	Approvals []runs.Approval
	Log       []uiLogLine
}

// stepRow is one runbook step.
type stepRow struct {
	Name, Kind, Status, StatusText string
	Attempts                       int
	Started, Ended, Error, Output  string
	// CanApprove offers the approve button; Role and Need are the plan's approval.
	CanApprove bool
	Role       string
	Need, Have int
	Approvers  []string
}

// backupRow is one backup of the plan with the archive the runbook verified.
type backupRow struct{ Name, Source, To, Verified string }

// exportPanel is the state of the per-user exports.
type exportPanel struct {
	State, Message string
	Counts         map[string]int64
	Keys           []string
}

// eventRow is one audit event.
type eventRow struct {
	Seq                   int64
	At, Type, Actor, Data string
}

// uiLogLine is one line of a run's output, with its time of day in the plan's time zone.
type uiLogLine struct {
	runs.LogLine
	// Clock is At's time of day in the plan's time zone.
	Clock string
}

// uiExportStatus is the export status as the Exports service answers it.
type uiExportStatus struct {
	Job *struct {
		State   string `json:"state"`
		Message string `json:"message"`
	} `json:"job"`
	Counts map[string]int64 `json:"counts"`
}

// recode turns an `any` answer of a service into v through its JSON.
func recode(from any, v any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// handleSunsetPage serves GET /s/{name}: one sunset's page.
func (s *Server) handleSunsetPage(w http.ResponseWriter, r *http.Request) {
	done := ""
	switch r.URL.Query().Get("done") {
	case "approved":
		done = uiTexts[httpx.PageLanguage(r)]["DoneApproved"]
	case "lessons":
		done = uiTexts[httpx.PageLanguage(r)]["DoneLessons"]
	case "paused":
		done = uiTexts[httpx.PageLanguage(r)]["DonePaused"]
	case "resumed":
		done = uiTexts[httpx.PageLanguage(r)]["DoneResumed"]
	case "signed":
		done = uiTexts[httpx.PageLanguage(r)]["DoneSigned"]
	}
	s.renderSunset(w, r, http.StatusOK, done, "")
}

// renderSunset renders the sunset's page with status, and with done or problem shown at the
// top (the answer of a form).
func (s *Server) renderSunset(w http.ResponseWriter, r *http.Request, status int, done, problem string) {
	name := r.PathValue("name")
	d, err := s.sunsetPage(r.Context(), r, name)
	if sunset.ErrorCode(err) == sunset.ENOTFOUND {
		// A person followed a link or typed a name: answer with a page, not a problem document.
		p := struct {
			uiPage
			Name string
		}{s.newUIPage(r, uiTexts[httpx.PageLanguage(r)]["NotFoundTitle"]), name}
		s.renderUI(w, r, "ui_notfound.html", http.StatusNotFound, p.Lang, p)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d.Done, d.Error = done, problem
	if problem != "" {
		keepTyped(d, r)
	}
	s.renderUI(w, r, "ui_sunset.html", status, d.Lang, d)
}

// keepTyped puts back into the page what the refused form r had typed: the steering reason and
// name, the lessons' text.
func keepTyped(d *sunsetData, r *http.Request) {
	if r.PostForm == nil {
		return
	}
	d.TypedReason, d.TypedActor = r.PostForm.Get("reason"), r.PostForm.Get("actor")
	if text, ok := r.PostForm["text"]; ok && len(text) > 0 {
		d.Lessons.Text = text[0]
	}
}

// sunsetPage gathers every panel of the sunset's page. Only the sunset's status, plan and
// actions are required; a panel whose service fails is left out and the failure logged.
func (s *Server) sunsetPage(ctx context.Context, r *http.Request, name string) (*sunsetData, error) {
	st, err := s.Engine.Status(ctx, name)
	if err != nil {
		return nil, err
	}
	p, tl, err := s.Engine.Plan(ctx, name)
	if err != nil {
		return nil, err
	}
	acts, err := s.Engine.Actions(ctx, name)
	if err != nil {
		return nil, err
	}
	page := s.newUIPage(r, statusTitle(st, httpx.PageLanguage(r)))
	lang, t := page.Lang, page.T
	loc := p.Location()
	now := s.now()
	d := &sunsetData{uiPage: page, Name: name, Service: st.Service, State: string(st.State), StateText: stateText(lang, st.State),
		TimeZone: loc.String(), Awaiting: st.Awaiting, Signoffs: st.Signoffs,
		ReportHTML: fmt.Sprintf("/api/v1/sunsets/%s/report?format=html&lang=%s", name, page.Short),
		Assessment: fmt.Sprintf("/api/v1/sunsets/%s/report?format=html&assessment=1&lang=%s", name, page.Short),
		Public:     fmt.Sprintf("/p/%s?lang=%s", name, page.Short),
		API:        "/api/v1/sunsets/" + name,
	}
	// A draft, also while paused, offers the stakeholders still awaited their sign-off.
	d.AwaitsSignoff = st.State == engine.StateDraft || (st.State == engine.StatePaused && st.PausedFrom == engine.StateDraft)
	switch st.State {
	case engine.StatePaused:
		d.CanResume = true
	case engine.StateCancelled, engine.StateShutDown, engine.StateEvaluated:
	default:
		d.CanPause = true
	}
	for _, a := range st.Failing {
		row := failingRow{Key: a.Key, Name: a.Name, Error: a.LastError,
			Line: fmt.Sprintf(t["FailingLine"], a.Attempts, st.AttemptsBeforePause, localTime(a.FailingSince, loc)),
			Next: t["FailingHeld"]}
		if !a.RetryAt.IsZero() {
			row.Next = fmt.Sprintf(t["FailingRetry"], localTime(a.RetryAt, loc))
		}
		d.Failing = append(d.Failing, row)
	}
	for _, a := range st.Blocked {
		d.Blocked = append(d.Blocked, a.Key)
	}
	s.withGatewayPhase(ctx, st)
	if st.PhasesDiverge {
		d.PhasesDiverge = true
		d.EnginePhase = textOr(t, "phase_"+st.EnginePhase, st.EnginePhase)
		d.GatewayPhase = textOr(t, "phase_"+st.GatewayPhase, st.GatewayPhase)
	}
	d.Gantt = buildGantt(p, tl, acts, now, lang).SVG()
	for _, a := range acts {
		name := a.Name
		if a.Kind == string(plan.KindMilestone) {
			name = milestoneText(lang, name)
		}
		d.Actions = append(d.Actions, actionRow{At: localTime(a.At, loc), Kind: kindText(lang, a.Kind), Name: name,
			Status: string(a.Status), StatusText: textOr(t, "act_"+string(a.Status), string(a.Status))})
	}
	log := func(panel string, err error) {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "sunset page: panel left out", slog.String("sunset", name),
			slog.String("panel", panel), slog.Any("err", err))
	}
	in, err := s.reportInput(ctx, name)
	if err != nil {
		log("figures", err)
	} else {
		rep := report.Build(*in)
		d.Usage = usageFigures(rep, lang)
		d.Consumers, d.ConsumerCounts = consumerRows(in, rep, now, lang)
		d.Usage.AtAnnouncement, d.Usage.Active = d.ConsumerCounts["announced"], d.ConsumerCounts["active"]
		d.Usage.Migrated = d.ConsumerCounts["migrated"]
		if d.Usage.AtAnnouncement > 0 {
			d.Usage.Share = percentText(float64(d.Usage.Migrated) / float64(d.Usage.AtAnnouncement))
		}
		d.Lessons, d.LessonsOn = in.Lessons, s.Reports != nil
		if !in.Lessons.UpdatedAt.IsZero() {
			d.LessonsAt = localTime(in.Lessons.UpdatedAt, loc)
		}
		if in.Feedback != nil {
			d.Feedback = s.feedbackPanel(ctx, name, in.Feedback, loc, lang)
		}
	}
	if s.Notices != nil {
		if l, err := s.Notices.Ledger(ctx, name, uiFailures); err != nil {
			log("notices", err)
		} else {
			if s.Breakers != nil {
				l.Breakers = s.Breakers()
			}
			d.Notices = noticePanelOf(l, loc)
			awareOf(d.Consumers, l, loc)
		}
	}
	if st.State == engine.StatePaused {
		if sp, err := intake.SuspectPause(ctx, s.Engine, name); err != nil {
			log("suspect trip", err)
		} else if sp != nil {
			d.SuspectPause = fmt.Sprintf(t["SuspectPause"], sp.New, sp.Driving, localTime(sp.Since, loc))
		}
	}
	if g, err := s.Engine.Guardrails(ctx, name); err != nil {
		log("guardrails", err)
		d.GuardError = t["PanelFailed"]
	} else {
		d.Guardrails = g
	}
	var verified map[string]string
	if s.Runbooks != nil {
		d.Runbook, verified = s.runPanel(ctx, name, p, loc, lang)
	}
	for _, b := range p.Data.Backups {
		d.Backups = append(d.Backups, backupRow{Name: b.Name, Source: backupSource(b.Source), To: b.To, Verified: verified[b.Name]})
	}
	if s.Exports != nil && p.Data.Export != nil {
		d.Exports = s.exportPanel(ctx, name)
	}
	if evs, err := s.Engine.Events(ctx, name); err != nil {
		log("events", err)
	} else {
		for i := len(evs) - 1; i >= 0 && len(d.Events) < uiEvents; i-- {
			e := evs[i]
			d.Events = append(d.Events, eventRow{Seq: e.Seq, At: localTime(e.At, loc), Type: e.Type, Actor: e.Actor,
				Data: truncate(string(e.Data), uiEventDataLen)})
		}
	}
	if v, err := s.Engine.VerifyEvents(ctx, name); err == nil {
		d.Chain = v
	}
	return d, nil
}

// textOr returns t[key], or def when the key is missing.
func textOr(t uiText, key, def string) string {
	if v, ok := t[key]; ok {
		return v
	}
	return def
}

// buildGantt lays the plan's timeline out as Gantt rows: the service's and each feature's
// phases, then the notices, brownouts, runbook and data actions as marks, the milestones as
// lines.
func buildGantt(p *plan.Plan, tl *plan.Timeline, acts []engine.Action, now time.Time, lang string) *gantt {
	t := uiTexts[lang]
	g := &gantt{Title: t["TimelineChart"], Now: now, NowLabel: t["Now"], Loc: p.Location()}
	ms, _ := p.MilestoneTimes()
	end := time.Time{}
	for _, a := range tl.Actions {
		if a.At.After(end) {
			end = a.At
		}
	}
	// Phases run on to now once the last action is past, so "gone" shows how long it has been.
	if now.After(end) {
		end = now
	}
	service, features, err := p.PhaseTimes()
	if err == nil {
		g.Rows = append(g.Rows, phaseRow(t["Service"], ms[plan.Announce], service, end, t))
		for i, f := range features {
			if i >= 8 {
				break
			}
			label := p.Features[i].Title.In(lang)
			if label == "" {
				label = p.Features[i].Name
			}
			g.Rows = append(g.Rows, phaseRow(label, time.Time{}, f, end, t))
		}
	}
	status := map[string]engine.ActionStatus{}
	for _, a := range acts {
		status[a.Key] = a.Status
	}
	rows := map[plan.ActionKind]*ganttRow{}
	order := []plan.ActionKind{plan.KindNotice, plan.KindBrownout, plan.KindRunbook, plan.KindData}
	for _, k := range order {
		rows[k] = &ganttRow{Label: kindText(lang, string(k))}
	}
	for _, a := range tl.Actions {
		row := rows[a.Kind]
		if row == nil {
			continue
		}
		row.Marks = append(row.Marks, ganttMark{At: a.At, Label: a.Name, Done: status[a.Key] == engine.ActionDone, Held: status[a.Key] == engine.ActionHeld})
	}
	for _, k := range order {
		if len(rows[k].Marks) > 0 {
			g.Rows = append(g.Rows, *rows[k])
		}
	}
	for _, name := range plan.StandardMilestones {
		if at, ok := ms[name]; ok {
			g.Lines = append(g.Lines, ganttLine{At: at, Label: milestoneText(lang, name)})
		}
	}
	return g
}

// phaseRow is one Gantt row of phases: announced (from announce, when given), deprecated,
// read-only, gone (until end).
func phaseRow(label string, announce time.Time, pt plan.PhaseTimes, end time.Time, t uiText) ganttRow {
	row := ganttRow{Label: label}
	type edge struct {
		at           time.Time
		class, label string
	}
	edges := []edge{{announce, "announced", t["PhaseAnnounced"]}, {pt.Deprecated, "deprecated", t["PhaseDeprecated"]},
		{pt.ReadOnly, "read_only", t["PhaseReadOnly"]}, {pt.Gone, "gone", t["PhaseGone"]}}
	edges = slices.DeleteFunc(edges, func(e edge) bool { return e.at.IsZero() })
	for i, e := range edges {
		to := end
		if i+1 < len(edges) {
			to = edges[i+1].at
		}
		if e.class == "gone" && !to.After(e.at) {
			to = e.at.Add(24 * time.Hour)
		}
		row.Segments = append(row.Segments, ganttSegment{From: e.at, To: to, Class: e.class, Label: e.label})
	}
	return row
}

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
	var st uiExportStatus
	if err := recode(v, &st); err != nil {
		return nil
	}
	e := &exportPanel{Counts: st.Counts}
	if st.Job != nil {
		e.State, e.Message = st.Job.State, st.Job.Message
	}
	for _, k := range []string{"users", "done", "failed", "downloaded", "kept", "outstanding", "migrated", "migration_failed"} {
		if _, ok := st.Counts[k]; ok {
			e.Keys = append(e.Keys, k)
		}
	}
	return e
}
