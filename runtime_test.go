package sunset_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
)

func TestTheZeroRuntimeTellsTheWallClockAndDiscardsLines(t *testing.T) {
	var rt sunset.Runtime
	before := time.Now()
	now := rt.Now()
	if now.Before(before) || now.After(time.Now()) {
		t.Errorf("Now() = %v, want the wall clock (between %v and now)", now, before)
	}
	if rt.Log() == nil {
		t.Fatal("Log() = nil, want a logger that discards")
	}
	rt.Log().Info("nobody hears this") // must not panic
	if rt.With("component", "x").Logger != nil {
		t.Error("With gave a Runtime without a logger one")
	}
}

func TestARuntimeTellsItsClockAndWritesToItsLogger(t *testing.T) {
	at := time.Date(2027, 3, 15, 2, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	rt := sunset.Runtime{Clock: sunset.NewFixedClock(at), Logger: slog.New(slog.NewTextHandler(&out, nil))}
	if got := rt.Now(); !got.Equal(at) {
		t.Errorf("Now() = %v, want the clock's %v", got, at)
	}
	var c sunset.Clock = rt // a Runtime is a Clock
	if got := c.Now(); !got.Equal(at) {
		t.Errorf("as a Clock, Now() = %v, want %v", got, at)
	}
	rt.With("component", "notify").Log().Info("sent")
	if line := out.String(); !strings.Contains(line, "component=notify") || !strings.Contains(line, "msg=sent") {
		t.Errorf("log line = %q, want the message with the component", line)
	}
}
