package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

// ActiveWindow is how far back a consumer must have called the service to count as active.
const ActiveWindow = 30 * 24 * time.Hour

// enqueueChunk is how many deliveries the handler buffers before writing them: the audience is
// streamed, so memory stays flat however many recipients a notice has.
const enqueueChunk = 500

// Activity answers from usage data whether a consumer still calls the service. Without one,
// active_consumers and feature= audiences are every contact (better told twice than never), and
// laggards are everyone already told.
type Activity interface {
	// Active reports whether consumer id of sunset called it since, using feature when feature
	// is not empty.
	Active(ctx context.Context, sunset, id, feature string, since time.Time) (bool, error)
}

// Handler is the engine's handler of notice actions (engine.Register(plan.KindNotice, h)) and
// its re-plan hook (engine.OnReplan(h)). It fans a notice out into the outbox inside the
// action's transaction: the deliveries commit exactly once with the action's Event, and the
// outbox's unique key makes a re-run insert nothing new.
type Handler struct {
	// Outbox keeps the deliveries; when it is a ContactSource too (the store's), the consumers'
	// audiences are the contacts stored with the sunset's plan bundle. No file is ever opened.
	Outbox   Outbox
	Activity Activity
}

// Interface guards.
var (
	_ engine.Handler    = (*Handler)(nil)
	_ engine.ReplanHook = (*Handler)(nil)
	_ engine.TripHook   = (*Handler)(nil)
)

// Handle fans out the notice that run.Action names.
func (h *Handler) Handle(ctx context.Context, run *engine.Run) error {
	idx, ok := strings.CutPrefix(run.Action.Key, "notice/")
	if !ok {
		return fmt.Errorf("notify: action %s is not a notice", run.Action.Key)
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= len(run.Plan.Notices) {
		return fmt.Errorf("notify: action %s names no notice of the plan", run.Action.Key)
	}
	n := run.Plan.Notices[i]
	f := &fanout{h: h, tx: run.Tx, p: run.Plan, sunsetID: run.Sunset.ID, sunset: run.Sunset.Name,
		notice: run.Action.Key, template: n.Template, mandatory: n.Mandatory, channels: n.Channels, now: run.Now}
	recipients, err := f.run(ctx, n.To)
	if err != nil {
		return err
	}
	run.Data = map[string]any{"audience": n.To, "recipients": recipients, "deliveries": f.inserted, "suppressed": f.suppressed}
	return nil
}

// Replanned queues the schedule_changed notice to everyone already told when a re-plan moved a
// milestone, over email and the plan's webhooks and chat rooms, and shows it on the public pages.
func (h *Handler) Replanned(ctx context.Context, r *engine.Replan) error {
	var changes []MilestoneChange
	for _, m := range r.Result.Moved {
		if name, ok := strings.CutPrefix(m.Key, "milestone/"); ok {
			changes = append(changes, MilestoneChange{Milestone: name, From: m.From, To: m.To})
		}
	}
	if len(changes) == 0 {
		return nil
	}
	channels := []string{ChannelEmail}
	if len(r.Plan.Channels.Webhooks) > 0 {
		channels = append(channels, ChannelWebhook)
	}
	if len(r.Plan.Channels.Chat) > 0 {
		channels = append(channels, ChannelChat)
	}
	channels = append(channels, Publications...)
	f := &fanout{h: h, tx: r.Tx, p: r.Plan, sunsetID: r.Sunset.ID, sunset: r.Sunset.Name,
		notice: "replan/" + strconv.Itoa(r.Sunset.Revision), template: "schedule_changed",
		channels: channels, changes: changes, now: r.Now}
	_, err := f.run(ctx, "told")
	return err
}

// GuardrailTripped queues guardrail_tripped to the plan's owners by email, each in their locale,
// with the conditions and the values that tripped, inside the transaction that pauses the
// sunset (engine.OnTrip(h)). The message is mandatory (an unsubscribe from users' notices does
// not silence it), and its notice key, "guardrail/" and the pause's Unix second, makes a retried
// pause queue nothing twice while a later trip is a new message.
func (h *Handler) GuardrailTripped(ctx context.Context, tx engine.Tx, s *engine.Sunset, p *plan.Plan, tripped []engine.GuardrailResult, now time.Time) error {
	var gs []TrippedGuardrail
	for _, r := range tripped {
		if r.Tripped {
			gs = append(gs, TrippedGuardrail{Name: r.Name, Condition: r.Condition, Value: r.Value})
		}
	}
	f := &fanout{h: h, tx: tx, p: p, sunsetID: s.ID, sunset: s.Name,
		notice: "guardrail/" + strconv.FormatInt(now.Unix(), 10), template: "guardrail_tripped", mandatory: true,
		channels: []string{ChannelEmail}, data: Data{Guardrails: gs}, now: now}
	_, err := f.run(ctx, "owners")
	return err
}

// ActionStalled queues action_stalled to the plan's owners by email, each in their locale, with
// the action that kept failing and its last error, inside the transaction in which the engine
// pauses the sunset for it (engine.OnStall(h)): the owners are told once per pause. The message
// is mandatory, and its notice key, "stalled/", the action's key and the pause's Unix second,
// makes a retried pause queue nothing twice.
func (h *Handler) ActionStalled(ctx context.Context, tx engine.Tx, s *engine.Sunset, p *plan.Plan, a *engine.Action, now time.Time) error {
	f := &fanout{h: h, tx: tx, p: p, sunsetID: s.ID, sunset: s.Name,
		notice: "stalled/" + a.Key + "/" + strconv.FormatInt(now.Unix(), 10), template: "action_stalled", mandatory: true,
		channels: []string{ChannelEmail}, now: now, data: Data{
			Task:    &Task{Key: a.Key, Kind: a.Kind, Name: a.Name, Detail: a.Detail, At: a.At},
			Failure: &Failure{Error: a.LastError, Attempts: a.Attempts},
		}}
	_, err := f.run(ctx, "owners")
	return err
}

// The handler tells the owners when a failing action pauses a sunset.
var _ engine.StallHook = (*Handler)(nil)

// GuardrailWarned queues guardrail_warning to the plan's owners by email, each in their locale,
// for tripped guardrails whose reaction is notify (engine.WarnHook): the sunset goes on, and the
// owners should look. Each guardrail warns at most once a day while it stays tripped — its notice
// key is "guardrail-warn/", the day (UTC) and the guardrail's name, and the outbox keeps one
// delivery per key and recipient — so the engine's checks every minute queue nothing twice. It
// returns how many guardrails warned anyone now.
func (h *Handler) GuardrailWarned(ctx context.Context, tx engine.Tx, s *engine.Sunset, p *plan.Plan, warned []engine.GuardrailResult, now time.Time) (int, error) {
	told := 0
	for _, r := range warned {
		if !r.Tripped {
			continue
		}
		f := &fanout{h: h, tx: tx, p: p, sunsetID: s.ID, sunset: s.Name,
			notice: "guardrail-warn/" + now.UTC().Format("2006-01-02") + "/" + r.Name, template: "guardrail_warning", mandatory: true,
			channels: []string{ChannelEmail}, data: Data{Guardrails: []TrippedGuardrail{{Name: r.Name, Condition: r.Condition, Value: r.Value}}}, now: now}
		if _, err := f.run(ctx, "owners"); err != nil {
			return told, err
		}
		if f.inserted > 0 { // not queued today already
			told++
		}
	}
	return told, nil
}

// fanout writes one notice's deliveries.
type fanout struct {
	h                  *Handler
	tx                 engine.Tx
	p                  *plan.Plan
	sunsetID           int64
	sunset, notice     string
	template           string
	mandatory          bool
	channels           []string
	changes            []MilestoneChange
	data               Data
	now                time.Time
	buf                []Delivery
	inserted           int
	suppressed         int
	endpoints, casting []string // per-recipient endpoints; broadcast endpoints
}

func (f *fanout) run(ctx context.Context, audience string) (int, error) {
	for _, c := range f.channels {
		switch c {
		case ChannelEmail:
			f.endpoints = append(f.endpoints, ChannelEmail)
		case ChannelWebhook:
			for _, w := range f.p.Channels.Webhooks {
				f.endpoints = append(f.endpoints, ChannelWebhook+":"+w.Name)
			}
		case ChannelChat:
			for _, ch := range f.p.Channels.Chat {
				f.casting = append(f.casting, ChannelChat+":"+ch.Name)
			}
		case ChannelMastodon:
			if f.p.Channels.Mastodon != nil {
				f.casting = append(f.casting, ChannelMastodon)
			}
		}
	}
	recipients := 0
	if len(f.endpoints) > 0 {
		err := f.audience(ctx, audience, func(r Recipient) error {
			recipients++
			return f.add(ctx, r)
		})
		if err != nil {
			return 0, err
		}
	}
	for _, ep := range f.casting {
		f.buf = append(f.buf, f.delivery(Recipient{ID: Broadcast}, ep))
	}
	if err := f.flush(ctx); err != nil {
		return 0, err
	}
	if !f.mandatory {
		n, err := f.h.Outbox.SuppressQueued(ctx, f.tx.SQL(), f.sunsetID, f.notice)
		if err != nil {
			return 0, err
		}
		f.suppressed = n
	}
	var pubs []string
	for _, c := range f.channels {
		if slices.Contains(Publications, c) {
			pubs = append(pubs, c)
		}
	}
	if len(pubs) > 0 {
		err := f.h.Outbox.Publish(ctx, f.tx.SQL(), Announcement{SunsetID: f.sunsetID, Sunset: f.sunset, Notice: f.notice,
			Template: f.template, Channels: pubs, Mandatory: f.mandatory, At: f.now, Changes: f.changes})
		if err != nil {
			return 0, err
		}
	}
	return recipients, nil
}

func (f *fanout) delivery(r Recipient, endpoint string) Delivery {
	return Delivery{SunsetID: f.sunsetID, Sunset: f.sunset, Notice: f.notice, Template: f.template,
		Channel: endpoint, Recipient: r, Mandatory: f.mandatory, Changes: f.changes, Data: f.data,
		Status: StatusQueued, NextAt: f.now, CreatedAt: f.now, UpdatedAt: f.now}
}

func (f *fanout) add(ctx context.Context, r Recipient) error {
	for _, ep := range f.endpoints {
		if ep == ChannelEmail && r.Email == "" {
			continue
		}
		f.buf = append(f.buf, f.delivery(r, ep))
	}
	if len(f.buf) >= enqueueChunk {
		return f.flush(ctx)
	}
	return nil
}

func (f *fanout) flush(ctx context.Context) error {
	if len(f.buf) == 0 {
		return nil
	}
	n, err := f.h.Outbox.Enqueue(ctx, f.tx.SQL(), f.buf)
	if err != nil {
		return err
	}
	f.inserted += n
	f.buf = f.buf[:0]
	return nil
}

// audience streams the recipients of audience to fn.
func (f *fanout) audience(ctx context.Context, audience string, fn func(Recipient) error) error {
	since := f.now.Add(-ActiveWindow)
	active := func(r Recipient, feature string) (bool, error) {
		if f.h.Activity == nil {
			return true, nil
		}
		return f.h.Activity.Active(ctx, f.sunset, r.ID, feature, since)
	}
	switch {
	case audience == "owners":
		for _, o := range f.p.Service.Owners {
			if o.Email == "" {
				continue
			}
			if err := fn(ownerRecipient(o)); err != nil {
				return err
			}
		}
		return nil
	case audience == "stakeholders":
		for _, s := range f.p.Stakeholders {
			if s.Email == "" {
				continue
			}
			if err := fn(Recipient{ID: "stakeholder:" + s.Name, Email: s.Email, Name: s.Name}); err != nil {
				return err
			}
		}
		return nil
	case audience == "export_pending":
		return f.exportPending(ctx, fn)
	case audience == "laggards" || audience == "told":
		return f.told(ctx, func(r Recipient) error {
			if audience == "laggards" {
				if ok, err := active(r, ""); err != nil || !ok {
					return err
				}
			}
			return fn(r)
		})
	}
	tier, byTier := strings.CutPrefix(audience, "tier=")
	feature, byFeature := strings.CutPrefix(audience, "feature=")
	return f.contacts(ctx, func(r Recipient) error {
		switch {
		case byTier && r.Tier != tier:
			return nil
		case audience == "active_consumers" || byFeature:
			if ok, err := active(r, feature); err != nil || !ok {
				return err
			}
		}
		return fn(r)
	})
}

// PendingExports tells, in tx, whether a user's export is done but neither downloaded nor kept
// in a backup. The store's Outbox implements it; the export_pending audience needs it.
type PendingExports interface {
	ExportPending(ctx context.Context, tx *sql.Tx, sunset, id string) (bool, error)
}

// exportPending streams the users whose export waits to be downloaded: of the stream the
// exports were made from (the contacts file, or without one the recipients already told), those
// whose export is done but neither downloaded nor kept in a backup.
func (f *fanout) exportPending(ctx context.Context, fn func(Recipient) error) error {
	pe, ok := f.h.Outbox.(PendingExports)
	if !ok {
		return errors.New("notify: the export_pending audience needs a store that keeps users' exports")
	}
	pending := func(r Recipient) error {
		ok, err := pe.ExportPending(ctx, f.tx.SQL(), f.sunset, r.ID)
		if err != nil || !ok {
			return err
		}
		return fn(r)
	}
	if f.p.Consumers.Contacts != "" {
		return f.contacts(ctx, pending)
	}
	return f.told(ctx, pending)
}

// told pages through the recipients already reached, a page at a time (a statement's rows must
// be read before the next statement runs on the same transaction).
func (f *fanout) told(ctx context.Context, fn func(Recipient) error) error {
	after := ""
	for {
		page, err := f.h.Outbox.Told(ctx, f.tx.SQL(), f.sunsetID, after, enqueueChunk)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < enqueueChunk {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

func (f *fanout) contacts(ctx context.Context, fn func(Recipient) error) error {
	if f.p.Consumers.Contacts == "" {
		return nil
	}
	src, ok := f.h.Outbox.(ContactSource)
	if !ok {
		return fmt.Errorf("notify: contacts of %s: the outbox keeps no plan bundles", f.sunset)
	}
	var after int64
	for {
		page, last, err := src.ContactsPage(ctx, f.tx.SQL(), f.sunset, after, enqueueChunk)
		if err != nil {
			return fmt.Errorf("notify: contacts of %s: %w", f.sunset, err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < enqueueChunk {
			return nil
		}
		after = last
	}
}
