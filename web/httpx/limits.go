package httpx

// Limits of what the API and the operator UI's forms take alike.
const (
	// MaxReasonLen is the longest reason accepted for pause, resume and cancel, in characters.
	MaxReasonLen = 2000
	// MaxStakeholderLen is the longest stakeholder name accepted, in characters.
	MaxStakeholderLen = 100
	// MaxLessons bounds the lessons learned, in characters.
	MaxLessons = 64 << 10
)
