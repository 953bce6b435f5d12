package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Reminders configures the owners' task reminders: each owner who is responsible or accountable
// for an action of the timeline (by the areas of their `for`) gets an email Before it.
type Reminders struct {
	// Before is how long before each action its owners are reminded. Default DefaultReminderLead.
	Before Duration `yaml:"before,omitempty" json:"before,omitempty" jsonschema:"description=How long before each action of the timeline its owners get a task reminder; default 2d."`
	// Off turns the owners' task reminders off.
	Off bool `yaml:"off,omitempty" json:"off,omitempty" jsonschema:"description=Send no task reminders to owners."`
}

// DefaultReminderLead is how long before an action its owners are reminded when the plan does
// not say.
const DefaultReminderLead = 48 * time.Hour

// MaxReminderLead is the longest lead a plan may set: a reminder months ahead is forgotten by
// the day it is about.
const MaxReminderLead = 90 * 24 * time.Hour

// ReminderLead returns how long before each action its owners are reminded, and false when the
// plan turns reminders off.
func (p *Plan) ReminderLead() (time.Duration, bool) {
	if p.Reminders.Off {
		return 0, false
	}
	if p.Reminders.Before > 0 {
		return time.Duration(p.Reminders.Before), true
	}
	return DefaultReminderLead, true
}

// TaskOwner is an owner who answers for one action, with the areas of their `for` that made it
// theirs (empty when their `for` is empty: they answer for everything).
type TaskOwner struct {
	Owner Owner
	Areas []string
}

// remindedRoles are the RACI roles that carry out or answer for an action; consulted and
// informed owners hear through notices, not task reminders.
var remindedRoles = []string{"responsible", "accountable"}

// TaskAreas returns the owner areas action a belongs to, and false when the action is not a task
// anyone is reminded of: a milestone ("milestones" and its name), a feature's phase change and
// the first window of a brownout ("gateway"), a notice ("notices"), the runbook ("runbook" and
// each step's name) and the deletion of data ("data" and delete_data). Guardrail checks, later
// brownout windows and the end of export links are not tasks.
func (p *Plan) TaskAreas(a Action) ([]string, bool) {
	parts := strings.Split(a.Key, "/")
	switch a.Kind {
	case KindMilestone:
		return []string{"milestones", a.Name}, true
	case KindFeature:
		return []string{"gateway"}, true
	case KindBrownout:
		if len(parts) == 3 && (parts[2] == "1" || parts[2] == "start") {
			return []string{"gateway"}, true
		}
	case KindNotice:
		return []string{"notices"}, true
	case KindRunbook:
		areas := []string{"runbook"}
		for _, s := range p.Runbook {
			areas = append(areas, s.Name)
		}
		return areas, true
	case KindData:
		if a.Key == "data/delete" {
			return []string{"data", DeleteData}, true
		}
	}
	return nil, false
}

// TaskOwners returns the owners reminded of action a: those whose role is responsible or
// accountable, who have an email address, and whose `for` is empty or names one of the action's
// areas (TaskAreas). None when a is not a task.
func (p *Plan) TaskOwners(a Action) []TaskOwner {
	areas, ok := p.TaskAreas(a)
	if !ok {
		return nil
	}
	var out []TaskOwner
	for _, o := range p.Service.Owners {
		if o.Email == "" || !slices.Contains(remindedRoles, o.Role) {
			continue
		}
		if len(o.For) == 0 {
			out = append(out, TaskOwner{Owner: o})
			continue
		}
		var matched []string
		for _, f := range o.For {
			if slices.Contains(areas, f) && !slices.Contains(matched, f) {
				matched = append(matched, f)
			}
		}
		if len(matched) > 0 {
			out = append(out, TaskOwner{Owner: o, Areas: matched})
		}
	}
	return out
}

// reminders checks the reminders block: a lead between a minute and MaxReminderLead, and a
// warning when reminders are asked for but no owner could get one.
func (v *validator) reminders() {
	r := v.p.Reminders
	if v.p.has("reminders.before") {
		switch d := time.Duration(r.Before); {
		case d <= 0:
			v.errorf("reminders.before", "before must be longer than 0; to send no reminders, write off: true")
		case d < time.Minute:
			v.errorf("reminders.before", "a reminder %s before an action comes too late to act on; use at least 1m, e.g. before: 2d", FormatDuration(d))
		case d > MaxReminderLead:
			v.errorf("reminders.before", "a reminder %s ahead is forgotten by the day; use at most %s", FormatDuration(d), FormatDuration(MaxReminderLead))
		}
		if r.Off {
			v.warnf("reminders.off", "reminders are off, so before has no effect")
		}
	}
	if r.Off || !v.p.has("reminders") {
		return
	}
	for _, o := range v.p.Service.Owners {
		if o.Email != "" && slices.Contains(remindedRoles, o.Role) {
			return
		}
	}
	v.warnf("reminders", "no owner gets task reminders: %s", fmt.Sprintf("give a %s owner an email", strings.Join(remindedRoles, " or ")))
}
