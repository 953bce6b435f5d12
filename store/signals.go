package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
	"github.com/sunsetops/sunset/usage"
)

// Tiers tells the tier of each consumer of a sunset (by consumer id), as its contacts say. It
// runs inside the engine's transaction: a lookup that reads the store reads through tx (on
// SQLite the pool has one connection, held by tx). Consumers without a tier are left out.
type Tiers func(ctx context.Context, tx engine.Tx, s *engine.Sunset) (map[string]string, error)

// DefaultGatewayWindow is the window of the gateway signals written without `over`.
const DefaultGatewayWindow = time.Hour

// ConsumerSignals measures the consumers.* guardrail signals from what the gateways report and
// what the notify ledger delivered:
//
//   - consumers.active: distinct consumers with requests in the window (over, default 7d);
//   - consumers.unaware_ratio: the share of those active consumers that no gateway has yet
//     served a Deprecation header (no data when none is active);
//   - consumers.laggards: consumers told — served a Deprecation header, or delivered a notice —
//     that still called the service after they were told, within the window (over, default
//     LaggardWindow). The server sees the retiring service's traffic only: a consumer on the
//     alternative has stopped calling it.
//
// Each is narrowed by {feature=NAME}, {consumer=ID} and {tier=NAME}; a tier is looked up with
// tiers (nil: a tier label has no data).
func (db *DB) ConsumerSignals(tiers Tiers) engine.Signals {
	return engine.SignalsFunc(func(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time) (float64, bool, error) {
		keep, ok, err := tierFilter(ctx, tx, s, c, tiers)
		if err != nil || !ok {
			return 0, false, err
		}
		switch c.Signal {
		case "consumers.active", "consumers.unaware_ratio":
			return db.activeSignal(ctx, tx, s, c, now, keep)
		case "consumers.laggards":
			return db.laggardSignal(ctx, tx, s, c, now, keep)
		}
		return 0, false, nil
	})
}

// tierFilter returns what keeps a consumer under c's {tier=...} label (nil: every consumer).
// ok is false when the label cannot be measured: no lookup is wired.
func tierFilter(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, tiers Tiers) (keep func(string) bool, ok bool, err error) {
	want, has := c.Labels["tier"]
	if !has {
		return nil, true, nil
	}
	if tiers == nil {
		return nil, false, nil
	}
	m, err := tiers(ctx, tx, s)
	if err != nil {
		return nil, false, fmt.Errorf("the tiers of %s's consumers: %w", s.Name, err)
	}
	return func(consumer string) bool { return m[consumer] == want }, true, nil
}

// usageWhere narrows usage_counts c by the condition's feature and consumer labels.
func usageWhere(c plan.Condition, query string, args []any) (string, []any) {
	if v, ok := c.Labels["feature"]; ok {
		query += ` AND c.feature = ?`
		args = append(args, v)
	}
	if v, ok := c.Labels["consumer"]; ok {
		query += ` AND c.consumer = ?`
		args = append(args, v)
	}
	return query, args
}

// windowStart is the first hour bucket inside a window of length over ending at now.
func (db *DB) windowStart(now time.Time, over time.Duration) any {
	return db.timeArg(normTime(now.Add(-over).Truncate(time.Hour)))
}

func (db *DB) activeSignal(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time, keep func(string) bool) (float64, bool, error) {
	over := c.Over
	if over <= 0 {
		over = 7 * 24 * time.Hour
	}
	query, args := usageWhere(c, `SELECT DISTINCT c.consumer, a.consumer IS NOT NULL FROM usage_counts c
	LEFT JOIN consumer_awareness a ON a.sunset_id = c.sunset_id AND a.consumer = c.consumer
	WHERE c.sunset_id = ? AND c.count > 0 AND c.hour >= ? AND c.hour <= ?`,
		[]any{s.ID, db.windowStart(now, over), db.timeArg(normTime(now))})
	rows, err := tx.SQL().QueryContext(ctx, rebind(db.dialect, query), args...)
	if err != nil {
		return 0, false, db.translate(err, "measure "+c.Signal)
	}
	defer rows.Close()
	active, aware := map[string]bool{}, map[string]bool{}
	for rows.Next() {
		var consumer string
		var told bool
		if err := rows.Scan(&consumer, &told); err != nil {
			return 0, false, db.translate(err, "measure "+c.Signal)
		}
		if keep != nil && !keep(consumer) {
			continue
		}
		active[consumer] = true
		aware[consumer] = aware[consumer] || told
	}
	if err := rows.Err(); err != nil {
		return 0, false, db.translate(err, "measure "+c.Signal)
	}
	if c.Signal == "consumers.active" {
		return float64(len(active)), true, nil
	}
	if len(active) == 0 {
		return 0, false, nil
	}
	unaware := 0
	for k := range active {
		if !aware[k] {
			unaware++
		}
	}
	return float64(unaware) / float64(len(active)), true, nil
}

// laggardSignal counts the consumers told and still calling: an hour bucket with requests that
// starts after the consumer was first told (in-band or by a delivered notice), within the window.
func (db *DB) laggardSignal(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time, keep func(string) bool) (float64, bool, error) {
	over := c.Over
	if over <= 0 {
		over = LaggardWindow
	}
	query, args := usageWhere(c, `WITH told AS (
		SELECT who, MIN(t) AS t FROM (
			SELECT consumer AS who, first_seen AS t FROM consumer_awareness WHERE sunset_id = ?
			UNION ALL
			SELECT recipient, delivered_at FROM outbox WHERE sunset_id = ? AND delivered_at IS NOT NULL
		) x GROUP BY who
	)
	SELECT DISTINCT c.consumer FROM usage_counts c JOIN told ON told.who = c.consumer
	WHERE c.sunset_id = ? AND c.count > 0 AND c.hour > told.t AND c.hour >= ? AND c.hour <= ?`,
		[]any{s.ID, s.ID, s.ID, db.windowStart(now, over), db.timeArg(normTime(now))})
	rows, err := tx.SQL().QueryContext(ctx, rebind(db.dialect, query), args...)
	if err != nil {
		return 0, false, db.translate(err, "measure "+c.Signal)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var consumer string
		if err := rows.Scan(&consumer); err != nil {
			return 0, false, db.translate(err, "measure "+c.Signal)
		}
		if consumer == usage.OtherConsumer || keep != nil && !keep(consumer) {
			continue
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, false, db.translate(err, "measure "+c.Signal)
	}
	return float64(n), true, nil
}

// GatewaySignals measures the gateway.* guardrail signals:
//
//   - gateway.requests: the requests the gateways answered in the window (over, default
//     DefaultGatewayWindow);
//   - gateway.error_rate: the share of those answered with a server error (status 500 and
//     above, from the service or from a gateway that could not reach it; the plan's own
//     refusals — brownouts, gone, read-only — are not errors); no data without requests;
//   - gateway.brownout_complaints: the feedback messages received while a brownout window of
//     the plan was open, within the window (over; without it, all of them).
//
// The first two are narrowed by {feature=NAME}, {consumer=ID} and {tier=NAME}; the complaints
// by {category=NAME}, {consumer=ID} and {tier=NAME} (the message's tier, else the consumer's).
func (db *DB) GatewaySignals(tiers Tiers) engine.Signals {
	return engine.SignalsFunc(func(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time) (float64, bool, error) {
		keep, ok, err := tierFilter(ctx, tx, s, c, tiers)
		if err != nil || !ok {
			return 0, false, err
		}
		switch c.Signal {
		case "gateway.requests", "gateway.error_rate":
			return db.answerSignal(ctx, tx, s, c, now, keep)
		case "gateway.brownout_complaints":
			return db.complaintSignal(ctx, tx, s, c, now, keep)
		}
		return 0, false, nil
	})
}

func (db *DB) answerSignal(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time, keep func(string) bool) (float64, bool, error) {
	over := c.Over
	if over <= 0 {
		over = DefaultGatewayWindow
	}
	query, args := usageWhere(c, `SELECT c.consumer, SUM(c.count), SUM(c.errors) FROM usage_counts c
	WHERE c.sunset_id = ? AND c.hour >= ? AND c.hour <= ?`,
		[]any{s.ID, db.windowStart(now, over), db.timeArg(normTime(now))})
	rows, err := tx.SQL().QueryContext(ctx, rebind(db.dialect, query+` GROUP BY c.consumer`), args...)
	if err != nil {
		return 0, false, db.translate(err, "measure "+c.Signal)
	}
	defer rows.Close()
	var total, errs int64
	for rows.Next() {
		var consumer string
		var n, e int64
		if err := rows.Scan(&consumer, &n, &e); err != nil {
			return 0, false, db.translate(err, "measure "+c.Signal)
		}
		if keep != nil && !keep(consumer) {
			continue
		}
		total, errs = total+n, errs+e
	}
	if err := rows.Err(); err != nil {
		return 0, false, db.translate(err, "measure "+c.Signal)
	}
	if c.Signal == "gateway.requests" {
		return float64(total), true, nil
	}
	if total == 0 {
		return 0, false, nil
	}
	return float64(errs) / float64(total), true, nil
}

func (db *DB) complaintSignal(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time, keep func(string) bool) (float64, bool, error) {
	p, problems := plan.ParseStored(s.Name+".yaml", s.Plan)
	if err := problems.Err(); err != nil {
		return 0, false, fmt.Errorf("the plan of %s: %w", s.Name, err)
	}
	pol, err := policy.Compile(p, policy.Options{})
	if err != nil {
		return 0, false, fmt.Errorf("the brownouts of %s: %w", s.Name, err)
	}
	var since time.Time
	if c.Over > 0 {
		since = now.Add(-c.Over)
	}
	items, err := db.Feedback().list(ctx, tx.SQL(), `f.sunset_id = ?`, s.ID, since)
	if err != nil {
		return 0, false, err
	}
	n := 0
	for _, f := range items {
		if f.At.After(now) || !pol.BrownoutOpen(f.At) || !feedbackLabels(c, f, keep) {
			continue
		}
		n++
	}
	return float64(n), true, nil
}

// feedbackLabels reports whether message f passes c's category, consumer and tier labels; a
// message without a tier takes its consumer's (keep).
func feedbackLabels(c plan.Condition, f feedback.Feedback, keep func(string) bool) bool {
	if v, ok := c.Labels["category"]; ok && f.Category != v {
		return false
	}
	if v, ok := c.Labels["consumer"]; ok && f.Consumer != v {
		return false
	}
	if v, ok := c.Labels["tier"]; ok {
		if f.Tier != "" {
			return f.Tier == v
		}
		return f.Consumer != "" && keep != nil && keep(f.Consumer)
	}
	return true
}
