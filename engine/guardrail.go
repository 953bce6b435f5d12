package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// Signals measures live signals for guardrail conditions. Capability packages implement it for
// the signals they own ("feedback", "consumers", "gateway") and register it with
// Engine.RegisterSignals. It runs inside the engine's transaction: read through tx (on SQLite
// the pool has one connection, held by tx).
type Signals interface {
	// Signal returns the current value of c.Signal for the sunset, measured over c.Over and
	// narrowed by c.Labels. ok is false when there is no data yet; such a guardrail does not trip.
	Signal(ctx context.Context, tx Tx, s *Sunset, c plan.Condition, now time.Time) (value float64, ok bool, err error)
}

// SignalsFunc adapts a function to Signals.
type SignalsFunc func(ctx context.Context, tx Tx, s *Sunset, c plan.Condition, now time.Time) (float64, bool, error)

// Signal calls f.
func (f SignalsFunc) Signal(ctx context.Context, tx Tx, s *Sunset, c plan.Condition, now time.Time) (float64, bool, error) {
	return f(ctx, tx, s, c, now)
}

// Suspicion is implemented by a Signals whose values outsiders can drive (the public's
// feedback): Suspect judges a condition that holds, and returns why its trip may have been forced
// from outside, or nil when nothing looks forced.
type Suspicion interface {
	Suspect(ctx context.Context, tx Tx, s *Sunset, c plan.Condition, now time.Time) (*SuspectTrip, error)
}

// SuspectTrip says why a guardrail's trip looks forced: most of the messages that drove its
// signal came in a burst from senders never seen before the window (docs/guardrails.md). The
// trip still pauses the sunset; the mark tells the operator to look before resuming.
type SuspectTrip struct {
	// Since is the start of the window judged.
	Since time.Time `json:"since"`
	// Driving is how many messages of the window pushed the signal; New how many of them came
	// from senders never seen before Since.
	Driving int `json:"driving"`
	New     int `json:"new"`
}

// RegisterSignals makes sig measure every signal whose name starts with source + "." (for
// example "feedback" for feedback.negative_ratio). Register before Start.
func (e *Engine) RegisterSignals(source string, sig Signals) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.signals == nil {
		e.signals = map[string]Signals{}
	}
	e.signals[source] = sig
}

// TripHook is told when guardrails pause a sunset, inside the transaction that pauses it, so
// that what it does (notify queues a message to the owners) commits exactly once with the
// pause. An error keeps the sunset running and is retried with the step.
type TripHook interface {
	GuardrailTripped(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan, tripped []GuardrailResult, now time.Time) error
}

// WarnHook, when the TripHook also implements it, tells the owners about guardrails whose
// reaction is notify: the sunset goes on, someone must look. It runs inside the transaction that
// evaluated them, on every evaluation that finds them tripped, and returns how many of them it
// told anyone about now — zero when they were already told (once a day per guardrail is the
// hook's rule), so that the engine records a "guardrail.warned" event per warning sent, not
// per evaluation.
type WarnHook interface {
	GuardrailWarned(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan, warned []GuardrailResult, now time.Time) (told int, err error)
}

// OnTrip makes h run whenever guardrails pause a sunset. Set it before Start.
func (e *Engine) OnTrip(h TripHook) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tripHook = h
}

// GuardrailResult is one guardrail's evaluation.
type GuardrailResult struct {
	Name      string  `json:"name"`
	Condition string  `json:"condition"`
	Then      string  `json:"then"`
	Value     float64 `json:"value"`
	// Measured is false when no Signals is registered for the signal or it has no data yet.
	Measured bool `json:"measured"`
	// Sample is what a ratio signal was measured over (messages, consumers, answers), and
	// MinSample the smallest sample it is judged on; both zero for count signals.
	Sample    int `json:"sample,omitempty"`
	MinSample int `json:"min_sample,omitempty"`
	// Armed is false until the sunset is announced: before, a guardrail whose condition holds
	// pauses nothing (Status would_trip).
	Armed bool `json:"armed"`
	// Tripped is true when the condition holds on enough data and the guardrail is armed.
	Tripped bool `json:"tripped"`
	// Status sums the evaluation up: tripped, would_trip (holds, not armed yet), holding,
	// not_enough_data (a ratio below its minimum sample) or no_data.
	Status string `json:"status"`
	// Suspect, on a tripped (or would-trip) guardrail, says that a burst from senders never
	// seen before drove it; nil otherwise.
	Suspect *SuspectTrip `json:"suspect,omitempty"`
}

// Guardrail statuses, as GuardrailResult.Status reports them.
const (
	GuardTripped       = "tripped"
	GuardWouldTrip     = "would_trip"
	GuardHolding       = "holding"
	GuardNotEnoughData = "not_enough_data"
	GuardNoData        = "no_data"
)

// armed reports whether guardrails of s may pause it: once it has been announced (and until it
// is cancelled). Before the announcement nobody has been told, so there is no reaction to
// watch, and a condition such as "critical consumers are active" holds trivially.
func armed(s *Sunset) bool {
	st := s.State
	if st == StatePaused {
		st = s.PausedFrom
	}
	switch st {
	case StateAnnounced, StateDeprecating, StateReadOnly, StateShutDown, StateEvaluated:
		return true
	}
	return false
}

// guards reports whether actions of kind must pass the guardrails first: anything that changes
// what users get (a milestone, a feature phase, a brownout) or starts the shutdown procedure.
func guards(kind string) bool {
	switch plan.ActionKind(kind) {
	case plan.KindMilestone, plan.KindFeature, plan.KindBrownout, plan.KindRunbook, plan.KindData, plan.KindGuardrail:
		return true
	}
	return false
}

// evaluateGuardrails measures every guardrail of p that applies at now (those whose `from`
// instant has come and whose `before` instant has not). Guardrails whose signal has no registered source are reported as not
// measured.
func (e *Engine) evaluateGuardrails(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan, now time.Time) ([]GuardrailResult, error) {
	if len(p.Guardrails) == 0 {
		return nil, nil
	}
	ms, err := p.MilestoneTimes()
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	sources := e.signals
	e.mu.Unlock()
	var out []GuardrailResult
	for i, g := range p.Guardrails {
		if g.Before != nil {
			until, err := p.Resolve(*g.Before, ms)
			if err == nil && !now.Before(until) {
				continue
			}
		}
		if g.From != nil {
			from, err := p.Resolve(*g.From, ms)
			if err == nil && now.Before(from) {
				continue
			}
		}
		c, err := plan.ParseCondition(g.When)
		if err != nil {
			return nil, fmt.Errorf("guardrail %d: %w", i, err)
		}
		r := GuardrailResult{Name: g.Name, Condition: g.When, Then: g.Then}
		if r.Name == "" {
			r.Name = "guardrail-" + strconv.Itoa(i)
		}
		if r.Then == "" {
			r.Then = "pause"
		}
		r.Armed = armed(s)
		r.Status = GuardNoData
		source, _, _ := strings.Cut(c.Signal, ".")
		if sig := sources[source]; sig != nil {
			v, ok, err := sig.Signal(ctx, tx, s, c, now)
			if err != nil {
				return nil, fmt.Errorf("guardrail %s: measure %s: %w", r.Name, c.Signal, err)
			}
			r.Value, r.Measured = v, ok
			enough := ok
			if sample := plan.SampleSignals[c.Signal]; sample != "" && ok {
				r.MinSample = plan.DefaultMinSample
				if g.MinSample != nil {
					r.MinSample = *g.MinSample
				}
				sc := c
				sc.Signal = sample
				n, _, err := sig.Signal(ctx, tx, s, sc, now)
				if err != nil {
					return nil, fmt.Errorf("guardrail %s: measure %s: %w", r.Name, sample, err)
				}
				r.Sample = int(n)
				enough = r.Sample >= r.MinSample
			}
			switch {
			case !ok:
			case !enough:
				r.Status = GuardNotEnoughData
			case !c.Holds(v):
				r.Status = GuardHolding
			case r.Armed:
				r.Tripped, r.Status = true, GuardTripped
			default:
				r.Status = GuardWouldTrip
			}
			if judge, ok := sig.(Suspicion); ok && (r.Status == GuardTripped || r.Status == GuardWouldTrip) {
				if r.Suspect, err = judge.Suspect(ctx, tx, s, c, now); err != nil {
					return nil, fmt.Errorf("guardrail %s: judge %s: %w", r.Name, c.Signal, err)
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// checkGuardrails evaluates the guardrails before an action (or on a guardrail check). When one
// whose reaction is pause has tripped, it pauses the sunset, records a "guardrail.tripped" event
// with the values, and reports true: the caller must not run the action. A tripped guardrail
// whose reaction is notify records "guardrail.warned" and lets the action run.
func (e *Engine) checkGuardrails(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan, a *Action, now time.Time) (paused bool, results []GuardrailResult, err error) {
	results, err = e.evaluateGuardrails(ctx, tx, s, p, now)
	if err != nil {
		return false, nil, err
	}
	var tripped, warned []GuardrailResult
	for _, r := range results {
		switch {
		case !r.Tripped:
		case r.Then == "pause":
			tripped = append(tripped, r)
		default:
			warned = append(warned, r)
		}
	}
	before := map[string]any{}
	if a != nil {
		before = map[string]any{"key": a.Key, "kind": a.Kind, "name": a.Name, "planned_at": a.At}
	}
	if len(warned) > 0 {
		if err := e.warn(ctx, tx, s, p, warned, before, now); err != nil {
			return false, nil, err
		}
	}
	if len(tripped) == 0 {
		return false, results, nil
	}
	if err := e.setActions(ctx, tx, s.ID, []ActionStatus{ActionPending, ActionEnqueued}, ActionHeld); err != nil {
		return false, nil, err
	}
	s.PausedFrom, s.State = s.State, StatePaused
	if err := e.scheduled(ctx, tx, s, nil); err != nil {
		return false, nil, err
	}
	data := map[string]any{"guardrails": tripped, "before": before, "paused_from": s.PausedFrom}
	suspect := suspectTrip(tripped)
	if suspect {
		// The pause stands; the mark tells whoever reads the record to check the senders first.
		data["suspect"] = true
	}
	if err := e.appendEvent(ctx, tx, s, "guardrail.tripped", "engine", data); err != nil {
		return false, nil, err
	}
	e.mu.Lock()
	hook := e.tripHook
	e.mu.Unlock()
	if hook != nil {
		if err := hook.GuardrailTripped(ctx, tx, s, p, tripped, now); err != nil {
			return false, nil, fmt.Errorf("tell the owners of %s: %w", s.Name, err)
		}
	}
	e.rt.Log().Warn("guardrail tripped: sunset paused", "sunset", s.Name, "guardrails", len(tripped), "suspect", suspect)
	return true, results, nil
}

// suspectTrip reports whether every guardrail that tripped is suspect: then nothing but a burst
// from new senders paused the sunset.
func suspectTrip(tripped []GuardrailResult) bool {
	for _, r := range tripped {
		if r.Suspect == nil {
			return false
		}
	}
	return len(tripped) > 0
}

// warn tells the owners about tripped guardrails whose reaction is notify, through the WarnHook,
// and records a "guardrail.warned" event when a warning went out: the report counts these trips.
// Without a hook nobody can be told, and the event is recorded before actions only (not on
// every check of the watcher).
func (e *Engine) warn(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan, warned []GuardrailResult, before map[string]any, now time.Time) error {
	e.mu.Lock()
	hook, _ := e.tripHook.(WarnHook)
	e.mu.Unlock()
	if hook == nil {
		if len(before) == 0 {
			return nil
		}
		return e.appendEvent(ctx, tx, s, "guardrail.warned", "engine", map[string]any{"guardrails": warned, "before": before})
	}
	told, err := hook.GuardrailWarned(ctx, tx, s, p, warned, now)
	if err != nil {
		return fmt.Errorf("warn the owners of %s: %w", s.Name, err)
	}
	if told == 0 {
		return nil
	}
	e.rt.Log().Warn("guardrail tripped: owners told, the sunset goes on", "sunset", s.Name, "guardrails", len(warned))
	return e.appendEvent(ctx, tx, s, "guardrail.warned", "engine", map[string]any{"guardrails": warned, "before": before, "told": true})
}

// Guardrails evaluates the sunset's guardrails now, without acting on them: what an operator
// sees before resuming.
func (e *Engine) Guardrails(ctx context.Context, name string) ([]GuardrailResult, error) {
	var out []GuardrailResult
	err := e.store.InTx(ctx, func(tx Tx) error {
		s, err := tx.LockSunset(ctx, name)
		if err != nil {
			return err
		}
		p, err := e.parseStored(s)
		if err != nil {
			return err
		}
		out, err = e.evaluateGuardrails(ctx, tx, s, p, e.now())
		return err
	})
	return out, err
}

// WatchGuardrails evaluates the guardrails of every sunset that is under way (announced to
// read_only) and pauses those where one trips. The dispatcher loop calls it every
// GuardrailInterval; tests call it directly.
func (e *Engine) WatchGuardrails(ctx context.Context) (paused []string, err error) {
	all, err := e.store.ListSunsets(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		switch s.State {
		case StateAnnounced, StateDeprecating, StateReadOnly:
		default:
			continue
		}
		err := e.store.InTx(ctx, func(tx Tx) error {
			s, err := tx.LockSunset(ctx, s.Name)
			if err != nil {
				return err
			}
			if s.State == StatePaused || s.State == StateCancelled {
				return nil
			}
			p, err := e.parseStored(s)
			if err != nil {
				return err
			}
			head := s.HeadSeq
			stop, _, err := e.checkGuardrails(ctx, tx, s, p, nil, e.now())
			if err != nil {
				return err
			}
			if stop {
				paused = append(paused, s.Name)
			}
			if s.HeadSeq == head {
				return nil
			}
			// Events were appended: the sunset's head must move with them.
			s.UpdatedAt = e.now()
			return tx.UpdateSunset(ctx, s)
		})
		if err != nil {
			return paused, err
		}
	}
	return paused, nil
}
