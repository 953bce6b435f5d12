package ui

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup/export/progress"
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
	State   progress.JobState
	Message string
	Counts  []exportCount
}

// exportCount is one count of the exports: Key names it in the page's words (exp_KEY).
type exportCount struct {
	Key string
	N   int64
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
	lang, loc, now := page.Lang, p.Location(), s.now()
	d := &sunsetData{uiPage: page, Name: name, Service: st.Service, State: string(st.State), StateText: stateText(lang, st.State),
		TimeZone: loc.String(), Awaiting: st.Awaiting, Signoffs: st.Signoffs,
		ReportHTML: fmt.Sprintf("/api/v1/sunsets/%s/report?format=html&lang=%s", name, page.Short),
		Assessment: fmt.Sprintf("/api/v1/sunsets/%s/report?format=html&assessment=1&lang=%s", name, page.Short),
		Public:     fmt.Sprintf("/p/%s?lang=%s", name, page.Short),
		API:        "/api/v1/sunsets/" + name,
	}
	s.steering(ctx, d, st, loc)
	d.Gantt = buildGantt(p, tl, acts, now, lang).SVG()
	d.Actions = actionRows(acts, loc, lang)
	log := func(panel string, err error) {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "sunset page: panel left out", slog.String("sunset", name),
			slog.String("panel", panel), slog.Any("err", err))
	}
	s.figuresPanels(ctx, d, name, loc, now, log)
	s.noticesAndGuards(ctx, d, st, loc, log)
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
	s.eventsPanel(ctx, d, name, loc, log)
	return d, nil
}

// steering fills what the operator may do now (pause, resume, sign off), the failing and
// blocked actions, and whether the gateway's phase diverges from the engine's.
func (s *Server) steering(ctx context.Context, d *sunsetData, st *engine.Status, loc *time.Location) {
	t := d.T
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
	s.GatewayPhase(ctx, st)
	if st.PhasesDiverge {
		d.PhasesDiverge = true
		d.EnginePhase = textOr(t, "phase_"+st.EnginePhase, st.EnginePhase)
		d.GatewayPhase = textOr(t, "phase_"+st.GatewayPhase, st.GatewayPhase)
	}
}

// actionRows lists the timeline's actions as the engine tracks them, in words of lang.
func actionRows(acts []engine.Action, loc *time.Location, lang string) []actionRow {
	t := uiTexts[lang]
	var rows []actionRow
	for _, a := range acts {
		name := a.Name
		if a.Kind == string(plan.KindMilestone) {
			name = milestoneText(lang, name)
		}
		rows = append(rows, actionRow{At: localTime(a.At, loc), Kind: kindText(lang, a.Kind), Name: name,
			Status: string(a.Status), StatusText: textOr(t, "act_"+string(a.Status), string(a.Status))})
	}
	return rows
}

// figuresPanels fills the panels built from the report's input: usage, consumers, lessons and
// feedback.
func (s *Server) figuresPanels(ctx context.Context, d *sunsetData, name string, loc *time.Location, now time.Time, log func(string, error)) {
	in, err := s.ReportInput(ctx, name, true)
	if err != nil {
		log("figures", err)
		return
	}
	lang := d.Lang
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

// noticesAndGuards fills the notice ledger (and who of the consumers it reached), the mark of
// a suspect pause and the guardrails.
func (s *Server) noticesAndGuards(ctx context.Context, d *sunsetData, st *engine.Status, loc *time.Location, log func(string, error)) {
	name, t := d.Name, d.T
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
}

// eventsPanel fills the latest audit events, newest first, and the hash chain's verification.
func (s *Server) eventsPanel(ctx context.Context, d *sunsetData, name string, loc *time.Location, log func(string, error)) {
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
}

// textOr returns t[key], or def when the key is missing.
func textOr(t uiText, key, def string) string {
	if v, ok := t[key]; ok {
		return v
	}
	return def
}
