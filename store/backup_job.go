package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/sunsetops/sunset/runbook"
)

// Interface guard.
var _ runbook.BackupJobs = (*DB)(nil)

// StartBackupJob stores job as its sunset's job, taken by owner, unless a job is running whose
// heartbeat is at or after staleBefore (ok false). One statement decides, so two replicas asked
// at once start one job.
func (db *DB) StartBackupJob(ctx context.Context, job *runbook.BackupJob, owner string, now, staleBefore time.Time) (bool, error) {
	data, err := json.Marshal(job)
	if err != nil {
		return false, err
	}
	res, err := db.sql.ExecContext(ctx, rebind(db.dialect, `INSERT INTO backup_jobs (sunset, state, owner, heartbeat, data) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (sunset) DO UPDATE SET state = excluded.state, owner = excluded.owner, heartbeat = excluded.heartbeat, data = excluded.data
	WHERE backup_jobs.state <> ? OR backup_jobs.heartbeat < ?`),
		job.Sunset, job.State, owner, now.UnixNano(), string(data), runbook.BackupRunning, staleBefore.UnixNano())
	if err != nil {
		return false, db.translate(err, "start a backup job")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SaveBackupJob writes owner's job with the heartbeat now; ok is false when another owner took
// the sunset's job over.
func (db *DB) SaveBackupJob(ctx context.Context, job *runbook.BackupJob, owner string, now time.Time) (bool, error) {
	data, err := json.Marshal(job)
	if err != nil {
		return false, err
	}
	res, err := db.sql.ExecContext(ctx, rebind(db.dialect, `UPDATE backup_jobs SET state = ?, heartbeat = ?, data = ? WHERE sunset = ? AND owner = ?`),
		job.State, now.UnixNano(), string(data), job.Sunset, owner)
	if err != nil {
		return false, db.translate(err, "save a backup job")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// BackupJob returns the sunset's latest backup job and its last heartbeat; nil when it has none.
func (db *DB) BackupJob(ctx context.Context, sunset string) (*runbook.BackupJob, time.Time, error) {
	var data string
	var beat int64
	err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT data, heartbeat FROM backup_jobs WHERE sunset = ?`), sunset).Scan(&data, &beat)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, db.translate(err, "read a backup job")
	}
	var job runbook.BackupJob
	if err := json.Unmarshal([]byte(data), &job); err != nil {
		return nil, time.Time{}, err
	}
	return &job, time.Unix(0, beat), nil
}
