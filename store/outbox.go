package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/usage"
)

// Outbox is notify's outbox on the store's database.
type Outbox struct{ db *DB }

// Interface guard.
var (
	_ notify.Outbox         = (*Outbox)(nil)
	_ notify.PendingExports = (*Outbox)(nil)
)

// Outbox returns the notify outbox kept in db.
func (db *DB) Outbox() *Outbox { return &Outbox{db: db} }

const outboxColumns = `id, sunset_id, notice, template, channel, recipient, email, name, locale, tier,
	timezone, mandatory, changes, status, attempts, next_at, last_error, created_at, updated_at, delivered_at, data`

// insertColumns are the columns Enqueue writes, 17 per row.
const insertColumns = `sunset_id, notice, template, channel, recipient, email, name, locale, tier,
	timezone, mandatory, changes, status, next_at, created_at, updated_at, data`

// Enqueue inserts ds in tx with one statement per chunk, skipping rows whose (sunset, notice,
// recipient, channel) is already queued.
func (o *Outbox) Enqueue(ctx context.Context, tx *sql.Tx, ds []notify.Delivery) (int, error) {
	const perStmt = 500 // 8,500 parameters: under both SQLite's and PostgreSQL's limits
	total := 0
	for len(ds) > 0 {
		chunk := ds[:min(perStmt, len(ds))]
		ds = ds[len(chunk):]
		var b strings.Builder
		b.WriteString("INSERT INTO outbox (" + insertColumns + ") VALUES ")
		args := make([]any, 0, len(chunk)*17)
		for i, d := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
			changes, err := json.Marshal(d.Changes)
			if err != nil {
				return total, err
			}
			if d.Changes == nil {
				changes = []byte("[]")
			}
			data, err := json.Marshal(d.Data)
			if err != nil {
				return total, err
			}
			r := d.Recipient
			args = append(args, d.SunsetID, d.Notice, d.Template, d.Channel, r.ID, r.Email, r.Name, r.Locale,
				r.Tier, r.TimeZone, d.Mandatory, string(changes), string(notify.StatusQueued),
				o.db.timeArg(normTime(d.NextAt)), o.db.timeArg(normTime(d.CreatedAt)), o.db.timeArg(normTime(d.UpdatedAt)), string(data))
		}
		b.WriteString(" ON CONFLICT (sunset_id, notice, recipient, channel) DO NOTHING")
		res, err := tx.ExecContext(ctx, rebind(o.db.dialect, b.String()), args...)
		if err != nil {
			return total, o.db.translate(err, "queue deliveries")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(n)
	}
	return total, nil
}

// SuppressQueued marks the notice's queued, non-mandatory deliveries to suppressed addresses.
func (o *Outbox) SuppressQueued(ctx context.Context, tx *sql.Tx, sunsetID int64, notice string) (int, error) {
	res, err := tx.ExecContext(ctx, rebind(o.db.dialect, `UPDATE outbox SET status = ?, last_error = ?
	WHERE sunset_id = ? AND notice = ? AND status = ? AND NOT mandatory
	AND (lower(email) IN (SELECT address FROM suppressions) OR recipient IN (SELECT address FROM suppressions))`),
		string(notify.StatusSuppressed), "on the suppression list", sunsetID, notice, string(notify.StatusQueued))
	if err != nil {
		return 0, o.db.translate(err, "apply the suppression list")
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Told pages through the recipients a delivery reached.
func (o *Outbox) Told(ctx context.Context, tx *sql.Tx, sunsetID int64, after string, limit int) ([]notify.Recipient, error) {
	rows, err := tx.QueryContext(ctx, rebind(o.db.dialect, `SELECT recipient, MAX(email), MAX(name), MAX(locale),
	MAX(tier), MAX(timezone) FROM outbox WHERE sunset_id = ? AND status = ? AND recipient <> ? AND recipient > ?
	AND notice NOT LIKE ? GROUP BY recipient ORDER BY recipient LIMIT ?`), sunsetID, string(notify.StatusDelivered), notify.Broadcast, after,
		notify.TaskPrefix+"%", limit)
	if err != nil {
		return nil, o.db.translate(err, "list recipients told")
	}
	defer rows.Close()
	var out []notify.Recipient
	for rows.Next() {
		var r notify.Recipient
		if err := rows.Scan(&r.ID, &r.Email, &r.Name, &r.Locale, &r.Tier, &r.TimeZone); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// WithdrawTasks deletes the sunset's queued task reminders.
func (o *Outbox) WithdrawTasks(ctx context.Context, tx *sql.Tx, sunsetID int64) (int, error) {
	res, err := tx.ExecContext(ctx, rebind(o.db.dialect, `DELETE FROM outbox WHERE sunset_id = ? AND status = ?
	AND notice LIKE ?`), sunsetID, string(notify.StatusQueued), notify.TaskPrefix+"%")
	if err != nil {
		return 0, o.db.translate(err, "withdraw task reminders")
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ExportPending reports, in tx, whether user id's export of sunset is done but neither
// downloaded nor kept in a backup.
func (o *Outbox) ExportPending(ctx context.Context, tx *sql.Tx, sunset, id string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, rebind(o.db.dialect, `SELECT COUNT(*) FROM export_users
	WHERE sunset = ? AND user_id = ? AND state = 'done' AND downloads = 0 AND kept_in = ''`), sunset, id).Scan(&n)
	return n > 0, o.db.translate(err, "check a pending export")
}

// Publish records an announcement; publishing the same notice twice keeps the first.
func (o *Outbox) Publish(ctx context.Context, tx *sql.Tx, a notify.Announcement) error {
	chans, _ := json.Marshal(a.Channels)
	changes, _ := json.Marshal(a.Changes)
	if a.Changes == nil {
		changes = []byte("[]")
	}
	_, err := tx.ExecContext(ctx, rebind(o.db.dialect, `INSERT INTO announcements (sunset_id, notice, template, channels,
	mandatory, changes, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sunset_id, notice) DO NOTHING`),
		a.SunsetID, a.Notice, a.Template, string(chans), a.Mandatory, string(changes), o.db.timeArg(normTime(a.At)))
	return o.db.translate(err, "publish a notice")
}

// Claim marks up to limit due deliveries as sending until now+lease and returns them. The
// statuses are written into the statement so that both databases read the due rows from the
// partial index outbox_due, in claim order, instead of sorting every due row; on PostgreSQL the
// claimed ids go through an array so that the update finds them by primary key.
func (o *Outbox) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]notify.Delivery, error) {
	const due = `SELECT id FROM outbox WHERE status IN ('queued', 'sending') AND next_at <= ? ORDER BY next_at, id LIMIT ?`
	q := `UPDATE outbox SET status = ?, next_at = ?, updated_at = ? WHERE id IN (` + due + `) RETURNING ` + outboxColumns
	if o.db.dialect == Postgres {
		q = `UPDATE outbox SET status = ?, next_at = ?, updated_at = ? WHERE id = ANY(ARRAY(` + due +
			` FOR UPDATE SKIP LOCKED)) RETURNING ` + outboxColumns
	}
	q = rebind(o.db.dialect, q)
	now = normTime(now)
	var out []notify.Delivery
	err := o.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, string(notify.StatusSending), o.db.timeArg(now.Add(lease)), o.db.timeArg(now),
			o.db.timeArg(now), limit)
		if err != nil {
			return o.db.translate(err, "claim deliveries")
		}
		out, err = scanDeliveries(rows)
		if err != nil {
			return err
		}
		return o.fillSunsets(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b notify.Delivery) int { return int(a.ID - b.ID) })
	return out, nil
}

// fillSunsets sets the sunset name and plan hash of each delivery.
func (o *Outbox) fillSunsets(ctx context.Context, tx *sql.Tx, ds []notify.Delivery) error {
	type info struct{ name, hash string }
	seen := map[int64]info{}
	for i := range ds {
		in, ok := seen[ds[i].SunsetID]
		if !ok {
			err := tx.QueryRowContext(ctx, rebind(o.db.dialect, `SELECT name, plan_hash FROM sunsets WHERE id = ?`), ds[i].SunsetID).Scan(&in.name, &in.hash)
			if err != nil {
				return o.db.translate(err, "read the sunset of a delivery")
			}
			seen[ds[i].SunsetID] = in
		}
		ds[i].Sunset, ds[i].PlanHash = in.name, in.hash
	}
	return nil
}

// outcome is one delivery's outcome as Record sends it, inside a JSON array: the whole batch is
// one parameter of one short statement, which both databases read as a table (SQLite's
// json_each, PostgreSQL's jsonb_to_recordset) and join on id. Instants are Unix nanoseconds on
// SQLite and RFC 3339 on PostgreSQL, as each stores them.
type outcome struct {
	ID          int64  `json:"id"`
	Status      string `json:"status"`
	Attempts    int    `json:"attempts"`
	NextAt      any    `json:"next_at"`
	LastError   string `json:"last_error"`
	DeliveredAt any    `json:"delivered_at"`
}

// Record writes the outcomes of claimed deliveries in one statement. Rows no longer sending are
// left alone.
func (o *Outbox) Record(ctx context.Context, ds []notify.Delivery, now time.Time) error {
	if len(ds) == 0 {
		return nil
	}
	now = normTime(now)
	stamp := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		if o.db.dialect == SQLite {
			return t.UnixNano()
		}
		return t.Format(time.RFC3339Nano)
	}
	rows := make([]outcome, len(ds))
	for i, d := range ds {
		next := d.NextAt
		if d.Status != notify.StatusQueued {
			next = now
		}
		rows[i] = outcome{ID: d.ID, Status: string(d.Status), Attempts: d.Attempts, NextAt: stamp(normTime(next)),
			LastError: d.LastError, DeliveredAt: stamp(normTime(d.DeliveredAt))}
	}
	batch, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("store: record deliveries: %w", err)
	}
	q := `UPDATE outbox SET status = j.value ->> 'status', attempts = j.value ->> 'attempts',
	next_at = j.value ->> 'next_at', last_error = j.value ->> 'last_error', updated_at = ?,
	delivered_at = j.value ->> 'delivered_at' FROM json_each(?) AS j
	WHERE outbox.id = j.value ->> 'id' AND outbox.status = 'sending'`
	if o.db.dialect == Postgres {
		q = `UPDATE outbox SET status = j.status, attempts = j.attempts, next_at = j.next_at,
		last_error = j.last_error, updated_at = ?, delivered_at = j.delivered_at
		FROM jsonb_to_recordset(CAST(? AS JSONB)) AS j (id BIGINT, status TEXT, attempts INTEGER,
		next_at TIMESTAMPTZ, last_error TEXT, delivered_at TIMESTAMPTZ)
		WHERE outbox.id = j.id AND outbox.status = 'sending'`
	}
	_, err = o.db.sql.ExecContext(ctx, rebind(o.db.dialect, q), o.db.timeArg(now), string(batch))
	return o.db.translate(err, "record deliveries")
}

// Plan returns the current plan of the sunset.
func (o *Outbox) Plan(ctx context.Context, sunsetID int64) ([]byte, error) {
	var p []byte
	err := o.db.sql.QueryRowContext(ctx, rebind(o.db.dialect, `SELECT plan FROM sunsets WHERE id = ?`), sunsetID).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "sunset %d does not exist", sunsetID)
	}
	return p, o.db.translate(err, "read a plan")
}

// Suppress adds address (lower-cased) to the suppression list, and marks the queued (or held),
// non-mandatory deliveries to it as suppressed, in one transaction: an unsubscribe also stops
// what is already waiting (a retry, a reminder due later).
func (o *Outbox) Suppress(ctx context.Context, address, reason string, now time.Time) error {
	address = strings.ToLower(strings.TrimSpace(address))
	return o.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, rebind(o.db.dialect, `INSERT INTO suppressions (address, reason, created_at)
		VALUES (?, ?, ?) ON CONFLICT (address) DO UPDATE SET reason = excluded.reason`),
			address, reason, o.db.timeArg(normTime(now)))
		if err != nil {
			return o.db.translate(err, "suppress an address")
		}
		_, err = tx.ExecContext(ctx, rebind(o.db.dialect, `UPDATE outbox SET status = ?, last_error = ?, updated_at = ?
		WHERE status IN (?, ?) AND NOT mandatory AND (lower(email) = ? OR recipient = ?)`),
			string(notify.StatusSuppressed), "on the suppression list", o.db.timeArg(normTime(now)),
			string(notify.StatusQueued), string(notify.StatusHeld), address, address)
		return o.db.translate(err, "suppress queued deliveries")
	})
}

// ReleaseHeld makes every held delivery queued again, due at now.
func (o *Outbox) ReleaseHeld(ctx context.Context, now time.Time) (int, error) {
	now = normTime(now)
	res, err := o.db.sql.ExecContext(ctx, rebind(o.db.dialect, `UPDATE outbox SET status = ?, next_at = ?, updated_at = ?,
	last_error = '' WHERE status = ?`), string(notify.StatusQueued), o.db.timeArg(now), o.db.timeArg(now), string(notify.StatusHeld))
	if err != nil {
		return 0, o.db.translate(err, "release held deliveries")
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Unsuppress removes address from the suppression list.
func (o *Outbox) Unsuppress(ctx context.Context, address string) error {
	_, err := o.db.sql.ExecContext(ctx, rebind(o.db.dialect, `DELETE FROM suppressions WHERE address = ?`),
		strings.ToLower(strings.TrimSpace(address)))
	return o.db.translate(err, "unsuppress an address")
}

// Waiting counts the undelivered deliveries per sunset, notice and channel (notify.Outbox).
func (o *Outbox) Waiting(ctx context.Context) ([]notify.Waiting, error) {
	rows, err := o.db.sql.QueryContext(ctx, rebind(o.db.dialect, `SELECT o.sunset_id, s.name, o.notice, o.channel,
	COUNT(*), MIN(o.created_at), MAX(o.last_error)
	FROM outbox o JOIN sunsets s ON s.id = o.sunset_id
	WHERE o.status IN (?, ?) AND o.notice NOT LIKE 'alert/%'
	GROUP BY o.sunset_id, s.name, o.notice, o.channel ORDER BY o.sunset_id, o.notice, o.channel`),
		string(notify.StatusQueued), string(notify.StatusSending))
	if err != nil {
		return nil, o.db.translate(err, "count waiting deliveries")
	}
	defer rows.Close()
	var out []notify.Waiting
	for rows.Next() {
		var w notify.Waiting
		if err := rows.Scan(&w.SunsetID, &w.Sunset, &w.Notice, &w.Channel, &w.Count, timeCol{&w.Oldest}, &w.LastError); err != nil {
			return nil, o.db.translate(err, "count waiting deliveries")
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// EnqueueAlerts inserts owners' alerts in a transaction of their own (notify.Outbox).
func (o *Outbox) EnqueueAlerts(ctx context.Context, ds []notify.Delivery) (int, error) {
	var n int
	err := o.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = o.Enqueue(ctx, tx, ds)
		return err
	})
	return n, err
}

// Depth counts every sunset's deliveries by status, queued ones that failed before counted as
// retrying (notify.StatusRetrying), for the queue-depth metric.
func (o *Outbox) Depth(ctx context.Context) (map[notify.Status]int, error) {
	rows, err := o.db.sql.QueryContext(ctx, rebind(o.db.dialect, `SELECT
	CASE WHEN status = ? AND attempts > 0 THEN ? ELSE status END AS st, COUNT(*) FROM outbox GROUP BY st`),
		string(notify.StatusQueued), string(notify.StatusRetrying))
	if err != nil {
		return nil, o.db.translate(err, "count deliveries by status")
	}
	defer rows.Close()
	out := map[notify.Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, o.db.translate(err, "count deliveries by status")
		}
		out[notify.Status(st)] = n
	}
	return out, rows.Err()
}

// Ledger summarises the deliveries of the named sunset.
func (o *Outbox) Ledger(ctx context.Context, name string, failures int) (*notify.Ledger, error) {
	var id int64
	err := o.db.sql.QueryRowContext(ctx, rebind(o.db.dialect, `SELECT id FROM sunsets WHERE name = ?`), name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "no sunset named %q", name)
	}
	if err != nil {
		return nil, o.db.translate(err, "read a sunset")
	}
	l := &notify.Ledger{Sunset: name, Counts: []notify.LedgerCount{}, Failures: []notify.Delivery{}, Retrying: []notify.Delivery{}}
	// A queued delivery that has failed before is retrying: counted apart from the untried.
	rows, err := o.db.sql.QueryContext(ctx, rebind(o.db.dialect, `SELECT notice, template, channel,
	CASE WHEN status = ? AND attempts > 0 THEN ? ELSE status END AS st, COUNT(*)
	FROM outbox WHERE sunset_id = ? GROUP BY notice, template, channel, st ORDER BY notice, channel, st`),
		string(notify.StatusQueued), string(notify.StatusRetrying), id)
	if err != nil {
		return nil, o.db.translate(err, "count deliveries")
	}
	for rows.Next() {
		var c notify.LedgerCount
		var st string
		if err := rows.Scan(&c.Notice, &c.Template, &c.Channel, &st, &c.Count); err != nil {
			rows.Close()
			return nil, err
		}
		c.Status = notify.Status(st)
		l.Counts = append(l.Counts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = o.db.sql.QueryRowContext(ctx, rebind(o.db.dialect, `SELECT COUNT(DISTINCT recipient),
	COUNT(DISTINCT CASE WHEN status = ? THEN recipient END) FROM outbox WHERE sunset_id = ? AND recipient <> ?`),
		string(notify.StatusDelivered), id, notify.Broadcast).Scan(&l.Recipients, &l.Aware)
	if err != nil {
		return nil, o.db.translate(err, "count recipients")
	}
	rows, err = o.db.sql.QueryContext(ctx, rebind(o.db.dialect, `SELECT `+outboxColumns+` FROM outbox
	WHERE sunset_id = ? AND status = ? ORDER BY updated_at DESC, id DESC LIMIT ?`), id, string(notify.StatusFailed), failures)
	if err != nil {
		return nil, o.db.translate(err, "list failures")
	}
	fs, err := scanDeliveries(rows)
	if err != nil {
		return nil, err
	}
	for i := range fs {
		fs[i].Sunset = name
	}
	l.Failures = append(l.Failures, fs...)
	rows, err = o.db.sql.QueryContext(ctx, rebind(o.db.dialect, `SELECT `+outboxColumns+` FROM outbox
	WHERE sunset_id = ? AND status = ? AND attempts > 0 ORDER BY updated_at DESC, id DESC LIMIT ?`), id, string(notify.StatusQueued), failures)
	if err != nil {
		return nil, o.db.translate(err, "list retrying deliveries")
	}
	rs, err := scanDeliveries(rows)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		rs[i].Sunset = name
	}
	l.Retrying = append(l.Retrying, rs...)
	l.Lines = notify.Lines(l.Counts)
	for _, x := range l.Lines {
		l.Held += x.Held
	}
	if l.Held > 0 {
		err = o.db.sql.QueryRowContext(ctx, rebind(o.db.dialect, `SELECT last_error FROM outbox
		WHERE sunset_id = ? AND status = ? ORDER BY updated_at DESC, id DESC LIMIT 1`), id, string(notify.StatusHeld)).Scan(&l.HeldReason)
		if err != nil {
			return nil, o.db.translate(err, "read why deliveries are held")
		}
	}
	if err := o.consumerAwareness(ctx, id, l); err != nil {
		return nil, err
	}
	return l, nil
}

// consumerAwareness fills l's awareness per consumer: the outbox's deliveries joined with the
// gateways' in-band record (consumer_awareness).
func (o *Outbox) consumerAwareness(ctx context.Context, id int64, l *notify.Ledger) error {
	byID := map[string]*notify.ConsumerAwareness{}
	get := func(id string) *notify.ConsumerAwareness {
		c := byID[id]
		if c == nil {
			c = &notify.ConsumerAwareness{ID: id, Reached: []string{}}
			byID[id] = c
		}
		return c
	}
	rows, err := o.db.sql.QueryContext(ctx, rebind(o.db.dialect, `SELECT recipient, channel, status, MAX(email), MIN(delivered_at)
	FROM outbox WHERE sunset_id = ? AND recipient <> ? AND recipient NOT LIKE 'owner:%' AND recipient NOT LIKE 'stakeholder:%'
	GROUP BY recipient, channel, status`), id, notify.Broadcast)
	if err != nil {
		return o.db.translate(err, "read awareness by channel")
	}
	for rows.Next() {
		var rid, channel, st, email string
		var at time.Time
		if err := rows.Scan(&rid, &channel, &st, &email, timeCol{&at}); err != nil {
			rows.Close()
			return fmt.Errorf("store: read awareness: %w", err)
		}
		c := get(rid)
		if email != "" {
			c.Email = email
		}
		switch notify.Status(st) {
		case notify.StatusDelivered:
			c.Reached = append(c.Reached, channel)
			if c.FirstReached.IsZero() || (!at.IsZero() && at.Before(c.FirstReached)) {
				c.FirstReached = at
			}
		case notify.StatusFailed:
			c.Failed = append(c.Failed, channel)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = o.db.sql.QueryContext(ctx, rebind(o.db.dialect, `SELECT consumer, first_seen FROM consumer_awareness
	WHERE sunset_id = ? AND consumer <> ?`), id, usage.OtherConsumer)
	if err != nil {
		return o.db.translate(err, "read in-band awareness")
	}
	for rows.Next() {
		var cid string
		var at any
		if err := rows.Scan(&cid, &at); err != nil {
			rows.Close()
			return fmt.Errorf("store: read in-band awareness: %w", err)
		}
		get(cid).InBand = scanInstant(at)
		l.InBand++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ids := make([]string, 0, len(byID))
	for cid, c := range byID {
		ids = append(ids, cid)
		slices.Sort(c.Reached)
		slices.Sort(c.Failed)
		c.Aware = len(c.Reached) > 0 || !c.InBand.IsZero()
		if c.Aware {
			l.ConsumersAware++
		}
	}
	slices.Sort(ids)
	l.ConsumersKnown = len(ids)
	if len(ids) > notify.MaxLedgerConsumers {
		ids, l.Truncated = ids[:notify.MaxLedgerConsumers], true
	}
	l.Consumers = make([]notify.ConsumerAwareness, 0, len(ids))
	for _, cid := range ids {
		l.Consumers = append(l.Consumers, *byID[cid])
	}
	return nil
}

// Announcements returns the named sunset's published notices, newest first.
func (o *Outbox) Announcements(ctx context.Context, name string) ([]notify.Announcement, error) {
	rows, err := o.db.sql.QueryContext(ctx, rebind(o.db.dialect, `SELECT a.sunset_id, a.notice, a.template, a.channels,
	a.mandatory, a.changes, a.at FROM announcements a JOIN sunsets s ON s.id = a.sunset_id WHERE s.name = ?
	ORDER BY a.at DESC, a.notice DESC`), name)
	if err != nil {
		return nil, o.db.translate(err, "list announcements")
	}
	defer rows.Close()
	out := []notify.Announcement{}
	for rows.Next() {
		a := notify.Announcement{Sunset: name}
		var chans, changes []byte
		if err := rows.Scan(&a.SunsetID, &a.Notice, &a.Template, &chans, &a.Mandatory, &changes, timeCol{&a.At}); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(chans, &a.Channels); err != nil {
			return nil, fmt.Errorf("store: announcement channels: %w", err)
		}
		if err := json.Unmarshal(changes, &a.Changes); err != nil {
			return nil, fmt.Errorf("store: announcement changes: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanDeliveries(rows *sql.Rows) ([]notify.Delivery, error) {
	defer rows.Close()
	var out []notify.Delivery
	for rows.Next() {
		var d notify.Delivery
		var st string
		var changes, data []byte
		r := &d.Recipient
		if err := rows.Scan(&d.ID, &d.SunsetID, &d.Notice, &d.Template, &d.Channel, &r.ID, &r.Email, &r.Name,
			&r.Locale, &r.Tier, &r.TimeZone, &d.Mandatory, &changes, &st, &d.Attempts, timeCol{&d.NextAt},
			&d.LastError, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt}, timeCol{&d.DeliveredAt}, &data); err != nil {
			return nil, fmt.Errorf("store: read a delivery: %w", err)
		}
		d.Status = notify.Status(st)
		if len(changes) > 2 {
			if err := json.Unmarshal(changes, &d.Changes); err != nil {
				return nil, fmt.Errorf("store: delivery changes: %w", err)
			}
		}
		if len(data) > 2 {
			if err := json.Unmarshal(data, &d.Data); err != nil {
				return nil, fmt.Errorf("store: delivery data: %w", err)
			}
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (o *Outbox) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := o.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return o.db.translate(err, "begin transaction")
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		if u := o.db.unwritable(err); u != nil {
			return u
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return o.db.translate(err, "commit")
	}
	return nil
}
