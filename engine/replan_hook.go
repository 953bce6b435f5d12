package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// ReplanHook is told about every re-plan inside the transaction that records it, so that its
// effects (notify queues "schedule changed" notices) commit exactly once with the re-plan. An
// error aborts the re-plan: nothing is stored.
type ReplanHook interface {
	Replanned(ctx context.Context, r *Replan) error
}

// Replan is what a ReplanHook is given: the sunset with its new plan and revision already set,
// the new plan parsed, and what moved.
type Replan struct {
	Tx     Tx
	Sunset *Sunset
	Plan   *plan.Plan
	Result *ApplyResult
	Now    time.Time
}

// OnReplan makes h run on every re-plan. Set it before Start; a later call replaces it.
func (e *Engine) OnReplan(h ReplanHook) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.replanHook = h
}

func (e *Engine) replanned(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan, res *ApplyResult, now time.Time) error {
	e.mu.Lock()
	h := e.replanHook
	e.mu.Unlock()
	if h == nil {
		return nil
	}
	if err := h.Replanned(ctx, &Replan{Tx: tx, Sunset: s, Plan: p, Result: res, Now: now}); err != nil {
		return fmt.Errorf("re-plan of %s: %w", s.Name, err)
	}
	return nil
}
