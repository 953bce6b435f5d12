package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// ScheduleHook is told, inside the transaction that changes them, whenever a sunset's actions
// are scheduled anew: when a plan is first applied, on every re-plan (a shift included), when
// the sunset is paused (by an operator or a guardrail) or resumed, and when it is cancelled. notify uses it to queue each owner's task reminder ahead of every
// action they answer for, and to withdraw the reminders of actions that moved or went away. An
// error aborts the change: nothing is stored.
type ScheduleHook interface {
	Scheduled(ctx context.Context, s *Schedule) error
}

// Schedule is what a ScheduleHook is given: the sunset as it will be stored, its plan parsed, and
// its actions as they now stand (timeline order, with their statuses).
type Schedule struct {
	Tx      Tx
	Sunset  *Sunset
	Plan    *plan.Plan
	Actions []Action
	Now     time.Time
}

// OnSchedule makes h run whenever a sunset's actions are scheduled anew. Set it before the first
// Apply (a plan applied before it has no hook run for it until its next re-plan); a later call
// replaces it.
func (e *Engine) OnSchedule(h ScheduleHook) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.scheduleHook = h
}

// scheduled runs the schedule hook for s, whose actions tx has just written. p may be nil: the
// stored plan is parsed then.
func (e *Engine) scheduled(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan) error {
	e.mu.Lock()
	h := e.scheduleHook
	e.mu.Unlock()
	if h == nil {
		return nil
	}
	if p == nil {
		var err error
		if p, err = e.parseStored(s); err != nil {
			return err
		}
	}
	acts, err := tx.ListActions(ctx, s.ID)
	if err != nil {
		return err
	}
	if err := h.Scheduled(ctx, &Schedule{Tx: tx, Sunset: s, Plan: p, Actions: acts, Now: e.now()}); err != nil {
		return fmt.Errorf("schedule of %s: %w", s.Name, err)
	}
	return nil
}

// Reschedule runs the schedule hook for every sunset that is not cancelled, each in its own
// transaction with the sunset locked, and returns how many it ran for: a server calls it at
// start, so that sunsets applied before the hook was set (or by a version without it) get what
// it schedules too. Running it again changes nothing.
func (e *Engine) Reschedule(ctx context.Context) (int, error) {
	e.mu.Lock()
	h := e.scheduleHook
	e.mu.Unlock()
	if h == nil {
		return 0, nil
	}
	all, err := e.store.ListSunsets(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range all {
		if s.State == StateCancelled || s.State == StateEvaluated {
			continue
		}
		err := e.store.InTx(ctx, func(tx Tx) error {
			locked, err := tx.LockSunset(ctx, s.Name)
			if err != nil {
				return err
			}
			return e.scheduled(ctx, tx, locked, nil)
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
