package store

import (
	"context"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

// ConsumerSignals measures the consumers.* guardrail signals from what the gateways report:
//
//   - consumers.active: distinct consumers with requests in the window (over, default 7d),
//     narrowed by {feature=NAME} and {consumer=ID};
//   - consumers.unaware_ratio: the share of those active consumers that no gateway has yet
//     served a Deprecation header (no data when none is active).
//
// A {tier=...} label needs the consumers' contacts, which these tables do not hold: such a
// condition has no data (and so does not trip) rather than a wrong value.
func (db *DB) ConsumerSignals() engine.Signals {
	return engine.SignalsFunc(func(ctx context.Context, tx engine.Tx, s *engine.Sunset, c plan.Condition, now time.Time) (float64, bool, error) {
		if _, ok := c.Labels["tier"]; ok {
			return 0, false, nil
		}
		if c.Signal != "consumers.active" && c.Signal != "consumers.unaware_ratio" {
			return 0, false, nil
		}
		over := c.Over
		if over <= 0 {
			over = 7 * 24 * time.Hour
		}
		query := `SELECT DISTINCT c.consumer, a.consumer IS NOT NULL FROM usage_counts c
	LEFT JOIN consumer_awareness a ON a.sunset_id = c.sunset_id AND a.consumer = c.consumer
	WHERE c.sunset_id = ? AND c.count > 0 AND c.hour >= ? AND c.hour <= ?`
		args := []any{s.ID, db.timeArg(normTime(now.Add(-over).Truncate(time.Hour))), db.timeArg(normTime(now))}
		if v, ok := c.Labels["feature"]; ok {
			query += ` AND c.feature = ?`
			args = append(args, v)
		}
		if v, ok := c.Labels["consumer"]; ok {
			query += ` AND c.consumer = ?`
			args = append(args, v)
		}
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
	})
}
