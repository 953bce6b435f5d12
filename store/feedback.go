package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/plan"
)

// Feedback keeps users' feedback in the store's database.
type Feedback struct{ db *DB }

// Feedback returns the feedback kept in db.
func (db *DB) Feedback() *Feedback { return &Feedback{db: db} }

const feedbackColumns = `f.id, s.name, f.at, f.mood, f.rating, f.category, f.text, f.contact, f.consumer, f.tier, f.locale, f.source, f.answers, f.sender`

// Add stores items, all for the sunset named by their Sunset field, in one transaction, and
// sets their IDs. A sunset that does not exist is sunset.ENOTFOUND and nothing is stored.
func (f *Feedback) Add(ctx context.Context, items []feedback.Feedback) error {
	if len(items) == 0 {
		return nil
	}
	return f.db.InTx(ctx, func(tx engine.Tx) error {
		// A plain read, not LockSunset: the sunset's row lock would serialise every submission
		// behind the previous one's commit (about 480/s on PostgreSQL, bench/controlplane.sh),
		// and feedback needs only the sunset's id, which the foreign key keeps valid.
		s, err := f.db.getSunset(ctx, tx.SQL(), f.db.q.getSunset, items[0].Sunset)
		if err != nil {
			return err
		}
		q := rebind(f.db.dialect, `INSERT INTO feedback (sunset_id, at, mood, rating, category, text, contact, consumer, tier, locale, source, answers, sender)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
		for i := range items {
			it := &items[i]
			if it.Sunset != s.Name {
				return fmt.Errorf("store: feedback for %q and %q in one call", s.Name, it.Sunset)
			}
			it.At = normTime(it.At)
			answers := []byte("{}")
			if len(it.Answers) > 0 {
				if answers, err = json.Marshal(it.Answers); err != nil {
					return err
				}
			}
			err := tx.SQL().QueryRowContext(ctx, q, s.ID, f.db.timeArg(it.At), it.Mood, it.Rating, it.Category,
				it.Text, it.Contact, it.Consumer, it.Tier, it.Locale, it.Source, string(answers), it.Sender).Scan(&it.ID)
			if err != nil {
				return f.db.translate(err, "store feedback of "+s.Name)
			}
		}
		return nil
	})
}

// List returns the sunset's feedback received at or after since, oldest first.
func (f *Feedback) List(ctx context.Context, sunsetName string, since time.Time) ([]feedback.Feedback, error) {
	if _, err := f.db.GetSunset(ctx, sunsetName); err != nil {
		return nil, err
	}
	return f.list(ctx, f.db.sql, `s.name = ?`, sunsetName, since)
}

func (f *Feedback) list(ctx context.Context, q querier, where string, key any, since time.Time) ([]feedback.Feedback, error) {
	query := rebind(f.db.dialect, `SELECT `+feedbackColumns+` FROM feedback f JOIN sunsets s ON s.id = f.sunset_id
	WHERE `+where+` AND f.at >= ? ORDER BY f.at, f.id`)
	var sinceArg any = f.db.timeArg(normTime(since))
	if since.IsZero() {
		sinceArg = f.db.timeArg(time.Unix(0, 0).UTC())
	}
	rows, err := q.QueryContext(ctx, query, key, sinceArg)
	if err != nil {
		return nil, f.db.translate(err, "list feedback")
	}
	defer rows.Close()
	var out []feedback.Feedback
	for rows.Next() {
		var it feedback.Feedback
		var answers string
		if err := rows.Scan(&it.ID, &it.Sunset, timeCol{&it.At}, &it.Mood, &it.Rating, &it.Category, &it.Text,
			&it.Contact, &it.Consumer, &it.Tier, &it.Locale, &it.Source, &answers, &it.Sender); err != nil {
			return nil, f.db.translate(err, "read feedback")
		}
		if answers != "" && answers != "{}" {
			if err := json.Unmarshal([]byte(answers), &it.Answers); err != nil {
				return nil, fmt.Errorf("store: feedback %d: answers: %w", it.ID, err)
			}
		}
		out = append(out, it)
	}
	return out, f.db.translate(rows.Err(), "list feedback")
}

// Signals measures the feedback signals for guardrails, reading inside the engine's transaction.
// A {tier=...} label reads the tier each message carries.
func (f *Feedback) Signals() engine.Signals { return f.TieredSignals(nil) }

// TieredSignals is Signals where a message without a tier whose consumer is known takes the
// consumer's tier from tiers (the contacts), so that {tier=critical} counts what critical
// consumers wrote through the form as well as what an import labelled. It also judges whether a
// trip is suspect (engine.Suspicion).
func (f *Feedback) TieredSignals(tiers Tiers) engine.Signals {
	return feedbackSignals{f: f, tiers: tiers}
}

// feedbackSignals measures the feedback signals and judges their trips.
type feedbackSignals struct {
	f     *Feedback
	tiers Tiers
}

var (
	_ engine.Signals   = feedbackSignals{}
	_ engine.Suspicion = feedbackSignals{}
)

// window lists the sunset's feedback since since, with the tiers c's labels need.
func (fs feedbackSignals) window(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, since time.Time) ([]feedback.Feedback, error) {
	items, err := fs.f.list(ctx, tx.SQL(), `f.sunset_id = ?`, s.ID, since)
	if err != nil {
		return nil, err
	}
	if _, ok := c.Labels["tier"]; ok && fs.tiers != nil {
		m, err := fs.tiers(ctx, tx, s)
		if err != nil {
			return nil, fmt.Errorf("the tiers of %s's consumers: %w", s.Name, err)
		}
		for i := range items {
			if items[i].Tier == "" && items[i].Consumer != "" {
				items[i].Tier = m[items[i].Consumer]
			}
		}
	}
	return items, nil
}

// Signal measures c over the sunset's feedback.
func (fs feedbackSignals) Signal(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time) (float64, bool, error) {
	var since time.Time
	if c.Over > 0 {
		since = now.Add(-c.Over)
	}
	items, err := fs.window(ctx, tx, s, c, since)
	if err != nil {
		return 0, false, err
	}
	v, ok := feedback.Measure(c, items, now)
	return v, ok, nil
}

// Suspect judges a tripped condition c (feedback.Driving, feedback.Judge): its window is c's
// `over` (feedback.SuspectWindow without one); a sender is seen when it posted about the sunset
// before the window, a consumer when the gateway served it before the window. Conditions that
// trip on a low value (< <=) are never suspect: a burst cannot lower a signal to trip it.
func (fs feedbackSignals) Suspect(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time) (*engine.SuspectTrip, error) {
	if c.Op != ">" && c.Op != ">=" {
		return nil, nil
	}
	if c.Over <= 0 {
		c.Over = feedback.SuspectWindow
	}
	since := now.Add(-c.Over)
	items, err := fs.window(ctx, tx, s, c, since)
	if err != nil {
		return nil, err
	}
	driving := feedback.Driving(c, items, now)
	if len(driving) < feedback.SuspectMinNew {
		return nil, nil
	}
	db := fs.f.db
	senders, err := db.distinct(ctx, tx, `SELECT DISTINCT sender FROM feedback WHERE sunset_id = ? AND sender <> '' AND at < ?`,
		s.ID, db.timeArg(normTime(since)))
	if err != nil {
		return nil, err
	}
	consumers, err := db.distinct(ctx, tx, `SELECT DISTINCT consumer FROM usage_counts WHERE sunset_id = ? AND count > 0 AND hour < ?`,
		s.ID, db.timeArg(normTime(since.Truncate(time.Hour))))
	if err != nil {
		return nil, err
	}
	p := feedback.Judge(driving, func(m feedback.Feedback) bool {
		return senders[m.Sender] || (m.Consumer != "" && consumers[m.Consumer])
	})
	if !p.Suspect() {
		return nil, nil
	}
	return &engine.SuspectTrip{Since: since.UTC(), Driving: p.Driving, New: p.New}, nil
}

// distinct reads a one-column query's values as a set, inside tx.
func (db *DB) distinct(ctx context.Context, tx engine.Tx, query string, args ...any) (map[string]bool, error) {
	rows, err := tx.SQL().QueryContext(ctx, rebind(db.dialect, query), args...)
	if err != nil {
		return nil, db.translate(err, "read who was seen before")
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, db.translate(err, "read who was seen before")
		}
		out[v] = true
	}
	return out, db.translate(rows.Err(), "read who was seen before")
}
