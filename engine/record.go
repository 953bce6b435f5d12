package engine

import "context"

// RecordEvent appends an Event of type typ by actor to the sunset's hash-chained log, in its own
// transaction. Workers outside the timeline (the runbook runner) use it for what must be on the
// record: approvals, overrides, steps done.
func (e *Engine) RecordEvent(ctx context.Context, name, typ, actor string, data map[string]any) error {
	_, err := e.mutate(ctx, name, func(tx Tx, s *Sunset) error {
		return e.appendEvent(ctx, tx, s, typ, actor, data)
	})
	return err
}
