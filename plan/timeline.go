package plan

import "time"

// ActionKind classifies a timeline action.
type ActionKind string

// The kinds of timeline actions.
const (
	KindMilestone ActionKind = "milestone"
	KindFeature   ActionKind = "feature"
	KindBrownout  ActionKind = "brownout"
	KindNotice    ActionKind = "notice"
	KindGuardrail ActionKind = "guardrail"
	KindRunbook   ActionKind = "runbook"
	KindData      ActionKind = "data"
)

// Timeline is every action a plan implies, sorted by instant (ties keep plan order).
type Timeline struct {
	Service  string         `json:"service"`
	TimeZone string         `json:"timezone"`
	Location *time.Location `json:"-"`
	Actions  []Action       `json:"actions"`
}

// Action is one thing that happens at an instant.
type Action struct {
	// Key identifies the action across re-plans: the same plan element keeps the same key when
	// its date moves ("milestone/shutdown", "notice/2", "brownout/0/5"). It is unique in a Timeline.
	Key    string     `json:"-"`
	At     time.Time  `json:"at"`
	Kind   ActionKind `json:"kind"`
	Name   string     `json:"name"`
	Detail string     `json:"detail"`
}
