package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// ApplyResult says what applying a plan did.
type ApplyResult struct {
	Sunset *Sunset `json:"sunset"`
	// Created is true when the plan made a new sunset.
	Created bool `json:"created"`
	// Changed is false when the plan was identical to the current revision (nothing happened).
	Changed bool `json:"changed"`
	// Moved, Added, Removed and Kept describe a re-plan.
	Moved   []ActionMove `json:"moved,omitempty"`
	Added   []string     `json:"added,omitempty"`
	Removed []string     `json:"removed,omitempty"`
	// Kept lists actions that already ran and whose new date was ignored: the past stays.
	Kept []string `json:"kept,omitempty"`
	// Warnings are the plan's non-fatal problems.
	Warnings []string `json:"warnings,omitempty"`
	// Files are the files the plan's bundle carried, as stored (hash, size, count).
	Files []BundleFile `json:"files,omitempty"`
}

// ActionMove is one action whose instant a re-plan changed.
type ActionMove struct {
	Key  string    `json:"key"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Apply validates the plan in data (named file in messages) and creates the sunset it names, or
// re-plans the existing one: actions that already ran stay as they are, future actions move,
// new ones are added and withdrawn ones superseded; the difference is recorded as a
// "plan.replanned" Event. An invalid plan is a sunset.EINVALID error whose Details list every
// problem; nothing is stored.
//
// A plan that references files (consumers.contacts) needs them: use ApplyBundle.
func (e *Engine) Apply(ctx context.Context, file string, data []byte, actor string) (*ApplyResult, error) {
	return e.ApplyBundle(ctx, file, data, nil, actor)
}

// apply stores the parsed plan p with the files its bundle carried (already staged).
func (e *Engine) apply(ctx context.Context, file string, data []byte, p *plan.Plan, problems plan.Problems, files []BundleFile, actor string) (*ApplyResult, error) {
	tl, err := p.Compile()
	if err != nil {
		return nil, &sunset.Error{Code: sunset.EINVALID, Message: file + ": " + err.Error()}
	}
	res := &ApplyResult{Files: files}
	for _, w := range problems.Warnings() {
		res.Warnings = append(res.Warnings, w.String())
	}
	sum := sha256.Sum256(data)
	planHash := hex.EncodeToString(sum[:])
	hash := BundleHash(planHash, files)
	now := e.now()
	name := p.Service.Name

	err = e.store.InTx(ctx, func(tx Tx) error {
		s, err := tx.LockSunset(ctx, name)
		switch {
		case sunset.ErrorCode(err) == sunset.ENOTFOUND:
			res.Created, res.Changed = true, true
			if err := e.create(ctx, tx, p, tl, data, hash, actor, now, res); err != nil {
				return err
			}
			if err := e.recordRevision(ctx, tx, res.Sunset, planHash, files, 0, actor, now); err != nil {
				return err
			}
			return tx.UpdateSunset(ctx, res.Sunset)
		case err != nil:
			return err
		}
		res.Sunset = s
		if s.PlanHash == hash {
			return nil
		}
		if s.State == StateCancelled || s.State == StateShutDown || s.State == StateEvaluated {
			return sunset.Errorf(sunset.ECONFLICT, "sunset %s is %s; its plan can no longer change", name, s.State)
		}
		res.Changed = true
		prev, err := tx.GetRevision(ctx, s.ID, s.Revision)
		if err != nil && sunset.ErrorCode(err) != sunset.ENOTFOUND {
			return err
		}
		var prevSet int64
		if prev != nil {
			prevSet = contactSet(prev.Files)
		}
		if err := e.replan(ctx, tx, s, p, tl, data, hash, actor, now, res); err != nil {
			return err
		}
		if err := e.recordRevision(ctx, tx, s, planHash, files, prevSet, actor, now); err != nil {
			return err
		}
		return tx.UpdateSunset(ctx, s)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func invalidPlan(problems plan.Problems) error {
	errs := problems.Errors()
	details := make([]string, len(errs))
	for i, p := range errs {
		details[i] = p.String()
	}
	msg := "the plan has 1 problem"
	if len(details) != 1 {
		msg = "the plan has " + strconv.Itoa(len(details)) + " problems"
	}
	msg += "; nothing was stored"
	return &sunset.Error{Code: sunset.EINVALID, Message: msg, Details: details}
}

func (e *Engine) create(ctx context.Context, tx Tx, p *plan.Plan, tl *plan.Timeline, data []byte, hash, actor string, now time.Time, res *ApplyResult) error {
	s := &Sunset{
		Name:      p.Service.Name,
		State:     StateScheduled,
		Revision:  1,
		Plan:      data,
		PlanHash:  hash,
		Signoffs:  []string{},
		CreatedAt: now,
		UpdatedAt: now,
	}
	if len(p.Stakeholders) > 0 {
		s.State = StateDraft
	}
	if err := tx.CreateSunset(ctx, s); err != nil {
		return err
	}
	status := ActionPending
	if s.State == StateDraft {
		status = ActionHeld
	}
	for i, a := range tl.Actions {
		act := fromPlanAction(s.ID, i, a, status, 1)
		if err := tx.PutAction(ctx, &act); err != nil {
			return err
		}
	}
	if err := e.scheduled(ctx, tx, s, p); err != nil {
		return err
	}
	if err := e.appendEvent(ctx, tx, s, "sunset.created", actor, map[string]any{
		"revision": 1, "plan_hash": hash, "actions": len(tl.Actions), "state": s.State,
		"awaiting_signoff": stakeholderNames(p),
	}); err != nil {
		return err
	}
	res.Sunset = s
	return tx.UpdateSunset(ctx, s)
}

func (e *Engine) replan(ctx context.Context, tx Tx, s *Sunset, p *plan.Plan, tl *plan.Timeline, data []byte, hash, actor string, now time.Time, res *ApplyResult) error {
	old, err := tx.ListActions(ctx, s.ID)
	if err != nil {
		return err
	}
	byKey := make(map[string]*Action, len(old))
	for i := range old {
		byKey[old[i].Key] = &old[i]
	}
	s.Revision++
	waiting := s.State == StateDraft || s.State == StatePaused
	seen := make(map[string]bool, len(tl.Actions))
	for i, pa := range tl.Actions {
		seen[pa.Key] = true
		prev, ok := byKey[pa.Key]
		if !ok {
			status := ActionPending
			if waiting {
				status = ActionHeld
			}
			act := fromPlanAction(s.ID, i, pa, status, s.Revision)
			if err := tx.PutAction(ctx, &act); err != nil {
				return err
			}
			res.Added = append(res.Added, pa.Key)
			continue
		}
		if prev.Status == ActionDone || prev.Status == ActionSkipped {
			if !prev.At.Equal(pa.At.UTC().Truncate(time.Microsecond)) {
				res.Kept = append(res.Kept, pa.Key)
			}
			continue
		}
		next := fromPlanAction(s.ID, i, pa, prev.Status, s.Revision)
		switch prev.Status {
		case ActionSuperseded:
			next.Status = ActionPending
			if waiting {
				next.Status = ActionHeld
			}
		case ActionEnqueued:
			// The queued job carries the old instant; it will find the action changed and do
			// nothing, and the dispatcher enqueues it again when it is due.
			next.Status = ActionPending
		}
		if !prev.At.Equal(next.At) {
			res.Moved = append(res.Moved, ActionMove{Key: pa.Key, From: prev.At, To: next.At})
		}
		if err := tx.PutAction(ctx, &next); err != nil {
			return err
		}
	}
	for _, a := range old {
		if seen[a.Key] || a.Status == ActionDone || a.Status == ActionSkipped || a.Status == ActionSuperseded || a.Status == ActionCancelled {
			continue
		}
		a.Status = ActionSuperseded
		a.Revision = s.Revision
		if err := tx.PutAction(ctx, &a); err != nil {
			return err
		}
		res.Removed = append(res.Removed, a.Key)
	}
	// Sign-offs of stakeholders the new plan no longer names are dropped.
	names := stakeholderNames(p)
	s.Signoffs = slices.DeleteFunc(s.Signoffs, func(n string) bool { return !slices.Contains(names, n) })
	from := s.PlanHash
	s.Plan, s.PlanHash, s.UpdatedAt = data, hash, now
	if err := e.replanned(ctx, tx, s, p, res, now); err != nil {
		return err
	}
	if err := e.scheduled(ctx, tx, s, p); err != nil {
		return err
	}
	if err := e.appendEvent(ctx, tx, s, "plan.replanned", actor, map[string]any{
		"revision": s.Revision, "from_hash": from, "to_hash": hash,
		"moved": res.Moved, "added": res.Added, "removed": res.Removed, "kept": res.Kept,
	}); err != nil {
		return err
	}
	if s.State == StateDraft {
		if err := e.maybeSchedule(ctx, tx, s, p, actor); err != nil {
			return err
		}
	}
	if err := tx.UpdateSunset(ctx, s); err != nil {
		return err
	}
	res.Sunset = s
	return nil
}

func fromPlanAction(sunsetID int64, seq int, a plan.Action, status ActionStatus, revision int) Action {
	return Action{
		SunsetID: sunsetID,
		Key:      a.Key,
		Seq:      seq,
		At:       a.At.UTC().Truncate(time.Microsecond),
		Kind:     string(a.Kind),
		Name:     a.Name,
		Detail:   a.Detail,
		Status:   status,
		Revision: revision,
	}
}

func stakeholderNames(p *plan.Plan) []string {
	names := make([]string, 0, len(p.Stakeholders))
	for _, s := range p.Stakeholders {
		names = append(names, s.Name)
	}
	return names
}
