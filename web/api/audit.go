package api

import (
	"context"
	"log/slog"
	"net/http"
)

// Audit: every call that changes something is an event in the sunset's hash chain, with who
// (the authenticated caller, else the X-Sunset-Actor header), what and when. The engine's own
// changes (apply, pause, sign-off, ...) and the runbook's approvals record theirs; audit records
// the rest: feedback imports and lessons learned. Usage flushes of gateways are counters, not
// changes of a sunset, and are not events; nor are users' public posts (feedback, surveys,
// unsubscribes), which anybody may send.

// eventRecorder is the part of the engine that appends an event of the caller's choosing;
// *engine.Engine has it.
type eventRecorder interface {
	RecordEvent(ctx context.Context, name, typ, actor string, data map[string]any) error
}

// Audit appends the event typ with data by actor to the sunset called name. An engine that
// cannot record events (a test's stand-in) records nothing. A failure is logged and returned:
// the change was made, but the caller must know its trace is missing.
func (s *Server) Audit(r *http.Request, name, typ, actor string, data map[string]any) error {
	rec, ok := s.Engine.(eventRecorder)
	if !ok {
		return nil
	}
	if err := rec.RecordEvent(r.Context(), name, typ, actor, data); err != nil {
		s.logger().LogAttrs(r.Context(), slog.LevelError, "cannot record the audit event",
			slog.String("sunset", name), slog.String("type", typ), slog.String("actor", actor), slog.String("error", err.Error()))
		return err
	}
	return nil
}
