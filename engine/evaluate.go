package engine

import (
	"context"

	"github.com/sunsetops/sunset"
)

// MarkEvaluated moves a shut-down sunset to evaluated, the last state, recording a
// sunset.evaluated event: its report has been written. A sunset already evaluated is returned
// as it is, with no new event, so writing the report again is harmless; a sunset in any other
// state is a sunset.ECONFLICT error.
func (e *Engine) MarkEvaluated(ctx context.Context, name, actor string) (*Sunset, error) {
	s, err := e.store.GetSunset(ctx, name)
	if err != nil {
		return nil, err
	}
	if s.State == StateEvaluated {
		return normalize(s), nil
	}
	return e.mutate(ctx, name, func(tx Tx, s *Sunset) error {
		if s.State != StateShutDown {
			return sunset.Errorf(sunset.ECONFLICT, "sunset %s is %s; only a shut-down sunset is evaluated", s.Name, s.State)
		}
		from := s.State
		s.State = StateEvaluated
		return e.appendEvent(ctx, tx, s, "sunset.evaluated", actor, map[string]any{"from": from})
	})
}
