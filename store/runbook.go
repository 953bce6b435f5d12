package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sunsetops/sunset/runbook"
)

// Interface guard.
var _ runbook.Store = (*DB)(nil)

// The run's JSON document holds everything but its id; state and version are columns too, so
// that the active run and stale saves are found by SQL.

// CreateRun inserts r and sets its ID. A sunset has at most one run that has not ended.
func (db *DB) CreateRun(ctx context.Context, r *runbook.Run) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return db.translate(err, "begin")
	}
	defer tx.Rollback()
	if err := db.CreateRunTx(ctx, tx, r); err != nil {
		return err
	}
	return db.translate(tx.Commit(), "commit")
}

// CreateRunTx is CreateRun inside tx: the engine's runbook/start action creates the run in the
// transaction that completes the action, so the run exists exactly when the action is done.
func (db *DB) CreateRunTx(ctx context.Context, tx *sql.Tx, r *runbook.Run) error {
	var id int64
	var state string
	err := tx.QueryRowContext(ctx, rebind(db.dialect, `SELECT id, state FROM runbook_runs WHERE sunset = ? ORDER BY id DESC LIMIT 1`), r.Sunset).Scan(&id, &state)
	if err == nil && !runbook.State(state).Ended() {
		return fmt.Errorf("%w (run %d is %s)", runbook.ErrActive, id, state)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return db.translate(err, "find the active run")
	}
	r.Version = 1
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, rebind(db.dialect, `INSERT INTO runbook_runs (sunset, state, version, data, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), r.Sunset, string(r.State), r.Version, string(data), rfc(r.Created), rfc(r.Updated)).Scan(&r.ID)
	return db.translate(err, "create a runbook run")
}

// RunningRuns returns the runs in state running, oldest first: the runs a runbook worker drives.
func (db *DB) RunningRuns(ctx context.Context) ([]*runbook.Run, error) {
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT id FROM runbook_runs WHERE state = ? ORDER BY id`), string(runbook.StateRunning))
	if err != nil {
		return nil, db.translate(err, "list running runs")
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, db.translate(err, "list running runs")
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.translate(err, "list running runs")
	}
	out := make([]*runbook.Run, 0, len(ids))
	for _, id := range ids {
		r, err := db.GetRun(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// DeleteApprovalsTx returns the distinct people who approved the deletion of the sunset's data
// (data.delete_approved events), read inside the engine's transaction tx.
func (db *DB) DeleteApprovalsTx(ctx context.Context, tx *sql.Tx, sunsetID int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, rebind(db.dialect, `SELECT DISTINCT actor FROM events WHERE sunset_id = ? AND type = ? ORDER BY actor`), sunsetID, "data.delete_approved")
	if err != nil {
		return nil, db.translate(err, "read deletion approvals")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, db.translate(err, "read deletion approvals")
		}
		out = append(out, a)
	}
	return out, db.translate(rows.Err(), "read deletion approvals")
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (db *DB) scanRun(row *sql.Row) (*runbook.Run, error) {
	var id int64
	var data string
	if err := row.Scan(&id, &data); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, runbook.ErrNoRun
		}
		return nil, db.translate(err, "read a runbook run")
	}
	var r runbook.Run
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return nil, fmt.Errorf("store: runbook run %d: %w", id, err)
	}
	r.ID = id
	return &r, nil
}

// GetRun returns the run with id.
func (db *DB) GetRun(ctx context.Context, id int64) (*runbook.Run, error) {
	return db.scanRun(db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT id, data FROM runbook_runs WHERE id = ?`), id))
}

// LatestRun returns the newest run of sunset.
func (db *DB) LatestRun(ctx context.Context, sunset string) (*runbook.Run, error) {
	return db.scanRun(db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT id, data FROM runbook_runs WHERE sunset = ? ORDER BY id DESC LIMIT 1`), sunset))
}

// LatestRunTx is LatestRun inside tx: the data/delete action reads the run in the engine's
// transaction.
func (db *DB) LatestRunTx(ctx context.Context, tx *sql.Tx, sunset string) (*runbook.Run, error) {
	return db.scanRun(tx.QueryRowContext(ctx, rebind(db.dialect, `SELECT id, data FROM runbook_runs WHERE sunset = ? ORDER BY id DESC LIMIT 1`), sunset))
}

// SaveRun writes r when the stored version is r.Version, then increments r.Version.
func (db *DB) SaveRun(ctx context.Context, r *runbook.Run) error {
	next := *r
	next.Version++
	data, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	res, err := db.sql.ExecContext(ctx, rebind(db.dialect, `UPDATE runbook_runs SET state = ?, version = ?, data = ?, updated_at = ? WHERE id = ? AND version = ?`),
		string(r.State), next.Version, string(data), rfc(r.Updated), r.ID, r.Version)
	if err != nil {
		return db.translate(err, "save a runbook run")
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return runbook.ErrStale
	}
	r.Version = next.Version
	return nil
}

// AddApproval records a.
func (db *DB) AddApproval(ctx context.Context, runID int64, a runbook.Approval) error {
	_, err := db.sql.ExecContext(ctx, rebind(db.dialect, `INSERT INTO runbook_approvals (run_id, step, person, role, at) VALUES (?, ?, ?, ?, ?)`),
		runID, a.Step, a.Person, a.Role, rfc(a.At))
	if err != nil && db.isUnique(err) {
		return runbook.ErrDuplicate
	}
	return db.translate(err, "record an approval")
}

// Approvals returns the approvals of a run's step, oldest first.
func (db *DB) Approvals(ctx context.Context, runID int64, step string) ([]runbook.Approval, error) {
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT step, person, role, at FROM runbook_approvals WHERE run_id = ? AND step = ? ORDER BY at, person`), runID, step)
	if err != nil {
		return nil, db.translate(err, "list approvals")
	}
	defer rows.Close()
	var out []runbook.Approval
	for rows.Next() {
		var a runbook.Approval
		var at string
		if err := rows.Scan(&a.Step, &a.Person, &a.Role, &at); err != nil {
			return nil, db.translate(err, "list approvals")
		}
		a.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, a)
	}
	return out, db.translate(rows.Err(), "list approvals")
}

// AppendLog keeps one line of a run's output.
func (db *DB) AppendLog(ctx context.Context, runID int64, step, line string, at time.Time) error {
	_, err := db.sql.ExecContext(ctx, rebind(db.dialect, `INSERT INTO runbook_log (run_id, seq, at, step, line)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM runbook_log WHERE run_id = ?), ?, ?, ?)`), runID, runID, rfc(at), step, line)
	return db.translate(err, "append to a run's log")
}

// RunLog returns a run's output lines after seq, oldest first.
func (db *DB) RunLog(ctx context.Context, runID, after int64) ([]runbook.LogLine, error) {
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT seq, at, step, line FROM runbook_log WHERE run_id = ? AND seq > ? ORDER BY seq`), runID, after)
	if err != nil {
		return nil, db.translate(err, "read a run's log")
	}
	defer rows.Close()
	var out []runbook.LogLine
	for rows.Next() {
		var l runbook.LogLine
		var at string
		if err := rows.Scan(&l.Seq, &at, &l.Step, &l.Line); err != nil {
			return nil, db.translate(err, "read a run's log")
		}
		l.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, l)
	}
	return out, db.translate(rows.Err(), "read a run's log")
}

// Interface guard.
var _ runbook.Leaser = (*DB)(nil)

// LeaseRun takes or renews owner's lease on run id until until, when the run is running and its
// lease is free, expired at now, or already owner's. ok is false when another replica holds it
// (or the run is no longer running). The conditional UPDATE is atomic on both databases: on
// PostgreSQL a concurrent taker waits on the row lock and then finds the lease held.
func (db *DB) LeaseRun(ctx context.Context, id int64, owner string, now, until time.Time) (ok bool, err error) {
	res, err := db.sql.ExecContext(ctx, rebind(db.dialect, `UPDATE runbook_runs SET lease_owner = ?, lease_until = ?
	WHERE id = ? AND state = ? AND (lease_owner = ? OR lease_until < ?)`),
		owner, until.UnixNano(), id, string(runbook.StateRunning), owner, now.UnixNano())
	if err != nil {
		return false, db.translate(err, "lease a runbook run")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseRun gives up owner's lease on run id, so that another replica may drive it at once.
func (db *DB) ReleaseRun(ctx context.Context, id int64, owner string) error {
	_, err := db.sql.ExecContext(ctx, rebind(db.dialect, `UPDATE runbook_runs SET lease_until = 0 WHERE id = ? AND lease_owner = ?`), id, owner)
	return db.translate(err, "release a runbook run")
}
