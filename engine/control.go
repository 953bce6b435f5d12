package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// Pause stops a sunset before its next step: no action runs until Resume. Pausing a sunset that
// is already paused, cancelled or shut down is a sunset.ECONFLICT error.
func (e *Engine) Pause(ctx context.Context, name, actor, reason string) (*Sunset, error) {
	return e.mutate(ctx, name, func(tx Tx, s *Sunset) error {
		switch s.State {
		case StatePaused, StateCancelled, StateShutDown, StateEvaluated:
			return sunset.Errorf(sunset.ECONFLICT, "sunset %s is %s and cannot be paused", s.Name, s.State)
		}
		if err := e.setActions(ctx, tx, s.ID, []ActionStatus{ActionPending, ActionEnqueued}, ActionHeld); err != nil {
			return err
		}
		s.PausedFrom, s.State = s.State, StatePaused
		// What the pause holds is not told to its owners as coming: the hook withdraws it.
		if err := e.scheduled(ctx, tx, s, nil); err != nil {
			return err
		}
		return e.appendEvent(ctx, tx, s, "sunset.paused", actor, map[string]any{"reason": reason, "from": s.PausedFrom})
	})
}

// Resume returns a paused sunset to the state it was paused in. Actions that fell due while it
// was paused run next, in order. A reason is required: resuming is an operator's decision.
func (e *Engine) Resume(ctx context.Context, name, actor, reason string) (*Sunset, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, sunset.Errorf(sunset.EINVALID, "resuming %s needs a reason", name)
	}
	return e.mutate(ctx, name, func(tx Tx, s *Sunset) error {
		if s.State != StatePaused {
			return sunset.Errorf(sunset.ECONFLICT, "sunset %s is %s, not paused", s.Name, s.State)
		}
		s.State, s.PausedFrom = s.PausedFrom, ""
		if s.State != StateDraft {
			if err := e.setActions(ctx, tx, s.ID, []ActionStatus{ActionHeld}, ActionPending); err != nil {
				return err
			}
		}
		if err := e.scheduled(ctx, tx, s, nil); err != nil {
			return err
		}
		return e.appendEvent(ctx, tx, s, "sunset.resumed", actor, map[string]any{"reason": reason, "to": s.State})
	})
}

// Cancel ends a sunset for good: no further action runs. The service stays as it is.
func (e *Engine) Cancel(ctx context.Context, name, actor, reason string) (*Sunset, error) {
	return e.mutate(ctx, name, func(tx Tx, s *Sunset) error {
		switch s.State {
		case StateCancelled, StateShutDown, StateEvaluated:
			return sunset.Errorf(sunset.ECONFLICT, "sunset %s is %s and cannot be cancelled", s.Name, s.State)
		}
		if err := e.setActions(ctx, tx, s.ID, []ActionStatus{ActionPending, ActionEnqueued, ActionHeld}, ActionCancelled); err != nil {
			return err
		}
		from := s.State
		s.State, s.PausedFrom = StateCancelled, ""
		if err := e.scheduled(ctx, tx, s, nil); err != nil {
			return err
		}
		return e.appendEvent(ctx, tx, s, "sunset.cancelled", actor, map[string]any{"reason": reason, "from": from})
	})
}

// Signoff records that stakeholder approves the plan. When every stakeholder the plan names has
// signed off, a draft sunset is scheduled and its actions start to run when due.
func (e *Engine) Signoff(ctx context.Context, name, stakeholder, actor string) (*Sunset, error) {
	return e.mutate(ctx, name, func(tx Tx, s *Sunset) error {
		p, err := e.parseStored(s)
		if err != nil {
			return err
		}
		names := stakeholderNames(p)
		if !slices.Contains(names, stakeholder) {
			if len(names) == 0 {
				return sunset.Errorf(sunset.EINVALID, "the plan of %s names no stakeholders; nothing to sign off", s.Name)
			}
			return sunset.Errorf(sunset.EINVALID, "%q is not a stakeholder of %s (stakeholders: %s)", stakeholder, s.Name, strings.Join(names, ", "))
		}
		if slices.Contains(s.Signoffs, stakeholder) {
			return sunset.Errorf(sunset.ECONFLICT, "%s has already signed off %s", stakeholder, s.Name)
		}
		if s.State == StateCancelled {
			return sunset.Errorf(sunset.ECONFLICT, "sunset %s is cancelled", s.Name)
		}
		s.Signoffs = append(s.Signoffs, stakeholder)
		if err := e.appendEvent(ctx, tx, s, "stakeholder.signed_off", actor, map[string]any{
			"stakeholder": stakeholder, "revision": s.Revision, "plan_hash": s.PlanHash,
		}); err != nil {
			return err
		}
		return e.maybeSchedule(ctx, tx, s, p, actor)
	})
}

// maybeSchedule moves a draft sunset whose stakeholders have all signed off to scheduled.
func (e *Engine) maybeSchedule(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan, actor string) error {
	if s.State != StateDraft {
		return nil
	}
	for _, n := range stakeholderNames(p) {
		if !slices.Contains(s.Signoffs, n) {
			return nil
		}
	}
	if err := e.setActions(ctx, tx, s.ID, []ActionStatus{ActionHeld}, ActionPending); err != nil {
		return err
	}
	s.State = StateScheduled
	return e.appendEvent(ctx, tx, s, "sunset.scheduled", actor, map[string]any{"signoffs": s.Signoffs})
}

// mutate runs fn on the locked sunset and writes it back, all in one transaction.
func (e *Engine) mutate(ctx context.Context, name string, fn func(tx Tx, s *Sunset) error) (*Sunset, error) {
	var out *Sunset
	err := e.store.InTx(ctx, func(tx Tx) error {
		s, err := tx.LockSunset(ctx, name)
		if err != nil {
			return err
		}
		if err := fn(tx, s); err != nil {
			return err
		}
		s.UpdatedAt = e.now()
		if err := tx.UpdateSunset(ctx, s); err != nil {
			return err
		}
		out = normalize(s)
		return nil
	})
	return out, err
}

// setActions moves the sunset's actions in any of the from statuses to status to.
func (e *Engine) setActions(ctx context.Context, tx Tx, sunsetID int64, from []ActionStatus, to ActionStatus) error {
	acts, err := tx.ListActions(ctx, sunsetID)
	if err != nil {
		return err
	}
	for i := range acts {
		if slices.Contains(from, acts[i].Status) {
			acts[i].Status = to
			if err := tx.PutAction(ctx, &acts[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// PausedAt returns when a paused sunset was paused, from its events (oldest first): the
// instant of the newest pause, by an operator or by a tripped guardrail; false when there is
// none.
func PausedAt(events []Event) (time.Time, bool) {
	for i := len(events) - 1; i >= 0; i-- {
		if t := events[i].Type; t == "sunset.paused" || t == "guardrail.tripped" {
			return events[i].At, true
		}
	}
	return time.Time{}, false
}
