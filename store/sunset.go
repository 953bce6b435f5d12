package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

func scanSunset(row scanner) (*engine.Sunset, error) {
	var (
		s        engine.Sunset
		state    string
		paused   string
		signoffs []byte
	)
	err := row.Scan(&s.ID, &s.Name, &state, &paused, &s.Revision, &s.Plan, &s.PlanHash, &signoffs,
		&s.HeadSeq, &s.HeadHash, timeCol{&s.CreatedAt}, timeCol{&s.UpdatedAt})
	if err != nil {
		return nil, err
	}
	s.State = engine.State(state)
	s.PausedFrom = engine.State(paused)
	if len(s.Plan) == 0 {
		s.Plan = nil
	}
	if err := json.Unmarshal(signoffs, &s.Signoffs); err != nil {
		return nil, fmt.Errorf("store: sunset %q: signoffs: %w", s.Name, err)
	}
	if len(s.Signoffs) == 0 {
		s.Signoffs = nil
	}
	return &s, nil
}

func (db *DB) getSunset(ctx context.Context, q querier, query, name string) (*engine.Sunset, error) {
	s, err := scanSunset(q.QueryRowContext(ctx, query, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "No sunset is named %q.", name)
	}
	if err != nil {
		return nil, db.translate(err, fmt.Sprintf("read sunset %q", name))
	}
	return s, nil
}

func (db *DB) listSunsets(ctx context.Context, q querier) ([]*engine.Sunset, error) {
	rows, err := q.QueryContext(ctx, db.q.listSunsets)
	if err != nil {
		return nil, db.translate(err, "list sunsets")
	}
	defer rows.Close()
	var list []*engine.Sunset
	for rows.Next() {
		s, err := scanSunset(rows)
		if err != nil {
			return nil, db.translate(err, "list sunsets")
		}
		list = append(list, s)
	}
	if err := rows.Err(); err != nil {
		return nil, db.translate(err, "list sunsets")
	}
	return list, nil
}

// sunsetArgs normalises s's instants and returns its plan and signoffs as stored.
func (db *DB) sunsetArgs(s *engine.Sunset) (plan []byte, signoffs string, err error) {
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = db.now()
	}
	s.UpdatedAt = normTime(s.UpdatedAt)
	plan = s.Plan
	if plan == nil {
		plan = []byte{} // the column is NOT NULL
	}
	list := s.Signoffs
	if list == nil {
		list = []string{}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, "", fmt.Errorf("store: sunset %q: signoffs: %w", s.Name, err)
	}
	return plan, string(b), nil
}

func (db *DB) createSunset(ctx context.Context, q querier, s *engine.Sunset) error {
	if s.Name == "" {
		return sunset.Errorf(sunset.EINVALID, "A sunset needs a name.")
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	s.CreatedAt = normTime(s.CreatedAt)
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = s.CreatedAt
	}
	plan, signoffs, err := db.sunsetArgs(s)
	if err != nil {
		return err
	}
	var id int64
	err = q.QueryRowContext(ctx, db.q.insertSunset, s.Name, string(s.State), string(s.PausedFrom),
		s.Revision, plan, s.PlanHash, signoffs, s.HeadSeq, s.HeadHash,
		db.timeArg(s.CreatedAt), db.timeArg(s.UpdatedAt)).Scan(&id)
	if err != nil {
		if db.isUnique(err) {
			return sunset.Errorf(sunset.ECONFLICT, "A sunset named %q already exists.", s.Name)
		}
		return db.translate(err, fmt.Sprintf("create sunset %q", s.Name))
	}
	s.ID = id
	return nil
}

func (db *DB) updateSunset(ctx context.Context, q querier, s *engine.Sunset) error {
	plan, signoffs, err := db.sunsetArgs(s)
	if err != nil {
		return err
	}
	res, err := q.ExecContext(ctx, db.q.updateSunset, string(s.State), string(s.PausedFrom),
		s.Revision, plan, s.PlanHash, signoffs, s.HeadSeq, s.HeadHash, db.timeArg(s.UpdatedAt), s.ID)
	if err != nil {
		return db.translate(err, fmt.Sprintf("update sunset %q", s.Name))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.translate(err, fmt.Sprintf("update sunset %q", s.Name))
	}
	if n == 0 {
		return sunset.Errorf(sunset.ENOTFOUND, "No sunset is named %q.", s.Name)
	}
	return nil
}
