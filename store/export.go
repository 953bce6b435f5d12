package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sunsetops/sunset/backup/export"
)

// Interface guard.
var _ export.Store = (*DB)(nil)

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func rfcOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return rfc(t)
}

// GetExportJob returns the sunset's export job.
func (db *DB) GetExportJob(ctx context.Context, sunset string) (*export.Job, error) {
	var j export.Job
	var state, expires, started, updated string
	err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT sunset, state, source, position, done, failed, expires, message, started_at, updated_at
		FROM export_jobs WHERE sunset = ?`), sunset).Scan(&j.Sunset, &state, &j.Source, &j.Position, &j.Done, &j.Failed, &expires, &j.Message, &started, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, export.ErrNoJob
	}
	if err != nil {
		return nil, db.translate(err, "read an export job")
	}
	j.State, j.Expires, j.Started, j.Updated = export.JobState(state), parseTime(expires), parseTime(started), parseTime(updated)
	return &j, nil
}

// SaveExportBatch writes users, then job, in one transaction. A user's downloads, kept archive
// and migration survive a rewrite of its export.
func (db *DB) SaveExportBatch(ctx context.Context, job *export.Job, users []export.User) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return db.translate(err, "begin")
	}
	defer tx.Rollback()
	if len(users) > 0 {
		stmt, err := tx.PrepareContext(ctx, rebind(db.dialect, `INSERT INTO export_users
			(sunset, user_id, seq, locale, state, blob_key, bytes, sha256, error, attempts, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (sunset, user_id) DO UPDATE SET seq = excluded.seq, locale = excluded.locale,
			state = excluded.state, blob_key = excluded.blob_key, bytes = excluded.bytes, sha256 = excluded.sha256,
			error = excluded.error, attempts = excluded.attempts, created_at = excluded.created_at`))
		if err != nil {
			return db.translate(err, "save exports")
		}
		defer stmt.Close()
		for _, u := range users {
			if _, err := stmt.ExecContext(ctx, u.Sunset, u.ID, u.Seq, u.Locale, string(u.State), u.Key, u.Bytes, u.SHA256, u.Error, u.Attempts, rfc(u.Created)); err != nil {
				return db.translate(err, "save an export")
			}
		}
	}
	_, err = tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO export_jobs (sunset, state, source, position, done, failed, expires, message, started_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sunset) DO UPDATE SET state = excluded.state, source = excluded.source, position = excluded.position,
		done = excluded.done, failed = excluded.failed, expires = excluded.expires, message = excluded.message,
		started_at = excluded.started_at, updated_at = excluded.updated_at`),
		job.Sunset, string(job.State), job.Source, job.Position, job.Done, job.Failed, rfcOrEmpty(job.Expires), job.Message, rfc(job.Started), rfc(job.Updated))
	if err != nil {
		return db.translate(err, "save an export job")
	}
	return db.translate(tx.Commit(), "commit exports")
}

const exportUserColumns = `sunset, user_id, seq, locale, state, blob_key, bytes, sha256, error, attempts, created_at,
	downloads, last_download, kept_in, migrate_state, migrate_error, migrate_attempts, migrated_at`

func scanExportUser(sc interface{ Scan(...any) error }) (export.User, error) {
	var u export.User
	var state, created, last, migrated string
	err := sc.Scan(&u.Sunset, &u.ID, &u.Seq, &u.Locale, &state, &u.Key, &u.Bytes, &u.SHA256, &u.Error, &u.Attempts, &created,
		&u.Downloads, &last, &u.KeptIn, &u.MigrateState, &u.MigrateError, &u.MigrateAttempts, &migrated)
	u.State, u.Created, u.LastDownload, u.MigratedAt = export.UserState(state), parseTime(created), parseTime(last), parseTime(migrated)
	return u, err
}

// ExportUser returns one user's export.
func (db *DB) ExportUser(ctx context.Context, sunset, id string) (*export.User, error) {
	u, err := scanExportUser(db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT `+exportUserColumns+` FROM export_users WHERE sunset = ? AND user_id = ?`), sunset, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, export.ErrNoUser
	}
	if err != nil {
		return nil, db.translate(err, "read an export")
	}
	return &u, nil
}

// ExportUsers returns up to limit exports with seq > after, in seq order.
func (db *DB) ExportUsers(ctx context.Context, sunset string, after int64, limit int) ([]export.User, error) {
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT `+exportUserColumns+` FROM export_users
		WHERE sunset = ? AND seq > ? ORDER BY seq LIMIT ?`), sunset, after, limit)
	if err != nil {
		return nil, db.translate(err, "list exports")
	}
	defer rows.Close()
	var out []export.User
	for rows.Next() {
		u, err := scanExportUser(rows)
		if err != nil {
			return nil, db.translate(err, "list exports")
		}
		out = append(out, u)
	}
	return out, db.translate(rows.Err(), "list exports")
}

// RecordDownload counts a download.
func (db *DB) RecordDownload(ctx context.Context, sunset, id string, at time.Time) error {
	res, err := db.sql.ExecContext(ctx, rebind(db.dialect, `UPDATE export_users SET downloads = downloads + 1, last_download = ? WHERE sunset = ? AND user_id = ?`), rfc(at), sunset, id)
	if err != nil {
		return db.translate(err, "record a download")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return export.ErrNoUser
	}
	return nil
}

// SaveMigration writes the migration fields of u.
func (db *DB) SaveMigration(ctx context.Context, u *export.User) error {
	_, err := db.sql.ExecContext(ctx, rebind(db.dialect, `UPDATE export_users SET migrate_state = ?, migrate_error = ?, migrate_attempts = ?, migrated_at = ?
		WHERE sunset = ? AND user_id = ?`), u.MigrateState, u.MigrateError, u.MigrateAttempts, rfcOrEmpty(u.MigratedAt), u.Sunset, u.ID)
	return db.translate(err, "save a migration")
}

// KeepExports marks done, not downloaded, not yet kept exports with seq in [from, to] as kept in archive.
func (db *DB) KeepExports(ctx context.Context, sunset string, from, to int64, archive string) (int64, error) {
	res, err := db.sql.ExecContext(ctx, rebind(db.dialect, `UPDATE export_users SET kept_in = ?
		WHERE sunset = ? AND seq >= ? AND seq <= ? AND state = 'done' AND downloads = 0 AND kept_in = ''`), archive, sunset, from, to)
	if err != nil {
		return 0, db.translate(err, "mark exports kept")
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// ExportCounts sums up the sunset's exports.
func (db *DB) ExportCounts(ctx context.Context, sunset string) (export.Counts, error) {
	var c export.Counts
	err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN downloads > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN kept_in <> '' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'done' AND downloads = 0 AND kept_in = '' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN migrate_state = 'done' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN migrate_state = 'failed' THEN 1 ELSE 0 END), 0)
		FROM export_users WHERE sunset = ?`), sunset).Scan(&c.Users, &c.Done, &c.Failed, &c.Downloaded, &c.Kept, &c.Outstanding, &c.Migrated, &c.MigrationFailed)
	return c, db.translate(err, "count exports")
}

// OutboxRecipients returns up to limit distinct recipients of the sunset's notices after `after`.
func (db *DB) OutboxRecipients(ctx context.Context, sunset, after string, limit int) ([]export.Recipient, error) {
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT o.recipient, MAX(o.locale) FROM outbox o JOIN sunsets s ON s.id = o.sunset_id
		WHERE s.name = ? AND o.recipient > ? AND o.recipient NOT LIKE '%:%' GROUP BY o.recipient ORDER BY o.recipient LIMIT ?`), sunset, after, limit)
	if err != nil {
		return nil, db.translate(err, "list notice recipients")
	}
	defer rows.Close()
	var out []export.Recipient
	for rows.Next() {
		var r export.Recipient
		if err := rows.Scan(&r.ID, &r.Locale); err != nil {
			return nil, db.translate(err, "list notice recipients")
		}
		out = append(out, r)
	}
	return out, db.translate(rows.Err(), "list notice recipients")
}

// ExportCheckTx reads, inside tx, what the delete_data check needs: the export job's state
// ("" when none ran) and the counts.
func (db *DB) ExportCheckTx(ctx context.Context, tx *sql.Tx, sunset string) (string, export.Counts, error) {
	var state string
	err := tx.QueryRowContext(ctx, rebind(db.dialect, `SELECT state FROM export_jobs WHERE sunset = ?`), sunset).Scan(&state)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", export.Counts{}, db.translate(err, "read an export job")
	}
	var c export.Counts
	err = tx.QueryRowContext(ctx, rebind(db.dialect, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'done' AND downloads = 0 AND kept_in = '' THEN 1 ELSE 0 END), 0)
		FROM export_users WHERE sunset = ?`), sunset).Scan(&c.Users, &c.Failed, &c.Outstanding)
	return state, c, db.translate(err, "count exports")
}
