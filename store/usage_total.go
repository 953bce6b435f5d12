package store

import (
	"context"
)

// Total returns how many requests gateways have counted for the sunset named name, over all
// hours, features and consumers; 0 for a sunset without usage or unknown. It only grows, so
// two readings a while apart tell the traffic in between (runbook.CounterRate).
func (u *Usage) Total(ctx context.Context, name string) (uint64, error) {
	db := u.db
	var n int64
	err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT CAST(COALESCE(SUM(c.count), 0) AS BIGINT)
	FROM usage_counts c JOIN sunsets s ON s.id = c.sunset_id WHERE s.name = ?`), name).Scan(&n)
	if err != nil {
		return 0, db.translate(err, "total the usage counts")
	}
	return uint64(n), nil
}
