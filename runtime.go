package sunset

import (
	"log/slog"
	"time"
)

// Runtime is what a long-lived part of Sunset (a worker, a runner, a channel, the engine) is
// handed by the process that wires it: the clock it reads time from and the logger it writes to.
// It is the one place where their defaults live, so no service repeats a nil check of its own.
//
// The zero Runtime is ready to use: it tells the wall clock and discards log lines. A Runtime is
// a small value; copy it freely. It is safe for concurrent use when its Clock and Logger are.
type Runtime struct {
	// Clock tells the time; nil means the wall clock (SystemClock). `sunset serve --now` and
	// tests set a pinned or offset clock here.
	Clock Clock
	// Logger receives the part's log lines; nil discards them.
	Logger *slog.Logger
}

// discard is the logger of a Runtime without one. slog.Logger is safe for concurrent use and
// never changes, so one value serves every Runtime.
var discard = slog.New(slog.DiscardHandler)

// Interface guard: a Runtime can be passed wherever a Clock is wanted.
var _ Clock = Runtime{}

// Now returns the Runtime's clock's instant, or the wall clock's when it has none.
func (r Runtime) Now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

// Log returns the Runtime's logger, or one that discards everything when it has none. It never
// returns nil.
func (r Runtime) Log() *slog.Logger {
	if r.Logger == nil {
		return discard
	}
	return r.Logger
}

// With returns a copy of r whose logger adds args (slog key/value pairs) to every line, e.g.
// rt.With("component", "notify"). A Runtime without a logger stays without one.
func (r Runtime) With(args ...any) Runtime {
	if r.Logger != nil {
		r.Logger = r.Logger.With(args...)
	}
	return r
}
