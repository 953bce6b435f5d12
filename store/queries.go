package store

// queries are the SQL texts of one dialect, rebound once when the DB is made.
type queries struct {
	getSunset, lockSunset, listSunsets, insertSunset, updateSunset string

	listActions, getAction, putAction, dueActions, dueActionsLimit string

	insertEvent, listEvents string

	heartbeat string
}

const (
	sunsetColumns = `id, name, state, paused_from, revision, plan, plan_hash, signoffs,
	head_seq, head_hash, created_at, updated_at`

	// Action.Sunset is the sunset's name, hence the join.
	actionColumns = `a.sunset_id, s.name, a.key, a.at, a.seq, a.kind, a.name, a.detail, a.status,
	a.revision, a.done_at, a.attempts, a.last_error, a.failing_since, a.retry_at`
	actionFrom = ` FROM actions a JOIN sunsets s ON s.id = a.sunset_id`

	eventColumns = `id, sunset_id, seq, at, type, actor, data, prev_hash, hash`
)

func newQueries(dialect string) queries {
	lock := ""
	if dialect == Postgres {
		// SQLite has no row locks; its transactions begin IMMEDIATE instead (store/sqlite).
		lock = " FOR UPDATE"
	}
	q := queries{
		getSunset:   `SELECT ` + sunsetColumns + ` FROM sunsets WHERE name = ?`,
		lockSunset:  `SELECT ` + sunsetColumns + ` FROM sunsets WHERE name = ?` + lock,
		listSunsets: `SELECT ` + sunsetColumns + ` FROM sunsets ORDER BY name`,
		insertSunset: `INSERT INTO sunsets (name, state, paused_from, revision, plan, plan_hash,
	signoffs, head_seq, head_hash, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		updateSunset: `UPDATE sunsets SET state = ?, paused_from = ?, revision = ?, plan = ?,
	plan_hash = ?, signoffs = ?, head_seq = ?, head_hash = ?, updated_at = ? WHERE id = ?`,

		listActions: `SELECT ` + actionColumns + actionFrom + ` WHERE a.sunset_id = ?
	ORDER BY a.at, a.seq, a.key`,
		getAction: `SELECT ` + actionColumns + actionFrom + ` WHERE a.sunset_id = ? AND a.key = ?`,
		putAction: `INSERT INTO actions (sunset_id, key, at, seq, kind, name, detail, status, revision, done_at,
	attempts, last_error, failing_since, retry_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (sunset_id, key) DO UPDATE SET at = excluded.at, seq = excluded.seq, kind = excluded.kind,
	name = excluded.name, detail = excluded.detail, status = excluded.status,
	revision = excluded.revision, done_at = excluded.done_at, attempts = excluded.attempts,
	last_error = excluded.last_error, failing_since = excluded.failing_since, retry_at = excluded.retry_at`,
		dueActions: `SELECT ` + actionColumns + actionFrom + ` WHERE a.status = ? AND a.at <= ?
	ORDER BY a.at, a.seq, a.key, a.sunset_id`,
		dueActionsLimit: `SELECT ` + actionColumns + actionFrom + ` WHERE a.status = ? AND a.at <= ?
	ORDER BY a.at, a.seq, a.key, a.sunset_id LIMIT ?`,

		insertEvent: `INSERT INTO events (sunset_id, seq, at, type, actor, data, prev_hash, hash)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		listEvents: `SELECT ` + eventColumns + ` FROM events WHERE sunset_id = ? ORDER BY seq`,

		heartbeat: `INSERT INTO heartbeats (replica, beat_at) VALUES (?, ?)
	ON CONFLICT (replica) DO UPDATE SET beat_at = excluded.beat_at`,
	}
	for _, s := range []*string{
		&q.getSunset, &q.lockSunset, &q.listSunsets, &q.insertSunset, &q.updateSunset,
		&q.listActions, &q.getAction, &q.putAction, &q.dueActions, &q.dueActionsLimit,
		&q.insertEvent, &q.listEvents, &q.heartbeat,
	} {
		*s = rebind(dialect, *s)
	}
	return q
}
