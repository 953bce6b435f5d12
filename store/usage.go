package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/usage"
)

// Usage keeps what gateways report: request counts per feature, consumer and hour, and when each
// consumer was first served a Deprecation header.
//
// Flushes are committed in groups: while a group is being written, the flushes that arrive
// wait, and the next group holds all of them. Each flush is still applied at most
// once, and each caller learns whether its own flush was applied; a transaction that fails
// fails every flush of its group, which their gateways retry with the same sequence numbers.
// One Usage value holds one queue, so the server uses one for all its requests.
type Usage struct {
	db *DB

	mu      sync.Mutex
	writers int          // leaders writing a group now, at most flushWriters
	pending []*flushCall // flushes waiting for the next group
}

// Usage returns the usage records kept in db.
func (db *DB) Usage() *Usage { return &Usage{db: db} }

// maxFlushGroup bounds the flushes one transaction writes; flushWriters is how many groups one
// Usage writes at once. One: groups of the same fleet touch the same counter rows, so a second
// writer mostly waits for the first one's row locks, and bench/controlplane.sh measured fewer
// flushes per second with four writers than with one.
const (
	maxFlushGroup = 512
	flushWriters  = 1
)

// flushCall is one RecordUsage call waiting for its group.
type flushCall struct {
	name    string
	b       usage.Batch
	applied bool
	err     error
	done    chan struct{} // closed when the call's group committed or failed
	lead    chan struct{} // closed when the call must write group itself
	group   []*flushCall  // the group a finishing leader handed over (it starts with this call)
}

// RecordUsage adds a gateway's flush to the sunset named name. A flush whose (gateway, seq) was
// already recorded changes nothing and returns applied false, so a gateway may retry a flush
// whose answer it did not get. An unknown sunset is ENOTFOUND.
//
// A caller that finds fewer than flushWriters groups being written writes one (its own flush and
// any that queued meanwhile); when it is done it hands the writing over to the first caller that
// queued during its transaction, so that no caller writes more than one group.
func (u *Usage) RecordUsage(ctx context.Context, name string, b usage.Batch) (applied bool, err error) {
	c := &flushCall{name: name, b: b, done: make(chan struct{}), lead: make(chan struct{})}
	u.mu.Lock()
	u.pending = append(u.pending, c)
	var group []*flushCall
	if u.writers >= flushWriters {
		u.mu.Unlock()
		select {
		case <-c.done:
			return c.applied, c.err
		case <-c.lead:
			group = c.group
		}
	} else {
		// No group waits (a finishing leader hands them over): this one is c alone, or c and
		// the calls that queued since.
		u.writers++
		group = u.takeGroup()
		u.mu.Unlock()
	}

	// The group is other callers' too: it is written even if this caller goes away.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	err = u.writeGroup(wctx, group)
	cancel()
	for _, g := range group {
		if err != nil {
			g.applied, g.err = false, err
		}
		if g != c {
			close(g.done)
		}
	}

	u.mu.Lock()
	if len(u.pending) > 0 {
		// The first waiting call takes this leader's place, with the group it is to write.
		next := u.takeGroup()
		next[0].group = next
		close(next[0].lead)
	} else {
		u.writers--
	}
	u.mu.Unlock()
	return c.applied, c.err
}

// takeGroup removes the next group from the queue; u.mu is held.
func (u *Usage) takeGroup() []*flushCall {
	group := u.pending[:min(len(u.pending), maxFlushGroup):min(len(u.pending), maxFlushGroup)]
	u.pending = u.pending[len(group):]
	return group
}

// flushKey identifies one flush of one gateway to one sunset.
type flushKey struct {
	sunset  int64
	gateway string
	seq     int64
}

// countKey is one row of usage_counts.
type countKey struct {
	sunset            int64
	feature, consumer string
	hour              int64 // Unix nanoseconds of the normalised hour
}

// countValue is what one row of usage_counts adds: requests, and of those the server errors;
// last is the Unix nanosecond of the latest request (0: not sent).
type countValue struct{ n, errors, last int64 }

// awareKey is one row of consumer_awareness.
type awareKey struct {
	sunset   int64
	consumer string
}

// writeGroup applies the group's flushes and sets each call's applied flag (and err, for an
// unknown sunset). It returns the error that failed the whole group. On PostgreSQL the group is
// one statement (writeGroupPostgres); on SQLite one transaction of a few.
func (u *Usage) writeGroup(ctx context.Context, group []*flushCall) (err error) {
	db := u.db
	fresh, keys, err := u.freshFlushes(ctx, group)
	if err != nil || len(fresh) == 0 {
		return err
	}
	if db.dialect == Postgres {
		return u.writeGroupPostgres(ctx, fresh, keys)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return db.translate(err, "begin")
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	applied, err := u.insertFlushes(ctx, tx, keys)
	if err != nil {
		return err
	}
	counts := map[countKey]countValue{}
	aware := map[awareKey]time.Time{}
	for i, c := range fresh {
		if !applied[keys[i]] {
			continue
		}
		c.applied = true
		for _, n := range c.b.Counts {
			h := normTime(n.Hour)
			k := countKey{keys[i].sunset, n.Feature, n.Consumer, h.UnixNano()}
			v := counts[k]
			v.n += int64(n.Count)
			v.errors += int64(min(n.Errors, n.Count))
			if !n.LastAt.IsZero() {
				v.last = max(v.last, normTime(n.LastAt).UnixNano())
			}
			counts[k] = v
		}
		for _, a := range c.b.Aware {
			k, at := awareKey{keys[i].sunset, a.Consumer}, normTime(a.FirstSeen)
			if old, ok := aware[k]; !ok || at.Before(old) {
				aware[k] = at
			}
		}
	}
	if err := u.upsertCounts(ctx, tx, counts); err != nil {
		return err
	}
	if err := u.upsertAwareness(ctx, tx, aware); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return db.translate(err, "commit the usage flushes")
	}
	return nil
}

// freshFlushes resolves the sunsets of the group's calls — a call naming none gets ENOTFOUND —
// and returns the calls whose flush appears first in the group, with their keys (the same
// flush twice in one group, a retry racing its original, is applied once).
func (u *Usage) freshFlushes(ctx context.Context, group []*flushCall) ([]*flushCall, []flushKey, error) {
	db := u.db
	ids := map[string]int64{}
	var fresh []*flushCall
	var keys []flushKey
	seen := map[flushKey]bool{}
	for _, c := range group {
		id, ok := ids[c.name]
		if !ok {
			err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT id FROM sunsets WHERE name = ?`), c.name).Scan(&id)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				id = 0
			case err != nil:
				return nil, nil, db.translate(err, "find the sunset")
			}
			ids[c.name] = id
		}
		if id == 0 {
			c.err = sunset.Errorf(sunset.ENOTFOUND, "No sunset is named %q.", c.name)
			continue
		}
		k := flushKey{id, c.b.Gateway, c.b.Seq}
		if seen[k] {
			continue
		}
		seen[k] = true
		keys = append(keys, k)
		fresh = append(fresh, c)
	}
	return fresh, keys, nil
}

// groupPostgres writes a group in one statement, so in one round trip and one implicit
// transaction: it records the flushes, and adds the counts and first warnings of those that
// were new — the join on the RETURNING of the first insert — summed per row and in key order
// (so that concurrent groups cannot deadlock).
const groupPostgres = `WITH f AS (
	INSERT INTO usage_flushes (sunset_id, gateway, seq, received_at)
	SELECT u.s, u.g, u.q, $4::timestamptz FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(s, g, q)
	ORDER BY 1, 2, 3
	ON CONFLICT (sunset_id, gateway, seq) DO NOTHING
	RETURNING sunset_id, gateway, seq
), n AS (
	SELECT n.s, n.fe, n.co, n.h, SUM(n.k)::bigint AS k, SUM(n.e)::bigint AS e, MAX(n.l) AS l
	FROM unnest($5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::timestamptz[], $11::bigint[], $17::bigint[], $18::bigint[]) AS n(s, g, q, fe, co, h, k, e, l)
	JOIN f ON f.sunset_id = n.s AND f.gateway = n.g AND f.seq = n.q
	GROUP BY 1, 2, 3, 4
), up AS (
	INSERT INTO usage_counts (sunset_id, feature, consumer, hour, count, errors, last_at)
	SELECT s, fe, co, h, k, e, timestamptz 'epoch' + NULLIF(l, 0) * interval '1 microsecond' FROM n ORDER BY 1, 2, 3, 4
	ON CONFLICT (sunset_id, feature, consumer, hour) DO UPDATE SET count = usage_counts.count + excluded.count,
		errors = usage_counts.errors + excluded.errors,
		last_at = CASE WHEN usage_counts.last_at IS NULL OR excluded.last_at > usage_counts.last_at THEN excluded.last_at ELSE usage_counts.last_at END
), a AS (
	SELECT a.s, a.co, MIN(a.t) AS t
	FROM unnest($12::bigint[], $13::text[], $14::bigint[], $15::text[], $16::timestamptz[]) AS a(s, g, q, co, t)
	JOIN f ON f.sunset_id = a.s AND f.gateway = a.g AND f.seq = a.q
	GROUP BY 1, 2
), aw AS (
	INSERT INTO consumer_awareness (sunset_id, consumer, first_seen)
	SELECT s, co, t FROM a ORDER BY 1, 2
	ON CONFLICT (sunset_id, consumer) DO UPDATE SET first_seen = excluded.first_seen
	WHERE excluded.first_seen < consumer_awareness.first_seen
)
SELECT sunset_id, gateway, seq FROM f`

// writeGroupPostgres applies the fresh flushes with groupPostgres and marks those applied.
func (u *Usage) writeGroupPostgres(ctx context.Context, fresh []*flushCall, keys []flushKey) error {
	db := u.db
	var fs, cs, as []int64
	var fg, cg, ag []string
	var fq, cq, aq []int64
	var cfe, cco, aco []string
	var ch, at []time.Time
	var ck, ce, cl []int64 // cl: the latest request, Unix microseconds (0: not sent)
	for i, c := range fresh {
		k := keys[i]
		fs, fg, fq = append(fs, k.sunset), append(fg, k.gateway), append(fq, k.seq)
		for _, n := range c.b.Counts {
			cs, cg, cq = append(cs, k.sunset), append(cg, k.gateway), append(cq, k.seq)
			cfe, cco, ch, ck = append(cfe, n.Feature), append(cco, n.Consumer), append(ch, normTime(n.Hour)), append(ck, int64(n.Count))
			ce = append(ce, int64(min(n.Errors, n.Count)))
			var last int64
			if !n.LastAt.IsZero() {
				last = normTime(n.LastAt).UnixMicro()
			}
			cl = append(cl, last)
		}
		for _, a := range c.b.Aware {
			as, ag, aq = append(as, k.sunset), append(ag, k.gateway), append(aq, k.seq)
			aco, at = append(aco, a.Consumer), append(at, normTime(a.FirstSeen))
		}
	}
	rows, err := db.sql.QueryContext(ctx, groupPostgres, fs, fg, fq, normTime(db.now()),
		cs, cg, cq, cfe, cco, ch, ck, as, ag, aq, aco, at, ce, cl)
	if err != nil {
		return db.translate(err, "record the usage flushes")
	}
	defer rows.Close()
	applied := map[flushKey]bool{}
	for rows.Next() {
		var k flushKey
		if err := rows.Scan(&k.sunset, &k.gateway, &k.seq); err != nil {
			return db.translate(err, "record the usage flushes")
		}
		applied[k] = true
	}
	if err := rows.Err(); err != nil {
		return db.translate(err, "record the usage flushes")
	}
	for i, c := range fresh {
		c.applied = applied[keys[i]]
	}
	return nil
}

// rowsPerStatement bounds the rows of one multi-row statement (at most 6 parameters each):
// well under both SQLite's and PostgreSQL's parameter limits.
const rowsPerStatement = 500

// insertFlushes records keys in usage_flushes and returns those that were not there before.
func (u *Usage) insertFlushes(ctx context.Context, tx *sql.Tx, keys []flushKey) (map[flushKey]bool, error) {
	db := u.db
	now := db.timeArg(normTime(db.now()))
	applied := map[flushKey]bool{}
	// In key order, like the counts: two groups holding the same retried flush cannot deadlock.
	keys = slices.SortedFunc(slices.Values(keys), func(a, b flushKey) int {
		return cmp.Or(cmp.Compare(a.sunset, b.sunset), cmp.Compare(a.gateway, b.gateway), cmp.Compare(a.seq, b.seq))
	})
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), rowsPerStatement)]
		keys = keys[len(chunk):]
		var b strings.Builder
		args := make([]any, 0, 4*len(chunk))
		b.WriteString(`INSERT INTO usage_flushes (sunset_id, gateway, seq, received_at) VALUES `)
		for i, k := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, k.sunset, k.gateway, k.seq, now)
		}
		b.WriteString(` ON CONFLICT (sunset_id, gateway, seq) DO NOTHING RETURNING sunset_id, gateway, seq`)
		rows, err := tx.QueryContext(ctx, rebind(db.dialect, b.String()), args...)
		if err != nil {
			return nil, db.translate(err, "record the usage flushes")
		}
		for rows.Next() {
			var k flushKey
			if err := rows.Scan(&k.sunset, &k.gateway, &k.seq); err != nil {
				rows.Close()
				return nil, db.translate(err, "record the usage flushes")
			}
			applied[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, db.translate(err, "record the usage flushes")
		}
	}
	return applied, nil
}

// upsertCounts adds counts to usage_counts, in key order so that concurrent groups (other
// replicas) lock rows in the same order and cannot deadlock.
func (u *Usage) upsertCounts(ctx context.Context, tx *sql.Tx, counts map[countKey]countValue) error {
	db := u.db
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.sunset, b.sunset), cmp.Compare(a.feature, b.feature),
			cmp.Compare(a.consumer, b.consumer), cmp.Compare(a.hour, b.hour))
	})
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), rowsPerStatement)]
		keys = keys[len(chunk):]
		var b strings.Builder
		args := make([]any, 0, 7*len(chunk))
		b.WriteString(`INSERT INTO usage_counts (sunset_id, feature, consumer, hour, count, errors, last_at) VALUES `)
		for i, k := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			var last time.Time
			if v := counts[k].last; v > 0 {
				last = time.Unix(0, v).UTC()
			}
			args = append(args, k.sunset, k.feature, k.consumer, db.timeArg(time.Unix(0, k.hour).UTC()), counts[k].n, counts[k].errors, db.timeArg(last))
		}
		// The latest request wins; a flush without it (an older gateway) keeps what is known.
		b.WriteString(` ON CONFLICT (sunset_id, feature, consumer, hour) DO UPDATE SET count = usage_counts.count + excluded.count,
		errors = usage_counts.errors + excluded.errors,
		last_at = CASE WHEN usage_counts.last_at IS NULL OR excluded.last_at > usage_counts.last_at THEN excluded.last_at ELSE usage_counts.last_at END`)
		if _, err := tx.ExecContext(ctx, rebind(db.dialect, b.String()), args...); err != nil {
			return db.translate(err, "record usage counts")
		}
	}
	return nil
}

// upsertAwareness keeps the earliest first warning of each consumer, in key order.
func (u *Usage) upsertAwareness(ctx context.Context, tx *sql.Tx, aware map[awareKey]time.Time) error {
	db := u.db
	keys := slices.SortedFunc(maps.Keys(aware), func(a, b awareKey) int {
		return cmp.Or(cmp.Compare(a.sunset, b.sunset), cmp.Compare(a.consumer, b.consumer))
	})
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), rowsPerStatement)]
		keys = keys[len(chunk):]
		var b strings.Builder
		args := make([]any, 0, 3*len(chunk))
		b.WriteString(`INSERT INTO consumer_awareness (sunset_id, consumer, first_seen) VALUES `)
		for i, k := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?, ?)")
			args = append(args, k.sunset, k.consumer, db.timeArg(aware[k]))
		}
		b.WriteString(` ON CONFLICT (sunset_id, consumer) DO UPDATE SET first_seen = excluded.first_seen
		WHERE excluded.first_seen < consumer_awareness.first_seen`)
		if _, err := tx.ExecContext(ctx, rebind(db.dialect, b.String()), args...); err != nil {
			return db.translate(err, "record awareness")
		}
	}
	return nil
}

// Counts returns the sunset's usage counts ordered by hour, feature and consumer.
func (u *Usage) Counts(ctx context.Context, name string) ([]usage.Count, error) {
	db := u.db
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT c.feature, c.consumer, c.hour, c.count, c.errors, c.last_at
	FROM usage_counts c JOIN sunsets s ON s.id = c.sunset_id WHERE s.name = ? ORDER BY c.hour, c.feature, c.consumer`), name)
	if err != nil {
		return nil, db.translate(err, "list usage counts")
	}
	defer rows.Close()
	var out []usage.Count
	for rows.Next() {
		var c usage.Count
		var hour, last any
		var n, e int64
		if err := rows.Scan(&c.Feature, &c.Consumer, &hour, &n, &e, &last); err != nil {
			return nil, err
		}
		c.Hour, c.Count, c.Errors, c.LastAt = scanInstant(hour), uint64(n), uint64(e), scanInstant(last)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Awareness returns when each consumer of the sunset was first told in-band, by consumer.
func (u *Usage) Awareness(ctx context.Context, name string) ([]usage.Awareness, error) {
	db := u.db
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT a.consumer, a.first_seen
	FROM consumer_awareness a JOIN sunsets s ON s.id = a.sunset_id WHERE s.name = ? ORDER BY a.consumer`), name)
	if err != nil {
		return nil, db.translate(err, "list awareness")
	}
	defer rows.Close()
	var out []usage.Awareness
	for rows.Next() {
		var a usage.Awareness
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
		if id != usage.OtherConsumer {
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
