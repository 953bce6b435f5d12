package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// Pause stops a sunset before its next step: no action runs until Resume. A reason is required
// (sunset.EINVALID without one): it is kept in the audit log. Pausing a sunset that is already
// paused, cancelled, shut down or evaluated is a sunset.ECONFLICT error.
func (e *Engine) Pause(ctx context.Context, name, actor, reason string) (*Sunset, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, sunset.Errorf(sunset.EINVALID, "pausing %s needs a reason: it is kept in the audit log", name)
	}
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

// Resume returns a paused sunset to the state it was paused in, or to the state the sign-offs
// given during the pause imply: a sunset paused in draft whose stakeholders have all signed off
// since is scheduled. Actions that fell due while it was paused run next, in timeline order, and
// move it on as far as the timeline has reached. An action that had failed (and paused the
// sunset) is retried afresh, with its attempts forgotten; so is one the engine held on a sunset
// that could not be paused (shut down), which Resume retries without a state change. A reason
// is required: resuming is an operator's decision.
func (e *Engine) Resume(ctx context.Context, name, actor, reason string) (*Sunset, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, sunset.Errorf(sunset.EINVALID, "resuming %s needs a reason: it is kept in the audit log", name)
	}
	return e.mutate(ctx, name, func(tx Tx, s *Sunset) error {
		if s.State != StatePaused {
			if s.State != StateCancelled {
				n, err := e.retryHeld(ctx, tx, s.ID)
				if err != nil {
					return err
				}
				if n > 0 {
					return e.appendEvent(ctx, tx, s, "sunset.resumed", actor, map[string]any{"reason": reason, "from": s.State, "to": s.State, "retried": n})
				}
			}
			return sunset.Errorf(sunset.ECONFLICT, "sunset %s is %s, not paused", s.Name, s.State)
		}
		from := s.PausedFrom
		s.State, s.PausedFrom = from, ""
		to := s.State
		var p *plan.Plan
		if s.State == StateDraft {
			var err error
			if p, err = e.parseStored(s); err != nil {
				return err
			}
			if allSignedOff(p, s) {
				to = StateScheduled
			}
		}
		if err := e.appendEvent(ctx, tx, s, "sunset.resumed", actor, map[string]any{"reason": reason, "from": from, "to": to}); err != nil {
			return err
		}
		if p != nil {
			// Sign-offs given during the pause count now, as they would have then.
			if err := e.maybeSchedule(ctx, tx, s, p, actor); err != nil {
				return err
			}
		}
		if s.State != StateDraft {
			if _, err := e.retryHeld(ctx, tx, s.ID); err != nil {
				return err
			}
			if err := e.setActions(ctx, tx, s.ID, []ActionStatus{ActionHeld}, ActionPending); err != nil {
				return err
			}
		}
		return e.scheduled(ctx, tx, s, nil)
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
// signed off, a draft sunset is scheduled and its actions start to run when due; a sunset paused
// in draft keeps the sign-off and is scheduled when it resumes. Signing off a cancelled,
// shut-down or evaluated sunset is a sunset.ECONFLICT error, a name that is not a stakeholder
// of the plan sunset.EINVALID.
func (e *Engine) Signoff(ctx context.Context, name, stakeholder, actor string) (*Sunset, error) {
	return e.mutate(ctx, name, func(tx Tx, s *Sunset) error {
		switch s.State {
		case StateCancelled, StateShutDown, StateEvaluated:
			return sunset.Errorf(sunset.ECONFLICT, "sunset %s is %s; a sign-off is for a plan still ahead", s.Name, s.State)
		}
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
		s.Signoffs = append(s.Signoffs, stakeholder)
		if err := e.appendEvent(ctx, tx, s, "stakeholder.signed_off", actor, map[string]any{
			"stakeholder": stakeholder, "revision": s.Revision, "plan_hash": s.PlanHash,
		}); err != nil {
			return err
		}
		return e.maybeSchedule(ctx, tx, s, p, actor)
	})
}

// allSignedOff reports whether every stakeholder p names has signed off s.
func allSignedOff(p *plan.Plan, s *Sunset) bool {
	for _, n := range stakeholderNames(p) {
		if !slices.Contains(s.Signoffs, n) {
			return false
		}
	}
	return true
}

// maybeSchedule moves a draft sunset whose stakeholders have all signed off to scheduled.
func (e *Engine) maybeSchedule(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan, actor string) error {
	if s.State != StateDraft || !allSignedOff(p, s) {
		return nil
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
