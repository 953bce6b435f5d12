package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sunsetops/sunset/policy"
	"github.com/sunsetops/sunset/runbook"
)

// PhaseOverride is the phase a sunset was switched to ahead of its timeline (runbook.PhaseOverride).
type PhaseOverride = runbook.PhaseOverride

// Interface guard.
var _ runbook.PhaseOverrides = (*DB)(nil)

// SetPhaseOverride keeps o as the sunset's override, replacing the one before. Setting the
// same override again changes nothing but its instant and actor.
func (db *DB) SetPhaseOverride(ctx context.Context, o PhaseOverride) error {
	if _, ok := policy.ParsePhase(o.Phase); !ok {
		return fmt.Errorf("store: unknown phase %q", o.Phase)
	}
	_, err := db.sql.ExecContext(ctx, rebind(db.dialect, `INSERT INTO phase_overrides (sunset, phase, at, actor, reason)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (sunset) DO UPDATE SET phase = excluded.phase, at = excluded.at,
		actor = excluded.actor, reason = excluded.reason`), o.Sunset, o.Phase, rfc(o.At), o.Actor, o.Reason)
	return db.translate(err, "set the phase override")
}

// GetPhaseOverride returns the sunset's override; an Active phase at the zero instant when it has
// none.
func (db *DB) GetPhaseOverride(ctx context.Context, sunset string) (PhaseOverride, error) {
	o := PhaseOverride{Sunset: sunset, Phase: policy.Active.String()}
	var at string
	err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT phase, at, actor, reason FROM phase_overrides WHERE sunset = ?`), sunset).
		Scan(&o.Phase, &at, &o.Actor, &o.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return o, nil
	}
	if err != nil {
		return o, db.translate(err, "read the phase override")
	}
	if o.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return o, fmt.Errorf("store: phase override of %s: %w", sunset, err)
	}
	return o, nil
}

// PhaseOverride returns the sunset's override as the policy applies it (policy.Snapshot
// WithOverride); Active when it has none. web.Server's Phases and the in-process gateway use it.
func (db *DB) PhaseOverride(ctx context.Context, sunset string) (policy.Override, error) {
	o, err := db.GetPhaseOverride(ctx, sunset)
	if err != nil {
		return policy.Override{}, err
	}
	phase, ok := policy.ParsePhase(o.Phase)
	if !ok {
		return policy.Override{}, fmt.Errorf("store: phase override of %s: unknown phase %q", sunset, o.Phase)
	}
	return policy.Override{Phase: phase, At: o.At}, nil
}
