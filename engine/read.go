package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// Status is a sunset as operators see it: its record, its title, the next action due, and how
// many actions stand in each status.
type Status struct {
	*Sunset
	Service  string               `json:"service"`
	Title    plan.Text            `json:"title"`
	TimeZone string               `json:"timezone"`
	Next     *Action              `json:"next,omitempty"`
	Actions  map[ActionStatus]int `json:"actions"`
	Awaiting []string             `json:"awaiting_signoff,omitempty"`
	// Failing lists the actions whose last run failed and that have not run since, each with
	// its attempts, its last error in words and when it is tried again; Blocked the actions
	// already due that wait behind them (actions run one at a time in timeline order).
	Failing []Action `json:"failing,omitempty"`
	Blocked []Action `json:"blocked,omitempty"`
	// AttemptsBeforePause is how many failures in a row pause the sunset (Config.ActionAttempts).
	AttemptsBeforePause int `json:"attempts_before_pause"`
	// EnginePhase is the phase for users that the engine's state stands for (active,
	// deprecated, read_only, gone); GatewayPhase the phase the gateway enforces now, filled by
	// the control plane from the policy snapshot it serves. When they differ, PhasesDiverge is
	// true: the timeline's milestones have not caught up with the clock (or were switched ahead).
	EnginePhase   string `json:"engine_phase"`
	GatewayPhase  string `json:"gateway_phase,omitempty"`
	PhasesDiverge bool   `json:"phases_diverge,omitempty"`
}

// PhaseOfState is the phase for users a sunset's state stands for: "active" until it is
// deprecating, then "deprecated", "read_only", and "gone" once shut down. A paused sunset stands
// where it was paused; a draft or cancelled one changes nothing ("active").
func PhaseOfState(s *Sunset) string {
	st := s.State
	if st == StatePaused {
		st = s.PausedFrom
	}
	switch st {
	case StateDeprecating:
		return "deprecated"
	case StateReadOnly:
		return "read_only"
	case StateShutDown, StateEvaluated:
		return "gone"
	}
	return "active"
}

// Get returns the sunset named name (sunset.ENOTFOUND if there is none).
func (e *Engine) Get(ctx context.Context, name string) (*Sunset, error) {
	s, err := e.store.GetSunset(ctx, name)
	return normalize(s), err
}

// normalize makes an empty sign-off list an empty JSON array rather than null.
func normalize(s *Sunset) *Sunset {
	if s != nil && s.Signoffs == nil {
		s.Signoffs = []string{}
	}
	return s
}

// List returns every sunset, ordered by name.
func (e *Engine) List(ctx context.Context) ([]*Sunset, error) {
	all, err := e.store.ListSunsets(ctx)
	for _, s := range all {
		normalize(s)
	}
	return all, err
}

// Status describes one sunset.
func (e *Engine) Status(ctx context.Context, name string) (*Status, error) {
	s, err := e.store.GetSunset(ctx, name)
	if err != nil {
		return nil, err
	}
	return e.status(ctx, s)
}

// Statuses describes every sunset, ordered by name.
func (e *Engine) Statuses(ctx context.Context) ([]*Status, error) {
	all, err := e.store.ListSunsets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Status, 0, len(all))
	for _, s := range all {
		st, err := e.status(ctx, s)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (e *Engine) status(ctx context.Context, s *Sunset) (*Status, error) {
	acts, err := e.store.ListActions(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	st := &Status{Sunset: normalize(s), Service: s.Name, Actions: map[ActionStatus]int{}}
	if p, _ := plan.ParseStored(s.Name+".yaml", s.Plan); p != nil {
		st.Title = p.Service.Title
		st.TimeZone = p.Service.TimeZone
		for _, n := range stakeholderNames(p) {
			signed := false
			for _, x := range s.Signoffs {
				signed = signed || x == n
			}
			if !signed {
				st.Awaiting = append(st.Awaiting, n)
			}
		}
	}
	st.AttemptsBeforePause = e.actionAttempts
	st.EnginePhase = PhaseOfState(s)
	now := e.rt.Now()
	for i := range acts {
		a := &acts[i]
		st.Actions[a.Status]++
		if st.Next == nil && (a.Status == ActionPending || a.Status == ActionHeld || a.Status == ActionEnqueued) {
			st.Next = a
		}
		switch {
		case a.Failing():
			st.Failing = append(st.Failing, *a)
		case len(st.Failing) > 0 && !a.At.After(now) &&
			(a.Status == ActionPending || a.Status == ActionHeld || a.Status == ActionEnqueued):
			st.Blocked = append(st.Blocked, *a)
		}
	}
	return st, nil
}

// Actions returns the sunset's timeline actions with their status, ordered by instant.
func (e *Engine) Actions(ctx context.Context, name string) ([]Action, error) {
	s, err := e.store.GetSunset(ctx, name)
	if err != nil {
		return nil, err
	}
	return e.store.ListActions(ctx, s.ID)
}

// Events returns the sunset's events in order.
func (e *Engine) Events(ctx context.Context, name string) ([]Event, error) {
	s, err := e.store.GetSunset(ctx, name)
	if err != nil {
		return nil, err
	}
	return e.store.ListEvents(ctx, s.ID)
}

// Plan returns the sunset's current plan and its compiled timeline.
func (e *Engine) Plan(ctx context.Context, name string) (*plan.Plan, *plan.Timeline, error) {
	s, err := e.store.GetSunset(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	p, err := e.parseStored(s)
	if err != nil {
		return nil, nil, err
	}
	tl, err := p.Compile()
	if err != nil {
		return nil, nil, err
	}
	return p, tl, nil
}

// Verification is the result of checking a sunset's event chain.
type Verification struct {
	Sunset string `json:"sunset"`
	OK     bool   `json:"ok"`
	Events int    `json:"events"`
	// Head is the hash of the last event, which a reader can note to detect later truncation.
	Head     string   `json:"head"`
	Problems []string `json:"problems,omitempty"`
	// CheckedAt is the engine clock's instant of the check.
	CheckedAt time.Time `json:"checked_at"`
}

// VerifyEvents recomputes the hash chain of the sunset's events and reports every break: an
// event whose content no longer matches its hash (changed), a gap in the sequence or a link to a
// missing predecessor (removed), or a chain that ends before the head the sunset recorded
// (newest events removed) or goes past it (events added beside the engine).
//
// Other replicas may append while the chain is read: the sunset is read before and after the
// events, and the chain must hold the head seen before and end at or before the head seen after
// (an append commits its event and the head together).
func (e *Engine) VerifyEvents(ctx context.Context, name string) (*Verification, error) {
	before, err := e.store.GetSunset(ctx, name)
	if err != nil {
		return nil, err
	}
	evs, err := e.store.ListEvents(ctx, before.ID)
	if err != nil {
		return nil, err
	}
	after, err := e.store.GetSunset(ctx, name)
	if err != nil {
		return nil, err
	}
	v := &Verification{Sunset: before.Name, Events: len(evs), CheckedAt: e.now()}
	prevHash, wantSeq := "", int64(1)
	sawHead := before.HeadSeq == 0
	for _, ev := range evs {
		if ev.Seq != wantSeq {
			if ev.Seq > wantSeq {
				v.Problems = append(v.Problems, fmt.Sprintf("events %d to %d are missing (removed)", wantSeq, ev.Seq-1))
			} else {
				v.Problems = append(v.Problems, fmt.Sprintf("event %d appears out of order", ev.Seq))
			}
		}
		if ev.PrevHash != prevHash {
			v.Problems = append(v.Problems, fmt.Sprintf("event %d (%s) does not link to the event before it (an event was removed or changed)", ev.Seq, ev.Type))
		}
		if got := ev.ComputeHash(); got != ev.Hash {
			v.Problems = append(v.Problems, fmt.Sprintf("event %d (%s) does not match its hash (changed)", ev.Seq, ev.Type))
		}
		sawHead = sawHead || ev.Seq == before.HeadSeq && ev.Hash == before.HeadHash
		prevHash, wantSeq = ev.Hash, ev.Seq+1
	}
	last := wantSeq - 1
	switch {
	case !sawHead || last < before.HeadSeq:
		v.Problems = append(v.Problems, fmt.Sprintf("the chain ends at event %d but the sunset's head is event %d (newest events removed or changed)", last, before.HeadSeq))
	case last > after.HeadSeq || last == after.HeadSeq && prevHash != after.HeadHash:
		v.Problems = append(v.Problems, fmt.Sprintf("the chain ends at event %d past the sunset's head, event %d (events added or changed beside the engine)", last, after.HeadSeq))
	}
	v.Head = after.HeadHash
	v.OK = len(v.Problems) == 0
	return v, nil
}
