package notify

import (
	"context"
	"strings"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

// TaskTemplate is the built-in template of an owner's task reminder.
const TaskTemplate = "task"

// TaskPrefix begins the notice key of every owner's task reminder (TaskNotice).
const TaskPrefix = "task/"

// TaskNotice is the notice key of the reminders of the action keyed actionKey planned at at:
// "task/milestone/shutdown@2027-03-15T02:00:00Z". The instant is part of the key, so that an
// action a re-plan moves gets a new reminder while one already sent for an instant is never
// sent again for it; with the sunset, the owner and the channel it makes the delivery key.
func TaskNotice(actionKey string, at time.Time) string {
	return TaskPrefix + actionKey + "@" + at.UTC().Format(time.RFC3339)
}

// IsTask reports whether notice is an owner's task reminder.
func IsTask(notice string) bool { return strings.HasPrefix(notice, TaskPrefix) }

// Interface guard.
var _ engine.ScheduleHook = (*Handler)(nil)

// Scheduled is the engine's schedule hook (engine.OnSchedule(h)): whenever a sunset's actions are
// scheduled anew — first apply, re-plan, shift, pause, resume, cancel — it queues, in the same transaction, one
// email per owner and action they answer for (plan.TaskOwners: responsible or accountable, by
// area), due the plan's reminder lead (plan.ReminderLead) before the action, or at once when
// that is already past. Only actions still to run and still ahead get reminders. The reminders
// still queued from before are withdrawn first, so that a moved action's old reminder does not
// go out, a removed action's neither, and a paused or cancelled sunset's none; a reminder already sent
// stays sent, and is not sent again for the same instant (the outbox's unique key).
func (h *Handler) Scheduled(ctx context.Context, s *engine.Schedule) error {
	if _, err := h.Outbox.WithdrawTasks(ctx, s.Tx.SQL(), s.Sunset.ID); err != nil {
		return err
	}
	if s.Sunset.State == engine.StatePaused {
		return nil // nothing is coming while paused; resuming queues them again
	}
	var acts []plan.Action
	for _, a := range s.Actions {
		if upcoming(a, s.Now) {
			acts = append(acts, plan.Action{Key: a.Key, At: a.At, Kind: plan.ActionKind(a.Kind), Name: a.Name, Detail: a.Detail})
		}
	}
	ds := TaskReminders(s.Plan, s.Sunset.ID, s.Sunset.Name, acts, s.Now)
	if len(ds) == 0 {
		return nil
	}
	_, err := h.Outbox.Enqueue(ctx, s.Tx.SQL(), ds)
	return err
}

// TaskReminders returns the owners' task reminders of the actions acts of plan p (sunset
// sunsetID, named name) that are still ahead of now, as queued email deliveries in timeline
// order: one per action and owner who answers for it (plan.TaskOwners), due the plan's reminder
// lead before the action, or at now when that is already past. None when the plan turns
// reminders off.
func TaskReminders(p *plan.Plan, sunsetID int64, name string, acts []plan.Action, now time.Time) []Delivery {
	lead, on := p.ReminderLead()
	if !on {
		return nil
	}
	var ds []Delivery
	for _, a := range acts {
		if !a.At.After(now) {
			continue
		}
		due := a.At.Add(-lead)
		if due.Before(now) {
			due = now
		}
		for _, o := range p.TaskOwners(a) {
			for _, ch := range o.Owner.ReminderChannels() {
				ds = append(ds, Delivery{
					SunsetID: sunsetID, Sunset: name, Notice: TaskNotice(a.Key, a.At), Template: TaskTemplate,
					Channel: ch, Recipient: ownerRecipient(o.Owner), Mandatory: true,
					Data: Data{Task: &Task{Key: a.Key, Kind: string(a.Kind), Name: a.Name, Detail: a.Detail, At: a.At,
						Lead: lead, Areas: o.Areas}},
					Status: StatusQueued, NextAt: due, CreatedAt: now, UpdatedAt: now,
				})
			}
		}
	}
	return ds
}

// upcoming reports whether action a is still to run after now: pending, queued, or held (by a
// pause or a sign-off still awaited), and not yet due.
func upcoming(a engine.Action, now time.Time) bool {
	switch a.Status {
	case engine.ActionPending, engine.ActionEnqueued, engine.ActionHeld:
		return a.At.After(now)
	}
	return false
}

// ownerRecipient is owner o as a recipient: "owner:EMAIL", named by their name or team.
func ownerRecipient(o plan.Owner) Recipient {
	name := o.Name
	if name == "" {
		name = o.Team
	}
	return Recipient{ID: "owner:" + o.Email, Email: o.Email, Name: name, Locale: o.Locale}
}
