package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// ShiftResult says what Shift did.
type ShiftResult struct {
	ApplyResult
	// Shifted lists the plan's instants that moved.
	Shifted []plan.ShiftedInstant `json:"shifted"`
}

// Shift moves every instant of the sunset's plan that has not happened yet — still ahead, or
// held back by a pause — by `by` ("14d", "-1w"), keeps what has happened, and re-plans the sunset with the result: future actions move, the
// difference is recorded (plan.replanned), and the shift itself with its reason is an Event
// ("sunset.shifted"). The new plan text is stored as the sunset's next revision. A reason is
// required.
func (e *Engine) Shift(ctx context.Context, name, by, actor, reason string) (*ShiftResult, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, sunset.Errorf(sunset.EINVALID, "shifting %s needs a reason", name)
	}
	res := &ShiftResult{}
	err := e.store.InTx(ctx, func(tx Tx) error {
		s, err := tx.LockSunset(ctx, name)
		if err != nil {
			return err
		}
		switch s.State {
		case StateCancelled, StateShutDown, StateEvaluated:
			return sunset.Errorf(sunset.ECONFLICT, "sunset %s is %s; its dates can no longer move", s.Name, s.State)
		}
		now := e.now()
		// What has not happened yet moves: instants ahead, and those a pause held back.
		from := now
		acts, err := tx.ListActions(ctx, s.ID)
		if err != nil {
			return err
		}
		for _, a := range acts {
			if (a.Status == ActionHeld || a.Status == ActionPending || a.Status == ActionEnqueued) && a.At.Before(from) {
				from = a.At
			}
		}
		file := s.Name + ".yaml"
		data, moved, err := plan.Shift(file, s.Plan, by, from)
		if err != nil {
			return &sunset.Error{Code: sunset.EINVALID, Message: "cannot shift " + s.Name + ": " + err.Error()}
		}
		p, problems := plan.ParseStored(file, data)
		if problems.Err() != nil {
			return invalidPlan(problems)
		}
		tl, err := p.Compile()
		if err != nil {
			return &sunset.Error{Code: sunset.EINVALID, Message: err.Error()}
		}
		sum := sha256.Sum256(data)
		res.Shifted = moved
		res.Changed = true
		if err := e.appendEvent(ctx, tx, s, "sunset.shifted", actor, map[string]any{
			"by": by, "reason": reason, "shifted": moved,
		}); err != nil {
			return err
		}
		return e.replan(ctx, tx, s, p, tl, data, hex.EncodeToString(sum[:]), actor, now, &res.ApplyResult)
	})
	if err != nil {
		return nil, err
	}
	normalize(res.Sunset)
	return res, nil
}
