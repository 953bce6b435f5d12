package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
)

// phaseSwitchActor is the actor of the phase switches runbook steps make.
const phaseSwitchActor = "runbook"

// phaseSwitch is the runbook's gateway step: it keeps the phase as the sunset's override in the
// store, which the control plane's policy route and the in-process gateway apply on top of the
// plan, then records a gateway.phase_switched Event. Both writes are idempotent, so a step run
// again after a crash between them completes the record.
type phaseSwitch struct {
	st  *store.DB
	eng *engine.Engine
	now func() time.Time

	mu    sync.Mutex
	hooks []func(ctx context.Context) // run after a switch: the in-process gateway's refresh
}

// Interface guard.
var _ runbook.PhaseSwitcher = (*phaseSwitch)(nil)

// onSwitch adds fn to what runs after each switch.
func (p *phaseSwitch) onSwitch(fn func(ctx context.Context)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hooks = append(p.hooks, fn)
}

// SetPhase switches the sunset's gateways to phase from now on.
func (p *phaseSwitch) SetPhase(ctx context.Context, name, phase string) error {
	ph, ok := policy.ParsePhase(phase)
	if !ok {
		return sunset.Errorf(sunset.EINVALID, "Unknown gateway phase %q; use one of %v.", phase, plan.GatewayPhases)
	}
	if _, err := p.eng.Get(ctx, name); err != nil {
		return err
	}
	prev, err := p.st.GetPhaseOverride(ctx, name)
	if err != nil {
		return err
	}
	at := p.now().UTC()
	if prev.Phase == ph.String() && !prev.At.IsZero() {
		at = prev.At // the same switch again (a retried step): it still holds from the first
	}
	o := store.PhaseOverride{Sunset: name, Phase: ph.String(), Actor: phaseSwitchActor, Reason: "runbook gateway step", At: at}
	if err := p.st.SetPhaseOverride(ctx, o); err != nil {
		return err
	}
	p.mu.Lock()
	hooks := append([]func(context.Context){}, p.hooks...)
	p.mu.Unlock()
	for _, fn := range hooks {
		fn(ctx)
	}
	return p.eng.RecordEvent(ctx, name, "gateway.phase_switched", phaseSwitchActor,
		map[string]any{"phase": ph.String(), "previous": prev.Phase, "at": at.Format(time.RFC3339Nano)})
}

// noticeQueue is the runbook's notify step: it queues the template to the plan's audience in the
// notify outbox (notify.Handler.QueueTemplate), in one transaction with the sunset locked; the
// delivery worker of `sunset serve` sends it.
type noticeQueue struct {
	st  *store.DB
	h   *notify.Handler
	now func() time.Time
}

// Interface guard.
var _ runbook.Notifier = (*noticeQueue)(nil)

// Notify queues template for the sunset named name, as plan p says.
func (n *noticeQueue) Notify(ctx context.Context, name string, p *plan.Plan, template string) (string, error) {
	var q notify.Queued
	err := n.st.InTx(ctx, func(tx engine.Tx) error {
		s, err := tx.LockSunset(ctx, name)
		if err != nil {
			return err
		}
		q, err = n.h.QueueTemplate(ctx, tx, s, p, template, n.now().UTC())
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

// runbookCollaborators gives r the gateway, drain and notify steps' collaborators over st and
// eng: the phase switch, the gateways' counters and the notify outbox. It returns the phase
// switch, for the in-process gateway's refresh hook.
func runbookCollaborators(r *runbook.Runner, st *store.DB, eng *engine.Engine, now func() time.Time) *phaseSwitch {
	ps := &phaseSwitch{st: st, eng: eng, now: now}
	r.Phases = ps
	r.Traffic = &runbook.CounterRate{Count: st.Usage().Total}
	r.Notifier = &noticeQueue{st: st, h: &notify.Handler{Outbox: st.Outbox(), OpenContacts: openContacts}, now: now}
	return ps
}
