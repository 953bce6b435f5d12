package runbook

import (
	"context"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
)

// PhaseSwitchActor is the actor of the phase switches runbook steps make.
const PhaseSwitchActor = "runbook"

// PhaseOverride is the phase a sunset was switched to ahead of its timeline (a runbook's gateway
// step), by whom, why and when.
type PhaseOverride struct {
	Sunset string
	// Phase is a policy phase name: active (no override), deprecated, brownout, read_only,
	// gone or redirect.
	Phase  string
	Actor  string
	Reason string
	At     time.Time
}

// PhaseOverrides keeps each sunset's override. store.DB implements it.
type PhaseOverrides interface {
	// GetPhaseOverride returns the sunset's override; the zero value when it has none.
	GetPhaseOverride(ctx context.Context, sunset string) (PhaseOverride, error)
	// SetPhaseOverride keeps o as the sunset's override, replacing the one before.
	SetPhaseOverride(ctx context.Context, o PhaseOverride) error
}

// Interface guard.
var _ PhaseSwitcher = (*PhaseSwitch)(nil)

// PhaseSwitch is the gateway step: it keeps the phase as the sunset's override (which the
// control plane's policy route and the in-process gateway apply on top of the plan), runs the
// hooks added with OnSwitch, then records a gateway.phase_switched Event. Both writes are
// idempotent, so a step run again after a crash between them completes the record.
type PhaseSwitch struct {
	Overrides PhaseOverrides
	// Exists says whether the sunset is known: nil, or ENOTFOUND.
	Exists func(ctx context.Context, name string) error
	Events Events
	// Runtime tells the time the switch is recorded at.
	Runtime sunset.Runtime

	mu    sync.Mutex
	hooks []func(ctx context.Context)
}

// OnSwitch adds fn to what runs after each switch: the in-process gateway's refresh.
func (p *PhaseSwitch) OnSwitch(fn func(ctx context.Context)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hooks = append(p.hooks, fn)
}

// SetPhase switches the sunset's gateways to phase from now on. An unknown phase is EINVALID.
func (p *PhaseSwitch) SetPhase(ctx context.Context, name, phase string) error {
	ph, ok := policy.ParsePhase(phase)
	if !ok {
		return sunset.Errorf(sunset.EINVALID, "Unknown gateway phase %q; use one of %v.", phase, plan.GatewayPhases)
	}
	if p.Exists != nil {
		if err := p.Exists(ctx, name); err != nil {
			return err
		}
	}
	prev, err := p.Overrides.GetPhaseOverride(ctx, name)
	if err != nil {
		return err
	}
	at := p.Runtime.Now().UTC()
	if prev.Phase == ph.String() && !prev.At.IsZero() {
		at = prev.At // the same switch again (a retried step): it still holds from the first
	}
	o := PhaseOverride{Sunset: name, Phase: ph.String(), Actor: PhaseSwitchActor, Reason: "runbook gateway step", At: at}
	if err := p.Overrides.SetPhaseOverride(ctx, o); err != nil {
		return err
	}
	p.mu.Lock()
	hooks := append([]func(context.Context){}, p.hooks...)
	p.mu.Unlock()
	for _, fn := range hooks {
		fn(ctx)
	}
	if p.Events == nil {
		return nil
	}
	return p.Events.Record(ctx, name, "gateway.phase_switched", PhaseSwitchActor,
		map[string]any{"phase": ph.String(), "previous": prev.Phase, "at": at.Format(time.RFC3339Nano)})
}
