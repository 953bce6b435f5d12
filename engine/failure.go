package engine

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// DefaultActionAttempts is how many times in a row an action may fail before the engine pauses
// its sunset (Config.ActionAttempts).
const DefaultActionAttempts = 5

// DefaultActionRetry is the wait before an action that failed is tried again; each further
// failure doubles it, up to maxActionRetry (Config.ActionRetry). With the defaults a failing
// action is tried at 0 s, 10 s, 30 s, 70 s and 150 s, and its sunset pauses about 2.5 minutes
// after the first failure.
const DefaultActionRetry = 10 * time.Second

const maxActionRetry = 5 * time.Minute

// StallHook is told when the engine pauses a sunset because one of its actions kept failing,
// inside the transaction that pauses it, so that what it does (notify queues one message to the
// owners) commits exactly once with the pause. An error leaves the pause undone; the action is
// tried again.
type StallHook interface {
	ActionStalled(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan, a *Action, now time.Time) error
}

// OnStall makes h run whenever a failing action pauses its sunset. Set it before Start.
func (e *Engine) OnStall(h StallHook) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stallHook = h
}

// retryAfter is the wait after the n-th failure in a row (n >= 1).
func (e *Engine) retryAfter(n int) time.Duration {
	d := e.actionRetry
	for i := 1; i < n && d < maxActionRetry; i++ {
		d *= 2
	}
	return min(d, maxActionRetry)
}

// recordFailure writes down, in its own transaction, that the action of job failed with cause
// (the transaction that ran it was rolled back): its attempts, its error in words, when it
// started failing and when it is tried again. The first failure of a run of failures is one
// WARN line. After Config.ActionAttempts failures in a row the sunset pauses itself, naming the
// action (Event sunset.paused by actor "engine"), and its owners are told (OnStall); a sunset
// that can no longer be paused (shut down) holds the action instead (Event action.held). The
// job is completed either way: the engine, not River, decides when the action runs again.
func (e *Engine) recordFailure(ctx context.Context, job *river.Job[actionArgs], cause error) error {
	args := job.Args
	msg := strings.TrimSpace(cause.Error())
	return e.store.InTx(ctx, func(tx Tx) error {
		complete := func() error {
			_, err := river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx.SQL(), job)
			return err
		}
		s, err := tx.LockSunset(ctx, args.Sunset)
		if err != nil {
			return err
		}
		a, err := tx.GetAction(ctx, s.ID, args.Key)
		if err != nil {
			return err
		}
		if a.Status != ActionEnqueued || !a.At.Equal(args.At) {
			return complete() // moved or withdrawn meanwhile: nothing failed that still counts
		}
		now := e.now()
		a.Attempts++
		a.LastError = msg
		if a.FailingSince.IsZero() {
			a.FailingSince = now
			e.rt.Log().Warn("action failing; the actions after it wait", "sunset", s.Name, "action", a.Key,
				"kind", a.Kind, "err", msg, "attempts_before_pause", e.actionAttempts)
		}
		a.Status, a.RetryAt = ActionPending, now.Add(e.retryAfter(a.Attempts))
		if a.Attempts < e.actionAttempts {
			if err := tx.PutAction(ctx, a); err != nil {
				return err
			}
			return complete()
		}
		a.Status, a.RetryAt = ActionHeld, time.Time{}
		if err := tx.PutAction(ctx, a); err != nil {
			return err
		}
		data := map[string]any{
			"reason":   fmt.Sprintf("action %s failed %d times in a row: %s", a.Key, a.Attempts, msg),
			"action":   a.Key,
			"kind":     a.Kind,
			"error":    msg,
			"attempts": a.Attempts,
		}
		switch s.State {
		case StatePaused, StateCancelled, StateShutDown, StateEvaluated:
			// A shut-down sunset is not paused (its users' phase is final): only the action
			// waits for an operator, as does one already paused.
			e.rt.Log().Warn("action held after failing; an operator retries (sunset resume) or skips it (sunset skip)",
				"sunset", s.Name, "action", a.Key, "attempts", a.Attempts, "err", msg)
			if err := e.appendEvent(ctx, tx, s, "action.held", "engine", data); err != nil {
				return err
			}
		default:
			if err := e.setActions(ctx, tx, s.ID, []ActionStatus{ActionPending, ActionEnqueued}, ActionHeld); err != nil {
				return err
			}
			s.PausedFrom, s.State = s.State, StatePaused
			data["from"] = s.PausedFrom
			p, err := e.parseStored(s)
			if err != nil {
				return err
			}
			if err := e.scheduled(ctx, tx, s, p); err != nil {
				return err
			}
			if err := e.appendEvent(ctx, tx, s, "sunset.paused", "engine", data); err != nil {
				return err
			}
			e.mu.Lock()
			h := e.stallHook
			e.mu.Unlock()
			if h != nil {
				if err := h.ActionStalled(ctx, tx, s, p, a, now); err != nil {
					return fmt.Errorf("tell the owners of %s: %w", s.Name, err)
				}
			}
			e.rt.Log().Warn("sunset paused: an action kept failing; an operator retries (sunset resume), skips (sunset skip) or fixes it",
				"sunset", s.Name, "action", a.Key, "attempts", a.Attempts, "err", msg)
		}
		s.UpdatedAt = now
		if err := tx.UpdateSunset(ctx, s); err != nil {
			return err
		}
		return complete()
	})
}

// Skip marks the sunset's action key skipped: it never runs, and the actions after it run when
// due. It is the operator's answer to an action that keeps failing, so a reason is required
// (sunset.EINVALID without one) and recorded with the action's last error (Event
// action.skipped). A sunset the engine paused for that action resumes with the skip (Event
// sunset.resumed): skipping is the decision to go on. An action that is done, superseded,
// cancelled or skipped already cannot be skipped (sunset.ECONFLICT), nor can a milestone that
// moves the sunset's state, except shutdown's successors: a skipped milestone would leave the
// sunset's state behind its timeline.
func (e *Engine) Skip(ctx context.Context, name, key, actor, reason string) (*Sunset, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, sunset.Errorf(sunset.EINVALID, "skipping an action of %s needs a reason: it is kept in the audit log", name)
	}
	return e.mutate(ctx, name, func(tx Tx, s *Sunset) error {
		a, err := tx.GetAction(ctx, s.ID, key)
		if err != nil {
			return err
		}
		switch a.Status {
		case ActionDone, ActionSuperseded, ActionCancelled, ActionSkipped:
			return sunset.Errorf(sunset.ECONFLICT, "action %s of %s is %s and cannot be skipped", key, s.Name, a.Status)
		case ActionEnqueued:
			return sunset.Errorf(sunset.ECONFLICT, "action %s of %s is running now; skip it when it has failed", key, s.Name)
		}
		if a.Kind == string(plan.KindMilestone) {
			if _, moves := milestoneState[a.Name]; moves {
				return sunset.Errorf(sunset.EINVALID, "milestone %s moves %s to its next state and cannot be skipped; re-plan instead", a.Name, s.Name)
			}
		}
		failed, lastErr, attempts := a.Attempts > 0, a.LastError, a.Attempts
		now := e.now()
		a.Status, a.DoneAt = ActionSkipped, now
		a.RetryAt = time.Time{}
		if err := tx.PutAction(ctx, a); err != nil {
			return err
		}
		if err := e.appendEvent(ctx, tx, s, "action.skipped", actor, map[string]any{
			"key": a.Key, "kind": a.Kind, "name": a.Name, "reason": reason, "planned_at": a.At.UTC(),
			"attempts": attempts, "error": lastErr,
		}); err != nil {
			return err
		}
		if s.State == StatePaused && failed && s.PausedFrom != StateDraft {
			from := s.PausedFrom
			s.State, s.PausedFrom = from, ""
			if err := e.appendEvent(ctx, tx, s, "sunset.resumed", actor, map[string]any{
				"reason": "skipped " + a.Key + ": " + reason, "from": from, "to": from,
			}); err != nil {
				return err
			}
			if err := e.setActions(ctx, tx, s.ID, []ActionStatus{ActionHeld}, ActionPending); err != nil {
				return err
			}
		}
		return e.scheduled(ctx, tx, s, nil)
	})
}

// retryHeld gives every held action that had failed a fresh start (its attempts forgotten) and
// makes it pending: the operator retries it.
func (e *Engine) retryHeld(ctx context.Context, tx Tx, sunsetID int64) (int, error) {
	acts, err := tx.ListActions(ctx, sunsetID)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range acts {
		a := &acts[i]
		if a.Status == ActionHeld && a.Attempts > 0 {
			a.clearFailure()
			a.Status = ActionPending
			if err := tx.PutAction(ctx, a); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
