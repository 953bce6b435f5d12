package policy

// Phase is what the gateway enforces for a feature at an instant.
type Phase uint8

// The phases, in the order a feature normally goes through them.
const (
	// Active: the feature is not retiring yet; requests pass untouched.
	Active Phase = iota
	// Deprecated: requests pass with Deprecation, Sunset and Link headers.
	Deprecated
	// Brownout: a scheduled, deliberate failure with Retry-After.
	Brownout
	// ReadOnly: safe methods pass, writes are refused.
	ReadOnly
	// Gone: 410 Gone and the tombstone page.
	Gone
	// Redirect: 308 to the feature's replacement.
	Redirect
)

var phaseNames = [...]string{"active", "deprecated", "brownout", "read_only", "gone", "redirect"}

// String returns the phase's name as the plan and the docs write it: "read_only".
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "unknown"
}

// ParsePhase reads a phase name ("gone", "read_only" or "read-only"...), case-sensitively.
func ParsePhase(s string) (Phase, bool) {
	if s == "read-only" {
		return ReadOnly, true
	}
	for i, n := range phaseNames {
		if n == s {
			return Phase(i), true
		}
	}
	return Active, false
}
