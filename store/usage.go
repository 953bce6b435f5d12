package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/gateway"
)

// Usage keeps what gateways report: request counts per feature, consumer and hour, and when each
// consumer was first served a Deprecation header.
type Usage struct{ db *DB }

// Usage returns the usage records kept in db.
func (db *DB) Usage() *Usage { return &Usage{db: db} }

// RecordUsage adds a gateway's flush to the sunset named name, in one transaction. A flush whose
// (gateway, seq) was already recorded changes nothing and returns applied false, so a gateway may
// retry a flush whose answer it did not get. An unknown sunset is ENOTFOUND.
func (u *Usage) RecordUsage(ctx context.Context, name string, b gateway.Batch) (applied bool, err error) {
	db := u.db
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: begin transaction: %w", err)
	}
	defer func() {
		if !applied || err != nil {
			tx.Rollback()
		}
	}()
	var id int64
	err = tx.QueryRowContext(ctx, rebind(db.dialect, `SELECT id FROM sunsets WHERE name = ?`), name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, sunset.Errorf(sunset.ENOTFOUND, "No sunset is named %q.", name)
	}
	if err != nil {
		return false, db.translate(err, "find the sunset")
	}
	res, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO usage_flushes (sunset_id, gateway, seq, received_at)
	VALUES (?, ?, ?, ?) ON CONFLICT (sunset_id, gateway, seq) DO NOTHING`), id, b.Gateway, b.Seq, db.timeArg(normTime(db.now())))
	if err != nil {
		return false, db.translate(err, "record the usage flush")
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err // already recorded (or the driver cannot tell)
	}
	for _, c := range b.Counts {
		_, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO usage_counts (sunset_id, feature, consumer, hour, count)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (sunset_id, feature, consumer, hour) DO UPDATE SET count = usage_counts.count + excluded.count`),
			id, c.Feature, c.Consumer, db.timeArg(normTime(c.Hour)), int64(c.Count))
		if err != nil {
			return false, db.translate(err, "record usage counts")
		}
	}
	for _, a := range b.Aware {
		_, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO consumer_awareness (sunset_id, consumer, first_seen)
		VALUES (?, ?, ?) ON CONFLICT (sunset_id, consumer) DO UPDATE SET first_seen = excluded.first_seen
		WHERE excluded.first_seen < consumer_awareness.first_seen`), id, a.Consumer, db.timeArg(normTime(a.FirstSeen)))
		if err != nil {
			return false, db.translate(err, "record awareness")
		}
	}
	if err := tx.Commit(); err != nil {
		return false, db.translate(err, "commit the usage flush")
	}
	return true, nil
}

// Counts returns the sunset's usage counts ordered by hour, feature and consumer.
func (u *Usage) Counts(ctx context.Context, name string) ([]gateway.Count, error) {
	db := u.db
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT c.feature, c.consumer, c.hour, c.count
	FROM usage_counts c JOIN sunsets s ON s.id = c.sunset_id WHERE s.name = ? ORDER BY c.hour, c.feature, c.consumer`), name)
	if err != nil {
		return nil, db.translate(err, "list usage counts")
	}
	defer rows.Close()
	var out []gateway.Count
	for rows.Next() {
		var c gateway.Count
		var hour any
		var n int64
		if err := rows.Scan(&c.Feature, &c.Consumer, &hour, &n); err != nil {
			return nil, err
		}
		c.Hour, c.Count = scanInstant(hour), uint64(n)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Awareness returns when each consumer of the sunset was first told in-band, by consumer.
func (u *Usage) Awareness(ctx context.Context, name string) ([]gateway.Awareness, error) {
	db := u.db
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT a.consumer, a.first_seen
	FROM consumer_awareness a JOIN sunsets s ON s.id = a.sunset_id WHERE s.name = ? ORDER BY a.consumer`), name)
	if err != nil {
		return nil, db.translate(err, "list awareness")
	}
	defer rows.Close()
	var out []gateway.Awareness
	for rows.Next() {
		var a gateway.Awareness
		var at any
		if err := rows.Scan(&a.Consumer, &at); err != nil {
			return nil, err
		}
		a.FirstSeen = scanInstant(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// LaggardWindow is how far back Laggards looks for calls: a consumer told long ago that has
// not called for this long has moved (or left), and is no laggard.
const LaggardWindow = 7 * 24 * time.Hour

// Laggards returns the consumers of the sunset named name that were told in-band (a gateway
// served them a Deprecation header) and are still calling: they have requests counted in an
// hour that starts after the instant they were first told, within LaggardWindow before now.
// They are whom `audience: laggards` brownouts target. The list is sorted; an unknown sunset
// has none.
func (u *Usage) Laggards(ctx context.Context, name string, now time.Time) ([]string, error) {
	db := u.db
	// c.hour > a.first_seen: the hour bucket starts after the first warning, so the calls it
	// counts came after the consumer was told (a bucket holding the warning itself may hold
	// calls from before it).
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT DISTINCT a.consumer
	FROM consumer_awareness a
	JOIN sunsets s ON s.id = a.sunset_id
	JOIN usage_counts c ON c.sunset_id = a.sunset_id AND c.consumer = a.consumer
	WHERE s.name = ? AND c.count > 0 AND c.hour > a.first_seen AND c.hour >= ?
	ORDER BY a.consumer`), name, db.timeArg(normTime(now.Add(-LaggardWindow).Truncate(time.Hour))))
	if err != nil {
		return nil, db.translate(err, "list laggards")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if id != gateway.OtherConsumer {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// scanInstant reads an instant column: nanoseconds on SQLite, a time on PostgreSQL.
func scanInstant(v any) time.Time {
	switch t := v.(type) {
	case int64:
		return time.Unix(0, t).UTC()
	case time.Time:
		return t.UTC()
	}
	return time.Time{}
}
