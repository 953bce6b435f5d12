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
	// Guards says when each guardrail is watched: from its arming to its `before` instant.
	Guards []GuardWindow `json:"guards,omitempty"`
}

// GuardWindow is the time during which one guardrail is checked: before every step that changes
// what users get, at its checks before milestones, and every minute while the sunset is under
// way. Before From it is not armed (a condition that holds then pauses nothing); from Until on it
// is not checked.
type GuardWindow struct {
	Name      string `json:"name"`
	Condition string `json:"condition"`
	Then      string `json:"then"`
	// From is the announce milestone, or the guardrail's later `from` instant.
	From time.Time `json:"from"`
	// Until is the guardrail's `before` instant; zero when it is checked to the end.
	Until time.Time `json:"until,omitzero"`
	// FromText and UntilText are the instants as the plan writes them ("announce",
	// "shutdown-3d"); UntilText is empty without `before`.
	FromText  string `json:"from_text"`
	UntilText string `json:"until_text,omitempty"`
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
