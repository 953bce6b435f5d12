package runbook

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// Event types of the deletion of a service's data.
const (
	// EventDeleteApproved is one person's approval of the deletion.
	EventDeleteApproved = "data.delete_approved"
	// EventDeleted records a deletion an operator asked for after delete_data.
	EventDeleted = "data.deleted"
	// deleteActionKey is the key of the timeline's delete_data action, whose Event records
	// the deletion it performed or why it did not.
	deleteActionKey = "data/delete"
)

// deleteTimeout bounds a data.retention.delete command.
const deleteTimeout = 10 * time.Minute

// Delete deletes the service's data when the retention rules allow it (DecideDelete with the
// approvers and exportsErr, why exports block it) and every data.backups source has a verified
// archive that is still at its destination; it returns what it did either way. err is set only
// when deleting failed.
//
// verified names, by backup, the archive the sunset's latest runbook run verified (Run.Verified):
// an archive merely present at the destination is not enough, as it may be an older backup, or
// the final backup may still be running or have failed to verify.
func Delete(ctx context.Context, p *plan.Plan, approvers []string, exportsErr error, verified map[string]string) (*Deletion, error) {
	d := &Deletion{ApprovedBy: approvers}
	if dec := DecideDelete(p, approvers, exportsErr); !dec.Allowed {
		d.Reason = dec.Reason
		return d, nil
	}
	refs, reason, err := VerifiedBackups(ctx, p, verified)
	if err != nil {
		return d, fmt.Errorf("find the backups before deleting: %w", err)
	}
	if reason != "" {
		d.Reason = reason
		return d, nil
	}
	what, out, err := DeleteData(ctx, p, deleteTimeout)
	if err != nil {
		return d, err
	}
	d.Deleted, d.What, d.Backups, d.Output = true, what, refs, out
	return d, nil
}

// HistoryEvent is one Event of a sunset's history, as Retention reads it.
type HistoryEvent struct {
	Seq   int64
	Type  string
	Actor string
	Data  json.RawMessage
}

// Retention carries out what operators and approvers do about a sunset's data after the
// timeline's delete_data action: approve the deletion, and delete once the action ran but could
// not (no approval yet, exports outstanding). It applies the same rules as the action.
type Retention struct {
	// Plan returns the sunset's current plan.
	Plan func(ctx context.Context, name string) (*plan.Plan, error)
	// History returns the sunset's Events, oldest first.
	History func(ctx context.Context, name string) ([]HistoryEvent, error)
	// ActionDone reports whether the sunset's action with key is done.
	ActionDone func(ctx context.Context, name, key string) (bool, error)
	// Exports returns why the sunset's exports block the deletion, or nil; nil Exports means
	// the sunsets have no exports to wait for.
	Exports func(ctx context.Context, name string) error
	// Verified returns the archives the sunset's latest runbook run verified, by backup name
	// (Run.Verified). Nil means none: a plan that declares backups is then never deleted.
	Verified func(ctx context.Context, name string) (map[string]string, error)
	// Events records the approval and the deletion.
	Events Events
}

// Approvals returns the distinct people who approved the deletion of the sunset's data, in the
// order they did, and how many approvals the plan asks for.
func (r *Retention) Approvals(ctx context.Context, name string) (approvers []string, need int, err error) {
	p, err := r.Plan(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	evs, err := r.History(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	return deleteApprovers(evs), neededApprovals(p), nil
}

// Approve records person's approval of the deletion of the sunset's data. A second approval by
// the same person is a conflict: approvals count distinct people.
func (r *Retention) Approve(ctx context.Context, name, person string) (approvers []string, need int, err error) {
	approvers, need, err = r.Approvals(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	if slices.Contains(approvers, person) {
		return nil, 0, sunset.Errorf(sunset.ECONFLICT, "%s has already approved the deletion of %s's data.", person, name)
	}
	if err := r.Events.Record(ctx, name, EventDeleteApproved, person, map[string]any{}); err != nil {
		return nil, 0, err
	}
	return append(approvers, person), need, nil
}

// DeleteNow deletes the sunset's data when its delete_data action has run but could not delete,
// under the action's rules (approvals, no legal hold, exports complete, a backup archive of every
// source), and records the Event data.deleted by actor. It refuses with a conflict before the
// action ran, after a deletion, and when the rules do not allow it yet (the Deletion then says
// why).
func (r *Retention) DeleteNow(ctx context.Context, name, actor string) (*Deletion, error) {
	p, err := r.Plan(ctx, name)
	if err != nil {
		return nil, err
	}
	ran, err := r.ActionDone(ctx, name, deleteActionKey)
	if err != nil {
		return nil, err
	}
	if !ran {
		return nil, sunset.Errorf(sunset.ECONFLICT, "The delete_data action of %s has not run yet; nothing is deleted before it.", name)
	}
	evs, err := r.History(ctx, name)
	if err != nil {
		return nil, err
	}
	if seq := deletedIn(evs); seq != 0 {
		return nil, sunset.Errorf(sunset.ECONFLICT, "The data of %s was already deleted (event %d).", name, seq)
	}
	var exportsErr error
	if p.Data.Export != nil && r.Exports != nil {
		exportsErr = r.Exports(ctx, name)
	}
	var verified map[string]string
	if r.Verified != nil {
		if verified, err = r.Verified(ctx, name); err != nil {
			return nil, err
		}
	}
	d, err := Delete(ctx, p, deleteApprovers(evs), exportsErr, verified)
	if err != nil {
		return nil, err
	}
	if !d.Deleted {
		return d, sunset.Errorf(sunset.ECONFLICT, "Not deleted: %s", d.Reason)
	}
	if err := r.Events.Record(ctx, name, EventDeleted, actor, d.EventData()); err != nil {
		return d, fmt.Errorf("deleted, but the event could not be recorded: %w", err)
	}
	return d, nil
}

// neededApprovals is how many distinct approvals the plan's deletion needs.
func neededApprovals(p *plan.Plan) int {
	if p.Data.Retention == nil {
		return 1
	}
	return max(p.Data.Retention.Approvals, 1)
}

// deleteApprovers are the distinct actors of the approvals among evs, in order.
func deleteApprovers(evs []HistoryEvent) []string {
	var out []string
	for _, e := range evs {
		if e.Type == EventDeleteApproved && !slices.Contains(out, e.Actor) {
			out = append(out, e.Actor)
		}
	}
	return out
}

// deletedIn is the sequence number of the Event that records a deletion — data.deleted, or the
// delete_data action's own Event when it deleted — or 0.
func deletedIn(evs []HistoryEvent) int64 {
	for _, e := range evs {
		if e.Type == EventDeleted {
			return e.Seq
		}
		var d struct {
			Key     string `json:"key"`
			Deleted bool   `json:"deleted"`
		}
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &d) == nil && d.Key == deleteActionKey && d.Deleted {
			return e.Seq
		}
	}
	return 0
}
