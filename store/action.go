package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

func scanAction(row scanner) (engine.Action, error) {
	var (
		a      engine.Action
		status string
	)
	err := row.Scan(&a.SunsetID, &a.Sunset, &a.Key, timeCol{&a.At}, &a.Seq, &a.Kind, &a.Name, &a.Detail,
		&status, &a.Revision, timeCol{&a.DoneAt}, &a.Attempts, &a.LastError, timeCol{&a.FailingSince}, timeCol{&a.RetryAt})
	a.Status = engine.ActionStatus(status)
	return a, err
}

func (db *DB) queryActions(ctx context.Context, q querier, what, query string, args ...any) ([]engine.Action, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, db.translate(err, what)
	}
	defer rows.Close()
	var list []engine.Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, db.translate(err, what)
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, db.translate(err, what)
	}
	return list, nil
}

func (db *DB) listActions(ctx context.Context, q querier, sunsetID int64) ([]engine.Action, error) {
	return db.queryActions(ctx, q, fmt.Sprintf("list actions of sunset %d", sunsetID),
		db.q.listActions, sunsetID)
}

func (db *DB) getAction(ctx context.Context, q querier, sunsetID int64, key string) (*engine.Action, error) {
	a, err := scanAction(q.QueryRowContext(ctx, db.q.getAction, sunsetID, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "Sunset %d has no action %q.", sunsetID, key)
	}
	if err != nil {
		return nil, db.translate(err, fmt.Sprintf("read action %q of sunset %d", key, sunsetID))
	}
	return &a, nil
}

func (db *DB) putAction(ctx context.Context, q querier, a *engine.Action) error {
	if a.Key == "" {
		return sunset.Errorf(sunset.EINVALID, "An action needs a key.")
	}
	if a.At.IsZero() {
		return sunset.Errorf(sunset.EINVALID, "Action %q has no instant.", a.Key)
	}
	a.At = normTime(a.At)
	a.DoneAt = normTime(a.DoneAt)
	a.FailingSince = normTime(a.FailingSince)
	a.RetryAt = normTime(a.RetryAt)
	_, err := q.ExecContext(ctx, db.q.putAction, a.SunsetID, a.Key, db.timeArg(a.At), a.Seq, a.Kind, a.Name,
		a.Detail, string(a.Status), a.Revision, db.timeArg(a.DoneAt), a.Attempts, a.LastError,
		db.timeArg(a.FailingSince), db.timeArg(a.RetryAt))
	if err != nil {
		if db.isForeignKey(err) {
			return sunset.Errorf(sunset.ENOTFOUND, "No sunset has id %d (action %q).", a.SunsetID, a.Key)
		}
		return db.translate(err, fmt.Sprintf("store action %q of sunset %d", a.Key, a.SunsetID))
	}
	return nil
}

func (db *DB) dueActions(ctx context.Context, q querier, now time.Time, limit int) ([]engine.Action, error) {
	// Stored instants are multiples of Precision, so at <= trunc(now) exactly when at <= now.
	at := db.timeArg(normTime(now))
	if limit <= 0 {
		return db.queryActions(ctx, q, "list due actions", db.q.dueActions, string(engine.ActionPending), at)
	}
	return db.queryActions(ctx, q, "list due actions", db.q.dueActionsLimit,
		string(engine.ActionPending), at, limit)
}
