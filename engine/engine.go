// Package engine carries each Sunset through its Timeline. Applying a plan stores the Sunset and
// its actions; a dispatcher hands every due action to River, the durable job engine, which runs
// it exactly once: the action's effects, its Event and the job's completion commit in one
// transaction, so a crash at any point either leaves the action to run again or finds it done.
//
// Time is the engine's own Clock, not River's: the dispatcher decides what is due, so a rehearsal
// (--now) or a test can move through months of a plan without waiting.
package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// Handler performs the work of one kind of timeline action. It runs inside the transaction that
// records the action's Event and completes its job: anything it writes through run.Tx commits
// exactly once with them. A handler that talks to the outside world must make its effect
// idempotent by run.Action's key (the action may run again if the process dies before commit).
type Handler interface {
	Handle(ctx context.Context, run *Run) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, run *Run) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, run *Run) error { return f(ctx, run) }

// Run is what a Handler is given.
type Run struct {
	Tx     Tx
	Sunset *Sunset
	Plan   *plan.Plan
	Action *Action
	// Now is the engine clock's instant when the action started.
	Now time.Time
	// Data, when set by the handler, is recorded in the action's Event.
	Data map[string]any
}

// Engine runs sunsets. Create it with New, register handlers, then Start it. The zero value is
// not usable.
type Engine struct {
	store Store
	// rt is Config's Clock and Logger with their defaults.
	rt sunset.Runtime

	// PollInterval is how often the dispatcher looks for due actions. Default 1s.
	PollInterval time.Duration

	mu       sync.Mutex
	handlers map[plan.ActionKind]Handler
	// replanHook, when set, runs inside every re-plan's transaction (OnReplan).
	replanHook ReplanHook
	signals    map[string]Signals
	// tripHook, when set, runs inside the transaction that pauses a sunset on a guardrail (OnTrip).
	tripHook TripHook
	// scheduleHook, when set, runs whenever a sunset's actions are scheduled anew (OnSchedule).
	scheduleHook ScheduleHook
	// stallHook, when set, runs inside the transaction that pauses a sunset on a failing action
	// (OnStall).
	stallHook StallHook
	client    *river.Client[*sql.Tx]

	// actionAttempts and actionRetry are Config.ActionAttempts and Config.ActionRetry.
	actionAttempts int
	actionRetry    time.Duration

	// GuardrailInterval is how often the guardrails of sunsets under way are evaluated between
	// actions. Default 1m.
	GuardrailInterval time.Duration
	cancel            context.CancelFunc
	done              chan struct{}
	started           bool
}

// Config configures an Engine.
type Config struct {
	Store Store
	// Clock and Logger make the engine's sunset.Runtime (Runtime): the clock the timeline runs
	// on (default: the wall clock) and where its lines go (default: nowhere).
	Clock  sunset.Clock
	Logger *slog.Logger
	// Workers is how many actions run at once on this process. Default 4.
	Workers int
	// PollInterval is how often the dispatcher and River look for work. Default 1s.
	PollInterval time.Duration
	// GuardrailInterval is how often guardrails are evaluated between actions. Default 1m.
	GuardrailInterval time.Duration
	// ActionAttempts is how many times in a row an action may fail before the engine pauses its
	// sunset, naming the action, for an operator to retry (Resume), skip (Skip) or fix it.
	// Default DefaultActionAttempts.
	ActionAttempts int
	// ActionRetry is how long after its first failure an action is tried again, on the engine's
	// clock; each further failure doubles the wait, up to 5 minutes. Default DefaultActionRetry.
	ActionRetry time.Duration
	// ClientID names this process to River (its leader election and job attempts), e.g. the
	// replica's id; it must differ between processes. Empty lets River make one up.
	ClientID string
}

// actionArgs is the River job of one action. The worker runs the action only if it is still
// enqueued at At, so a job made stale by a re-plan or a pause does nothing.
type actionArgs struct {
	SunsetID int64     `json:"sunset_id"`
	Sunset   string    `json:"sunset"`
	Key      string    `json:"key"`
	At       time.Time `json:"at"`
}

func (actionArgs) Kind() string { return "sunset_action" }

// New returns an engine on cfg.Store. It builds the River client for the store's dialect but
// starts nothing.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("engine: no store")
	}
	rt := sunset.Runtime{Clock: cfg.Clock, Logger: cfg.Logger}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.GuardrailInterval <= 0 {
		cfg.GuardrailInterval = time.Minute
	}
	if cfg.ActionAttempts <= 0 {
		cfg.ActionAttempts = DefaultActionAttempts
	}
	if cfg.ActionRetry <= 0 {
		cfg.ActionRetry = DefaultActionRetry
	}
	e := &Engine{
		actionAttempts:    cfg.ActionAttempts,
		actionRetry:       cfg.ActionRetry,
		store:             cfg.Store,
		rt:                rt,
		PollInterval:      cfg.PollInterval,
		GuardrailInterval: cfg.GuardrailInterval,
		handlers:          map[plan.ActionKind]Handler{},
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &actionWorker{e: e}); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	driver := cfg.Store.RiverDriver()
	if driver == nil {
		return nil, errors.New("engine: the store supplies no River driver")
	}
	schema := ""
	if s, ok := cfg.Store.(interface{ Schema() string }); ok {
		schema = s.Schema()
	}
	riverLogger := rt.Log().With("component", "river")
	client, err := river.NewClient(driver, &river.Config{
		ID:                cfg.ClientID,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		Schema:            schema,
		PollOnly:          true, // database/sql drivers have no LISTEN/NOTIFY
		FetchPollInterval: max(min(cfg.PollInterval, 200*time.Millisecond), 50*time.Millisecond),
		FetchCooldown:     50 * time.Millisecond,
		Logger:            riverLogger,
		MaxAttempts:       10,
		// An action runs in one transaction and takes seconds (a 100k-recipient fan-out about
		// 6 s), so a job still running after 2 minutes is stuck; River rescues a job from a dead
		// process after RescueStuckJobsAfter, which must exceed JobTimeout.
		JobTimeout:           2 * time.Minute,
		RescueStuckJobsAfter: 3 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("engine: river client: %w", err)
	}
	e.client = client
	return e, nil
}

// Register makes h run for actions of kind. Without a handler an action only records its Event
// (and, for milestones, moves the sunset's state). Register before Start.
func (e *Engine) Register(kind plan.ActionKind, h Handler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.handlers[kind] = h
}

// Clock returns the engine's clock.
func (e *Engine) Clock() sunset.Clock { return e.rt }

// Runtime returns the engine's clock and logger, to hand to the services that work alongside it
// on the same timeline.
func (e *Engine) Runtime() sunset.Runtime { return e.rt }

// Start starts River's workers and the dispatcher. It returns once both are running; they stop
// when ctx ends or Stop is called. Starting twice is an error.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return errors.New("engine: already started")
	}
	if err := e.client.Start(ctx); err != nil {
		return fmt.Errorf("engine: start river: %w", err)
	}
	loopCtx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	e.done = make(chan struct{})
	e.started = true
	go e.loop(loopCtx)
	return nil
}

// Stop stops the dispatcher and lets running actions finish. It is safe to call before Start
// and more than once.
func (e *Engine) Stop() {
	e.mu.Lock()
	if !e.started {
		e.mu.Unlock()
		return
	}
	e.started = false
	cancel, done := e.cancel, e.done
	e.mu.Unlock()
	cancel()
	<-done
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if err := e.client.Stop(ctx); err != nil {
		e.rt.Log().Warn("river did not stop cleanly", "err", err)
	}
}

func (e *Engine) loop(ctx context.Context) {
	defer close(e.done)
	t := time.NewTicker(e.PollInterval)
	defer t.Stop()
	var lastWatch time.Time
	for {
		if time.Since(lastWatch) >= e.GuardrailInterval {
			lastWatch = time.Now()
			if _, err := e.WatchGuardrails(ctx); err != nil && ctx.Err() == nil {
				e.rt.Log().Error("guardrail check failed", "err", err)
			}
		}
		if _, err := e.Dispatch(ctx); err != nil && ctx.Err() == nil {
			e.rt.Log().Error("dispatch failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Dispatch starts the due work of every sunset: for each sunset that has no action queued, it
// hands the earliest due action to River and marks it enqueued, in one transaction. The actions
// of one sunset run one at a time in timeline order: when an action completes, its worker queues
// the next due one in the same transaction (see runAction), so a backlog after downtime or a
// pause drains in order. Dispatch returns how many actions it enqueued. The dispatcher loop
// calls it; tests call it directly after moving the clock.
func (e *Engine) Dispatch(ctx context.Context) (int, error) {
	now := e.rt.Now()
	due, err := e.dueSunsets(ctx, now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range due {
		// One transaction per sunset, holding its row lock: the worker of a running action and
		// other replicas' dispatchers lock it too, so each sees the other's committed work and
		// no action is queued twice or overwritten.
		err := e.store.InTx(ctx, func(tx Tx) error {
			s, err := tx.LockSunset(ctx, name)
			if err != nil {
				return err
			}
			acts, err := tx.ListActions(ctx, s.ID)
			if err != nil {
				return err
			}
			next := nextDue(acts, now)
			if next == nil {
				return nil // nothing due, or an action of this sunset is already queued
			}
			n++
			return e.enqueue(ctx, e.client, tx, s.Name, next)
		})
		if err != nil && sunset.ErrorCode(err) != sunset.ENOTFOUND {
			return n, err
		}
	}
	return n, nil
}

// dueSunsets names the sunsets that have a pending action due at now, each once.
func (e *Engine) dueSunsets(ctx context.Context, now time.Time) ([]string, error) {
	var names []string
	err := e.store.InTx(ctx, func(tx Tx) error {
		due, err := tx.DueActions(ctx, now, 0)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, a := range due {
			if !seen[a.SunsetID] {
				seen[a.SunsetID] = true
				names = append(names, a.Sunset)
			}
		}
		return nil
	})
	return names, err
}

// nextDue returns the earliest pending action due at now, or nil when there is none, when an
// action is already enqueued (it must finish first) or when the earliest is a failed action
// whose retry is not due yet (the actions after it wait for it, in timeline order). acts is in
// timeline order.
func nextDue(acts []Action, now time.Time) *Action {
	var first *Action
	for i := range acts {
		switch {
		case acts[i].Status == ActionEnqueued:
			return nil
		case first == nil && acts[i].Status == ActionPending && !acts[i].At.After(now):
			first = &acts[i]
		}
	}
	if first != nil && first.RetryAt.After(now) {
		return nil
	}
	return first
}

// enqueue inserts the job of action a in tx and marks the action enqueued.
func (e *Engine) enqueue(ctx context.Context, client *river.Client[*sql.Tx], tx Tx, sunsetName string, a *Action) error {
	args := actionArgs{SunsetID: a.SunsetID, Sunset: sunsetName, Key: a.Key, At: a.At.UTC()}
	// No River uniqueness: the action row, locked with its sunset, is the gate. A job whose
	// action is no longer enqueued at the same instant finds nothing to do, so a stale job (from
	// before a pause, say) and a fresh one never both run the action.
	if _, err := client.InsertTx(ctx, tx.SQL(), args, nil); err != nil {
		return fmt.Errorf("enqueue %s/%s: %w", sunsetName, a.Key, err)
	}
	a.Status = ActionEnqueued
	return tx.PutAction(ctx, a)
}

// actionWorker runs one action job.
type actionWorker struct {
	river.WorkerDefaults[actionArgs]
	e *Engine
}

func (w *actionWorker) Work(ctx context.Context, job *river.Job[actionArgs]) error {
	return w.e.runAction(ctx, job)
}

// runAction carries out one action job in one transaction: a stale job (the action ran, moved
// or was withdrawn) completes doing nothing, a paused or cancelled sunset holds the action, a
// tripped guardrail holds it too, else the kind's handler runs and the action is done. A
// handler's failure is recorded on the action.
func (e *Engine) runAction(ctx context.Context, job *river.Job[actionArgs]) error {
	// reached is set once the action is about to run: an error after it is the action's own
	// failure, recorded on it (recordFailure); one before it (the store) is left to River.
	args := job.Args
	var reached bool
	// failure is the handler's own error, which the action's record says in words.
	var failure error
	err := e.store.InTx(ctx, func(tx Tx) error {
		complete := func() error {
			_, err := river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx.SQL(), job)
			return err
		}
		s, err := tx.LockSunset(ctx, args.Sunset)
		if err != nil {
			if sunset.ErrorCode(err) == sunset.ENOTFOUND {
				return complete()
			}
			return err
		}
		a, err := tx.GetAction(ctx, s.ID, args.Key)
		if err != nil {
			if sunset.ErrorCode(err) == sunset.ENOTFOUND {
				return complete()
			}
			return err
		}
		// A stale job: the action ran already, moved, or was withdrawn.
		if a.Status != ActionEnqueued || !a.At.Equal(args.At) {
			return complete()
		}
		now := e.now()
		if s.State == StatePaused || s.State == StateDraft || s.State == StateCancelled {
			a.Status = ActionHeld
			if s.State == StateCancelled {
				a.Status = ActionCancelled
			}
			if err := tx.PutAction(ctx, a); err != nil {
				return err
			}
			return complete()
		}
		reached = true
		p, err := e.parseStored(s)
		if err != nil {
			return err
		}
		run := &Run{Tx: tx, Sunset: s, Plan: p, Action: a, Now: now}
		// Guardrails are checked right before every step that changes what users get.
		if guards(a.Kind) {
			stop, results, err := e.checkGuardrails(ctx, tx, s, p, a, now)
			if err != nil {
				return err
			}
			if stop {
				a.Status = ActionHeld
				if err := tx.PutAction(ctx, a); err != nil {
					return err
				}
				s.UpdatedAt = now
				if err := tx.UpdateSunset(ctx, s); err != nil {
					return err
				}
				return complete()
			}
			if a.Kind == string(plan.KindGuardrail) {
				run.Data = map[string]any{"guardrails": results}
			}
		}
		e.mu.Lock()
		h := e.handlers[plan.ActionKind(a.Kind)]
		e.mu.Unlock()
		if h != nil {
			if err := h.Handle(ctx, run); err != nil {
				failure = err
				return fmt.Errorf("%s action %s: %w", a.Kind, a.Key, err)
			}
		}
		if err := e.actionDone(ctx, tx, s, a, run.Data, now); err != nil {
			return err
		}
		return complete()
	})
	if err == nil || !reached || ctx.Err() != nil {
		return err
	}
	if failure == nil {
		failure = err
	}
	if rerr := e.recordFailure(ctx, job, failure); rerr != nil {
		e.rt.Log().Error("recording an action's failure failed", "sunset", args.Sunset, "action", args.Key, "err", rerr)
		return err
	}
	return nil
}

// actionDone records that action a of s ran at now: its event (with what the handler added,
// runData), the state a milestone moves the sunset to, the action done, and the next due action
// queued.
func (e *Engine) actionDone(ctx context.Context, tx Tx, s *Sunset, a *Action, runData map[string]any, now time.Time) error {
	data := map[string]any{"key": a.Key, "kind": a.Kind, "name": a.Name, "detail": a.Detail, "planned_at": a.At.UTC()}
	for k, v := range runData {
		data[k] = v
	}
	if err := e.appendEvent(ctx, tx, s, "action."+a.Kind, "engine", data); err != nil {
		return err
	}
	if a.Kind == string(plan.KindMilestone) {
		if next, ok := milestoneState[a.Name]; ok && stateRank[next] > stateRank[s.State] {
			from := s.State
			s.State = next
			if err := e.appendEvent(ctx, tx, s, "sunset.state_changed", "engine", map[string]any{"from": from, "to": next, "milestone": a.Name}); err != nil {
				return err
			}
		}
	}
	if a.Attempts > 0 {
		e.rt.Log().Info("action recovered", "sunset", s.Name, "action", a.Key, "failed_attempts", a.Attempts)
	}
	a.Status = ActionDone
	a.DoneAt = now
	a.clearFailure()
	if err := tx.PutAction(ctx, a); err != nil {
		return err
	}
	s.UpdatedAt = now
	if err := tx.UpdateSunset(ctx, s); err != nil {
		return err
	}
	return e.chain(ctx, tx, s, e.rt.Now())
}

// chain queues the sunset's next due action, if any, in the transaction that completes the
// current one, so that a backlog runs in order without waiting for the dispatcher.
func (e *Engine) chain(ctx context.Context, tx Tx, s *Sunset, now time.Time) error {
	acts, err := tx.ListActions(ctx, s.ID)
	if err != nil {
		return err
	}
	next := nextDue(acts, now)
	if next == nil {
		return nil
	}
	client := river.ClientFromContext[*sql.Tx](ctx)
	if client == nil {
		client = e.client
	}
	return e.enqueue(ctx, client, tx, s.Name, next)
}

// milestoneState is the state a sunset enters when a well-known milestone passes.
var milestoneState = map[string]State{
	plan.Announce:  StateAnnounced,
	plan.Deprecate: StateDeprecating,
	plan.ReadOnly:  StateReadOnly,
	plan.Shutdown:  StateShutDown,
}

// stateRank orders the forward states; a milestone never moves a sunset backwards.
var stateRank = map[State]int{
	StateDraft: 0, StateScheduled: 1, StateAnnounced: 2, StateDeprecating: 3,
	StateReadOnly: 4, StateShutDown: 5, StateEvaluated: 6,
}

// now is the clock's instant at the precision the store keeps (microseconds), so that an event's
// hash computed now matches the one recomputed from stored rows.
func (e *Engine) now() time.Time {
	return e.rt.Now().UTC().Truncate(time.Microsecond)
}

// appendEvent chains a new event after s's head and records it. The caller writes s afterwards.
func (e *Engine) appendEvent(ctx context.Context, tx Tx, s *Sunset, typ, actor string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	ev := &Event{
		SunsetID: s.ID,
		Seq:      s.HeadSeq + 1,
		At:       e.now(),
		Type:     typ,
		Actor:    actor,
		Data:     raw,
		PrevHash: s.HeadHash,
	}
	ev.Hash = ev.ComputeHash()
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return err
	}
	s.HeadSeq, s.HeadHash = ev.Seq, ev.Hash
	return nil
}

// parseStored decodes the plan a sunset was applied with.
func (e *Engine) parseStored(s *Sunset) (*plan.Plan, error) {
	p, problems := plan.ParseStored(s.Name+".yaml", s.Plan)
	if err := problems.Err(); err != nil {
		return nil, fmt.Errorf("stored plan of %s no longer validates: %w", s.Name, err)
	}
	return p, nil
}
