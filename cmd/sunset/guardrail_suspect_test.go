package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
)

// TestGuardrailsCommandShowsASuspectTrip: a burst of negative feedback from senders never seen
// before pauses webapp-closing, and `sunset guardrails` says the trip is suspect.
func TestGuardrailsCommandShowsASuspectTrip(t *testing.T) {
	x := runExample(t, "webapp-closing.yaml")
	shanghai := time.FixedZone("CST", 8*3600)
	if s := x.travel(t, time.Date(2027, 1, 12, 9, 0, 0, 0, shanghai)); s.State != engine.StateDeprecating {
		t.Fatalf("state %s, want deprecating", s.State)
	}
	var items []feedback.Feedback
	for i := range 30 {
		items = append(items, feedback.Feedback{Sunset: x.name, At: x.clock.Now().Add(-time.Hour), Mood: feedback.Negative,
			Category: feedback.Other, Text: fmt.Sprintf("message %d", i), Source: "form", Sender: fmt.Sprintf("sender-%d", i)})
	}
	if err := x.sys.Store.Feedback().Add(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	if names := x.watch(t); len(names) != 1 {
		t.Fatalf("tripped %v, want the negative-ratio guardrail", names)
	}
	code, out, errs := run(t, t.Context(), "guardrails", x.name, "--server", x.api)
	if code != 0 || !strings.Contains(out, "TRIPPED — SUSPECT: 30 of 30 messages from senders never seen before") {
		t.Fatalf("sunset guardrails: exit %d\n%s%s", code, out, errs)
	}
}
