package runbook

import (
	"context"
	"fmt"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
)

// Interface guard.
var _ Notifier = (*NoticeQueue)(nil)

// NoticeQueue is the notify step: it queues the template to the plan's audience in the notify
// outbox (notify.Handler.QueueTemplate), in one transaction with the sunset locked; the delivery
// worker of `sunset serve` sends it.
type NoticeQueue struct {
	// Tx runs fn in one transaction (store.DB.InTx).
	Tx      func(ctx context.Context, fn func(engine.Tx) error) error
	Handler *notify.Handler
	// Runtime tells the time the notice is queued at.
	Runtime sunset.Runtime
}

// Notify queues template for the sunset named name, as plan p says, and says what it queued.
func (n *NoticeQueue) Notify(ctx context.Context, name string, p *plan.Plan, template string) (string, error) {
	var q notify.Queued
	err := n.Tx(ctx, func(tx engine.Tx) error {
		s, err := tx.LockSunset(ctx, name)
		if err != nil {
			return err
		}
		q, err = n.Handler.QueueTemplate(ctx, tx, s, p, template, n.Runtime.Now().UTC())
		return err
	})
	if err != nil {
		return "", err
	}
	if q.Deliveries == 0 && q.Recipients > 0 {
		return fmt.Sprintf("notice %s (%s) was already queued to its %d recipients (%s); nothing new to send", template, q.Notice, q.Recipients, q.Audience), nil
	}
	return fmt.Sprintf("queued notice %s (%s) to %s: %d recipients, %d deliveries, %d suppressed", template, q.Notice, q.Audience, q.Recipients, q.Deliveries, q.Suppressed), nil
}
