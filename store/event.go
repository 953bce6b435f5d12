package store

import (
	"context"
	"encoding/json"
	"fmt"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

func (db *DB) appendEvent(ctx context.Context, q querier, e *engine.Event) error {
	if e.At.IsZero() {
		return sunset.Errorf(sunset.EINVALID, "Event %d of sunset %d has no instant.", e.Seq, e.SunsetID)
	}
	if at := normTime(e.At); !at.Equal(e.At) {
		// The hash covers the instant: truncating it here would break the chain.
		return sunset.Errorf(sunset.EINVALID,
			"Event %d of sunset %d is at %s, finer than the store keeps; truncate it to %s before hashing.",
			e.Seq, e.SunsetID, e.At.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"), Precision)
	}
	e.At = e.At.UTC()
	var data any // NULL when empty
	if len(e.Data) > 0 {
		if !json.Valid(e.Data) {
			return sunset.Errorf(sunset.EINVALID, "Event %d of sunset %d carries data that is not JSON.", e.Seq, e.SunsetID)
		}
		data = string(e.Data)
	}
	var id int64
	err := q.QueryRowContext(ctx, db.q.insertEvent, e.SunsetID, e.Seq, db.timeArg(e.At), e.Type,
		e.Actor, data, e.PrevHash, e.Hash).Scan(&id)
	if err != nil {
		switch {
		case db.isUnique(err):
			return sunset.Errorf(sunset.ECONFLICT, "Sunset %d already has an event %d.", e.SunsetID, e.Seq)
		case db.isForeignKey(err):
			return sunset.Errorf(sunset.ENOTFOUND, "No sunset has id %d (event %d).", e.SunsetID, e.Seq)
		}
		return db.translate(err, fmt.Sprintf("append event %d of sunset %d", e.Seq, e.SunsetID))
	}
	e.ID = id
	return nil
}

func (db *DB) listEvents(ctx context.Context, q querier, sunsetID int64) ([]engine.Event, error) {
	what := fmt.Sprintf("list events of sunset %d", sunsetID)
	rows, err := q.QueryContext(ctx, db.q.listEvents, sunsetID)
	if err != nil {
		return nil, db.translate(err, what)
	}
	defer rows.Close()
	var list []engine.Event
	for rows.Next() {
		var (
			e    engine.Event
			data []byte
		)
		err := rows.Scan(&e.ID, &e.SunsetID, &e.Seq, timeCol{&e.At}, &e.Type, &e.Actor, &data,
			&e.PrevHash, &e.Hash)
		if err != nil {
			return nil, db.translate(err, what)
		}
		if len(data) > 0 {
			e.Data = json.RawMessage(data)
		}
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return nil, db.translate(err, what)
	}
	return list, nil
}
