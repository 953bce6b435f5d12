package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sunsetops/sunset/report"
)

// Lessons returns the lessons learned kept for the sunset named name; empty lessons when none
// were written. An unknown sunset is ENOTFOUND.
func (db *DB) Lessons(ctx context.Context, name string) (report.Lessons, error) {
	if _, err := db.GetSunset(ctx, name); err != nil {
		return report.Lessons{}, err
	}
	var l report.Lessons
	var at string
	err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT text, updated_by, updated_at FROM sunset_lessons WHERE sunset = ?`), name).Scan(&l.Text, &l.UpdatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return report.Lessons{}, nil
	}
	if err != nil {
		return report.Lessons{}, db.translate(err, "read the lessons learned")
	}
	l.UpdatedAt, _ = time.Parse(time.RFC3339Nano, at)
	return l, nil
}

// PutLessons replaces the lessons learned of the sunset named name with l (Text, UpdatedBy and
// UpdatedAt). An unknown sunset is ENOTFOUND.
func (db *DB) PutLessons(ctx context.Context, name string, l report.Lessons) error {
	if _, err := db.GetSunset(ctx, name); err != nil {
		return err
	}
	_, err := db.sql.ExecContext(ctx, rebind(db.dialect, `INSERT INTO sunset_lessons (sunset, text, updated_by, updated_at) VALUES (?, ?, ?, ?)
	ON CONFLICT (sunset) DO UPDATE SET text = excluded.text, updated_by = excluded.updated_by, updated_at = excluded.updated_at`),
		name, l.Text, l.UpdatedBy, rfc(l.UpdatedAt))
	return db.translate(err, "save the lessons learned")
}
