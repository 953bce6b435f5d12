package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/rehearse"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
)

// rehearsalTick is how often (wall time) the rehearsal moves the clock and looks around.
const rehearsalTick = 25 * time.Millisecond

// playStats is what the play saw, for the summary.
type playStats struct {
	wall       time.Duration
	simulated  time.Duration
	milestones []string
	pauses     int
	// pauseReasons says when and why each pause happened.
	pauseReasons []string
	runbook      string
	approvers    []string
}

// playState is the play's memory between ticks.
type playState struct {
	done       map[string]bool
	steps      map[string]runbook.StepStatus
	shutdownAt time.Time
	pausedAt   time.Time
	lastPhase  string
	approvals  int
	// stopped is the runbook state last reported as waiting for a person.
	stopped string
}

// play drives the clock through the plan until end or until ctx ends, printing a line per
// milestone, pause and runbook step. The clock stands still while an action is due or queued
// (so each runs at its planned instant), runs at wall speed while the runbook runs, and
// otherwise moves speed times faster than the wall clock, landing exactly on each next action.
func (r *rehearsal) play(ctx context.Context, end time.Time) (stats playStats, err error) {
	ps := &playState{done: map[string]bool{}, steps: map[string]runbook.StepStatus{}, lastPhase: string(engine.StateScheduled)}
	began := time.Now()
	startSim := r.clock.Now()
	defer func() {
		stats.wall = time.Since(began)
		stats.simulated = r.clock.Now().Sub(startSim)
	}()
	t := time.NewTicker(rehearsalTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return stats, fail(r.msg("interrupted"), r.when(r.clock.Now()))
		case <-t.C:
		}
		wall := time.Since(last)
		last = time.Now()
		now := r.clock.Now()
		acts, aerr := r.eng.Actions(ctx, r.name)
		if err = aerr; err != nil {
			if ctx.Err() != nil {
				continue
			}
			return stats, err
		}
		s, gerr := r.eng.Get(ctx, r.name)
		if err = gerr; err != nil {
			if ctx.Err() != nil {
				continue
			}
			return stats, err
		}
		r.phase.Store(string(s.State))
		for _, addr := range r.sinks.NewRecipients() {
			r.fleet.Notice(ctx, addr)
		}
		r.noteDone(acts, ps, &stats)
		// Guardrails are watched every tick, that is on simulated time: the engine's own watcher
		// runs on wall time and would miss a day that passes in a tenth of a second.
		if _, err := r.eng.WatchGuardrails(ctx); err != nil && ctx.Err() == nil {
			return stats, err
		}
		r.watchPause(ctx, s, now, ps, &stats)
		running := r.watchRunbook(ctx, ps, &stats)
		if !slices.ContainsFunc(acts, waiting) && !running && !now.Before(end) {
			return stats, nil
		}
		r.advance(acts, now, wall, end, running, ps)
	}
}

// waiting reports whether an action is still to run (held actions wait for a resume).
func waiting(a engine.Action) bool {
	return a.Status == engine.ActionPending || a.Status == engine.ActionEnqueued
}

// advance moves the clock for one tick.
func (r *rehearsal) advance(acts []engine.Action, now time.Time, wall time.Duration, end time.Time, running bool, ps *playState) {
	if running {
		r.clock.Advance(wall)
		return
	}
	var next time.Time
	for _, a := range acts {
		if a.Status == engine.ActionEnqueued || (a.Status == engine.ActionPending && !a.At.After(now)) {
			return // the engine is at work: time stands still
		}
		if a.Status == engine.ActionPending && (next.IsZero() || a.At.Before(next)) {
			next = a.At
		}
	}
	target := now.Add(time.Duration(float64(wall) * r.speed))
	quiet := !ps.shutdownAt.IsZero() && now.After(ps.shutdownAt.Add(rehearsalStragglerWindow))
	if quiet && !next.IsZero() && next.Sub(now) > 48*time.Hour {
		target = next.Add(-24 * time.Hour)
		r.printf("quiet", r.when(now), r.when(target))
	}
	if !next.IsZero() && next.Before(target) {
		target = next
	}
	if next.IsZero() && target.After(end) {
		target = end
	}
	r.clock.Set(target)
}

// noteDone prints the milestones that ran since the last tick.
func (r *rehearsal) noteDone(acts []engine.Action, ps *playState, stats *playStats) {
	for _, a := range acts {
		if a.Status != engine.ActionDone || ps.done[a.Key] {
			continue
		}
		ps.done[a.Key] = true
		if a.Kind != string(plan.KindMilestone) {
			continue
		}
		stats.milestones = append(stats.milestones, a.Name)
		if a.Name == plan.Shutdown {
			ps.shutdownAt = a.At
		}
		_, counts := r.fleet.Answers()
		ans := counts[ps.lastPhase]
		d := r.sinks.Delivered()
		migrated, total := r.fleet.Migrated()
		r.printf("milestone",
			r.when(a.At), a.Name, ps.lastPhase, ans.OK, ans.Redirect, ans.Gone, ans.Unavailable, d.Total(), migrated, total)
		if st, ok := milestoneStates[a.Name]; ok {
			ps.lastPhase = st
			r.phase.Store(st)
		}
	}
}

// milestoneStates is the state a sunset enters when a milestone runs (the engine's rule), so
// that answers are counted in the new phase from the milestone's instant.
var milestoneStates = map[string]string{
	plan.Announce: string(engine.StateAnnounced), plan.Deprecate: string(engine.StateDeprecating),
	plan.ReadOnly: string(engine.StateReadOnly), plan.Shutdown: string(engine.StateShutDown),
}

// watchPause reports a guardrail pause and resumes the sunset one simulated day later: a real
// sunset waits for an operator, a rehearsal goes on to show the rest of the plan.
func (r *rehearsal) watchPause(ctx context.Context, s *engine.Sunset, now time.Time, ps *playState, stats *playStats) {
	if s.State != engine.StatePaused {
		ps.pausedAt = time.Time{}
		return
	}
	if ps.pausedAt.IsZero() {
		ps.pausedAt = now
		stats.pauses++
		reason := r.pauseReason(ctx)
		stats.pauseReasons = append(stats.pauseReasons, r.when(now)+": "+reason)
		r.printf("paused", r.when(now), reason)
		return
	}
	if now.Sub(ps.pausedAt) < 24*time.Hour {
		return
	}
	if _, err := r.eng.Resume(ctx, r.name, "sunset rehearse", "rehearsal: resumed one simulated day after the pause (a real sunset waits for an operator)"); err == nil {
		r.printf("resumed", r.when(now))
	}
	ps.pausedAt = time.Time{}
}

// pauseReason finds why the sunset was paused: the guardrails of its latest trip with their
// values, or the reason of its latest pause.
func (r *rehearsal) pauseReason(ctx context.Context) string {
	evs, err := r.eng.Events(ctx, r.name)
	if err != nil {
		return "paused"
	}
	for i := len(evs) - 1; i >= 0; i-- {
		switch evs[i].Type {
		case "guardrail.tripped":
			var data struct {
				Guardrails []engine.GuardrailResult `json:"guardrails"`
			}
			_ = json.Unmarshal(evs[i].Data, &data)
			var parts []string
			for _, g := range data.Guardrails {
				parts = append(parts, fmt.Sprintf(r.msg("tripGuardrail"), g.Name, g.Condition, g.Value))
			}
			return fmt.Sprintf(r.msg("tripped"), strings.Join(parts, ", "))
		case "sunset.paused":
			var data map[string]any
			_ = json.Unmarshal(evs[i].Data, &data)
			if reason, ok := data["reason"].(string); ok && reason != "" {
				return "paused: " + reason
			}
			return "paused"
		}
	}
	return "paused"
}

// watchRunbook follows the runbook run the timeline started: it grants the approvals it waits
// for, one named rehearsal approver at a time, and prints each step's outcome. It reports
// whether the run is still going.
func (r *rehearsal) watchRunbook(ctx context.Context, ps *playState, stats *playStats) bool {
	if !slices.ContainsFunc(doneKeys(ps.done), func(k string) bool { return strings.HasPrefix(k, string(plan.KindRunbook)+"/") }) {
		return false
	}
	run, err := r.st.LatestRun(ctx, r.name)
	if err != nil || run == nil {
		return false
	}
	for _, step := range run.Steps {
		if ps.steps[step.Name] == step.Status {
			continue
		}
		ps.steps[step.Name] = step.Status
		switch step.Status {
		case runbook.StepDone, runbook.StepFailed, runbook.StepWaiting, runbook.StepOperator, runbook.StepSkipped:
			line := fmt.Sprintf(r.msg("step"), r.when(r.clock.Now()), step.Name, step.Status)
			if step.Error != "" {
				line += " — " + step.Error
			}
			fmt.Fprintln(r.out, line)
		}
	}
	stats.runbook = string(run.State)
	if run.State == runbook.StateWaiting {
		for _, step := range run.Steps {
			if step.Status != runbook.StepWaiting || step.Kind != "approval" {
				continue
			}
			ps.approvals++
			who := fmt.Sprintf("rehearsal approver %d", ps.approvals)
			if _, err := r.data.web.runbooks.Approve(ctx, r.name, step.Name, who, approvalRole(r.plan, step.Name)); err == nil {
				stats.approvers = append(stats.approvers, who)
				r.printf("approved", r.when(r.clock.Now()), step.Name, who)
			}
		}
	}
	switch run.State {
	case runbook.StateOperator, runbook.StateBlocked:
		// A real run waits here for a person (sunset runbook resolve); the rehearsal reports it
		// once and plays on, so that the rest of the plan is seen too.
		if stats.runbook != ps.stopped {
			ps.stopped = stats.runbook
			msg := run.Message
			if msg == "" {
				msg = "it waits for an operator"
			}
			r.printf("operator", r.when(r.clock.Now()), run.State, msg)
		}
		return false
	}
	return !run.State.Ended()
}

// approvalRole is the role the plan's approval step asks for.
func approvalRole(p *plan.Plan, step string) string {
	for _, s := range runbook.Steps(p) {
		if s.Name == step && s.Approval != nil {
			return s.Approval.Role
		}
	}
	return "approver"
}

// doneKeys lists the keys of the actions seen done.
func doneKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// when formats a simulated instant in the plan's time zone.
func (r *rehearsal) when(t time.Time) string { return t.In(r.loc).Format("2006-01-02 15:04 MST") }

// printStage prints what the rehearsal plays and every real endpoint it replaced.
func (r *rehearsal) printStage(file string, iso *rehearse.Isolated, gateway string, start, end time.Time) {
	w := r.out
	r.printf("stage", r.name, file)
	r.printf("time", r.when(start), r.when(end), r.speed)
	r.printf("gateway", gateway, r.public)
	var cs []string
	for _, c := range r.fleet.Consumers {
		cs = append(cs, c.ID+" ("+string(c.Persona)+")")
	}
	r.printf("consumers", strings.Join(cs, ", "))
	if r.plan.Consumers.Contacts == "" {
		r.printf("noContacts")
	}
	r.printf("replaced")
	for _, s := range iso.Substitutions {
		real := s.Real
		if real == "" {
			real = "(unset)"
		}
		fmt.Fprintf(w, "    %-32s %s → %s\n", s.What, real, s.Local)
	}
	if len(r.signoffs) > 0 {
		r.printf("signoffs", strings.Join(r.signoffs, ", "))
	}
	r.printf("approvals")
}

// printSummary prints the figures of the play.
func (r *rehearsal) printSummary(stats playStats) {
	w := r.out
	r.printf("played", stats.simulated.Hours()/24, stats.wall.Seconds())
	r.printf("milestones", strings.Join(stats.milestones, ", "))
	phases, counts := r.fleet.Answers()
	r.printf("answers")
	for _, p := range phases {
		a := counts[p]
		fmt.Fprintf(w, "                       %-13s %5d  %5d  %5d  %5d  %5d\n", p, a.OK, a.Redirect, a.Gone, a.Unavailable, a.Other)
	}
	d := r.sinks.Delivered()
	r.printf("notices", d.Total(), d.Email, d.Webhook, d.Chat)
	migrated, total := r.fleet.Migrated()
	posts := r.fleet.Posts()
	langs := map[string]int{}
	for _, p := range posts {
		langs[strings.SplitN(p.Locale, "-", 2)[0]]++
	}
	r.printf("migrated", migrated, total, r.fleet.AlternativeCalls(), len(posts), formatCounts(langs))
	r.printf("pauses", stats.pauses)
	rb := stats.runbook
	if rb == "" {
		rb = r.msg("notStarted")
	}
	stands := strings.Join(r.up.Steps(), ", ")
	if stands == "" {
		stands = r.msg("none")
	}
	r.printf("runbook", rb, stands)
}

// formatCounts writes counts as "(en 2, zh 1)", sorted by key.
func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// postFeedback sends a consumer's feedback through the real feedback API.
func (r *rehearsal) postFeedback(ctx context.Context, p rehearse.Post) error {
	body, err := json.Marshal(feedback.Input{Mood: p.Mood, Category: p.Category, Text: p.Text, Consumer: p.Consumer, Locale: p.Locale})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.public+"/api/v1/sunsets/"+r.name+"/feedback", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		r.printf("refused", r.when(r.clock.Now()), p.Consumer, resp.Status, strings.TrimSpace(string(msg)))
		return fmt.Errorf("feedback: %s", resp.Status)
	}
	return nil
}

// rehearsalConsumers are the plan's contacts as synthetic consumers; a plan without contacts
// gets four anonymous ones (they call, but no notice reaches them).
func rehearsalConsumers(ctx context.Context, st *store.DB, p *plan.Plan) ([]rehearse.Consumer, error) {
	var list []rehearse.Consumer
	if p.Consumers.Contacts != "" {
		// The contacts the scratch store keeps from the applied bundle, as production reads them.
		err := st.EachContact(ctx, p.Service.Name, func(c contacts.Contact) error {
			list = append(list, rehearse.Consumer{ID: c.ID, Email: c.Email, Locale: c.Locale, Tier: c.Tier})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(list) == 0 {
		for i := 1; i <= 4; i++ {
			list = append(list, rehearse.Consumer{ID: fmt.Sprintf("consumer-%d", i), Locale: "en"})
		}
	}
	return rehearse.NewConsumers(list, p.Consumers.Exempt), nil
}

// createScratchSources creates the scratch data sources of an isolated plan: a SQLite file
// with a small orders table, or a directory with two files.
func createScratchSources(ctx context.Context, sources []rehearse.ScratchSource) error {
	for _, s := range sources {
		switch {
		case s.SQLite != "":
			if err := os.MkdirAll(filepath.Dir(s.SQLite), 0o755); err != nil {
				return err
			}
			db, err := sql.Open("sqlite", s.SQLite)
			if err != nil {
				return err
			}
			_, err = db.ExecContext(ctx, `CREATE TABLE orders (id TEXT PRIMARY KEY, consumer TEXT, total TEXT);
INSERT INTO orders VALUES ('o-1001', 'acme-prod', '42.00'), ('o-1002', 'globex', '17.50'), ('o-1003', 'hooli', '5.00');`)
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %w", s.Name, err)
			}
		case s.Dir != "":
			if err := os.MkdirAll(s.Dir, 0o755); err != nil {
				return err
			}
			files := map[string]string{"README.txt": "Scratch data of a Sunset rehearsal.\n", "orders.csv": "id,consumer,total\no-1001,acme-prod,42.00\n"}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(s.Dir, name), []byte(body), 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
					return err
				}
			}
		}
	}
	return nil
}

// rehearsalTraffic is the drain step's meter: requests that reached the sample upstream.
type rehearsalTraffic struct{ up *rehearse.Upstream }

// RPS returns the upstream's request rate over the last second.
func (t rehearsalTraffic) RPS(context.Context, string) (float64, error) { return t.up.RPS(), nil }

// Interface guards.
var (
	_ runbook.TrafficMeter = rehearsalTraffic{}
)

// lessons is the text the rehearsal leaves as the report's lessons learned: that it was a
// rehearsal, and what it found (pauses, the runbook's end, who did not migrate, what was replaced).
func (r *rehearsal) lessons(stats playStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, r.msg("lessonsHead")+"\n\n", r.clock.Now().Format("2006-01-02"))
	for _, p := range stats.pauseReasons {
		fmt.Fprintf(&b, "- "+r.msg("lessonsPause")+"\n", p)
	}
	rb := stats.runbook
	if rb == "" {
		rb = r.msg("notStarted")
	}
	fmt.Fprintf(&b, "- "+r.msg("lessonsRunbook")+"\n", rb)
	migrated, total := r.fleet.Migrated()
	fmt.Fprintf(&b, "- "+r.msg("lessonsMigrated")+"\n", migrated, total)
	d := r.sinks.Delivered()
	fmt.Fprintf(&b, "- "+r.msg("lessonsNotices")+"\n", d.Total(), d.Email, d.Webhook, d.Chat)
	fmt.Fprintf(&b, "- "+r.msg("lessonsReplaced")+"\n", len(r.replaced))
	return b.String()
}
