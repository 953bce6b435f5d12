package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
)

// contactBatch is how many contacts StageContacts writes per transaction: large enough to load
// a million rows quickly, small enough that other writers wait only a moment on SQLite.
const contactBatch = 5000

// contactsPerInsert is how many rows one INSERT statement carries (8 parameters each, well below
// SQLite's and PostgreSQL's limits).
const contactsPerInsert = 500

// Interface guards.
var (
	_ engine.Contacts      = (*DB)(nil)
	_ notify.ContactSource = (*Outbox)(nil)
)

// countingWriter counts the bytes hashed.
type countingWriter struct {
	n int64
	w io.Writer
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}

// StageContacts reads a contacts file from r through read (contacts.Read with the plan's
// options) and stores its rows as a new set of the sunset named name, contactBatch rows per
// transaction, hashing the bytes as they pass. When read refuses the file, or anything fails,
// the rows staged so far are deleted and the error returned. When the sunset already has a set
// with the same bytes, the new rows are dropped and that set is returned with Reused set.
func (db *DB) StageContacts(ctx context.Context, name string, r io.Reader, read func(io.Reader, func(contacts.Contact) error) error) (*engine.ContactSet, error) {
	var id int64
	err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `INSERT INTO contact_sets (sunset, created_at) VALUES (?, ?) RETURNING id`),
		name, db.timeArg(normTime(db.now()))).Scan(&id)
	if err != nil {
		return nil, db.translate(err, "stage contacts")
	}
	fail := func(err error) (*engine.ContactSet, error) {
		if derr := db.deleteSet(context.WithoutCancel(ctx), id); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, err
	}
	h := sha256.New()
	cw := &countingWriter{w: h}
	var (
		batch []contacts.Contact
		count int64
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := db.inTx(ctx, func(tx *sql.Tx) error { return db.insertContacts(ctx, tx, id, batch) })
		count += int64(len(batch))
		batch = batch[:0]
		return err
	}
	err = read(io.TeeReader(r, cw), func(c contacts.Contact) error {
		batch = append(batch, c)
		if len(batch) >= contactBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		// read may stop before the end (a trailing blank line); hash every byte.
		_, err = io.Copy(cw, r)
	}
	if err != nil {
		return fail(err)
	}
	set := &engine.ContactSet{ID: id, Hash: hex.EncodeToString(h.Sum(nil)), Size: cw.n, Count: count}
	var existing int64
	err = db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT id FROM contact_sets WHERE sunset = ? AND hash = ?`), name, set.Hash).Scan(&existing)
	switch {
	case err == nil:
		if derr := db.deleteSet(ctx, id); derr != nil {
			return nil, derr
		}
		var count int64
		if err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT count FROM contact_sets WHERE id = ?`), existing).Scan(&count); err != nil {
			return nil, db.translate(err, "stage contacts")
		}
		set.ID, set.Count, set.Reused = existing, count, true
		return set, nil
	case !errors.Is(err, sql.ErrNoRows):
		return fail(db.translate(err, "stage contacts"))
	}
	_, err = db.sql.ExecContext(ctx, rebind(db.dialect, `UPDATE contact_sets SET hash = ?, size = ?, count = ? WHERE id = ?`), set.Hash, set.Size, set.Count, id)
	if err != nil {
		return fail(db.translate(err, "stage contacts"))
	}
	return set, nil
}

// inTx runs fn in a transaction of the pool.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return db.translate(err, "begin transaction")
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return db.translate(tx.Commit(), "commit transaction")
}

func (db *DB) insertContacts(ctx context.Context, tx *sql.Tx, set int64, list []contacts.Contact) error {
	for len(list) > 0 {
		n := min(len(list), contactsPerInsert)
		var b strings.Builder
		b.WriteString(`INSERT INTO contacts (set_id, line, id, email, name, locale, tier, timezone) VALUES `)
		args := make([]any, 0, n*8)
		for i, c := range list[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?)`)
			args = append(args, set, c.Line, c.ID, c.Email, c.Name, c.Locale, c.Tier, c.TimeZone)
		}
		if _, err := tx.ExecContext(ctx, rebind(db.dialect, b.String()), args...); err != nil {
			return db.translate(err, "store contacts")
		}
		list = list[n:]
	}
	return nil
}

// deleteSet deletes set id and its rows.
func (db *DB) deleteSet(ctx context.Context, id int64) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, rebind(db.dialect, `DELETE FROM contacts WHERE set_id = ?`), id); err != nil {
			return db.translate(err, "drop contacts")
		}
		if _, err := tx.ExecContext(ctx, rebind(db.dialect, `DELETE FROM contact_sets WHERE id = ?`), id); err != nil {
			return db.translate(err, "drop contacts")
		}
		return nil
	})
}

// DropContacts deletes contact set id unless a revision names it.
func (db *DB) DropContacts(ctx context.Context, id int64) error {
	var n int
	if err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT COUNT(*) FROM plan_revisions WHERE contacts_set = ?`), id).Scan(&n); err != nil {
		return db.translate(err, "drop contacts")
	}
	if n > 0 {
		return nil
	}
	return db.deleteSet(ctx, id)
}

// PutRevision records revision r of its sunset and the files its bundle carried.
func (tx *Tx) PutRevision(ctx context.Context, r *engine.Revision) error {
	files := r.Files
	if files == nil {
		files = []engine.BundleFile{}
	}
	raw, err := json.Marshal(files)
	if err != nil {
		return fmt.Errorf("store: revision %d: %w", r.Revision, err)
	}
	var set any
	for _, f := range r.Files {
		if f.Set != 0 {
			set = f.Set
		}
	}
	r.CreatedAt = normTime(r.CreatedAt)
	_, err = tx.tx.ExecContext(ctx, rebind(tx.db.dialect, `INSERT INTO plan_revisions
	(sunset_id, revision, plan_hash, bundle_hash, files, contacts_set, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		r.SunsetID, r.Revision, r.PlanHash, r.BundleHash, string(raw), set, r.Actor, tx.db.timeArg(r.CreatedAt))
	if err != nil {
		if tx.db.isUnique(err) {
			return sunset.Errorf(sunset.ECONFLICT, "Revision %d is already stored.", r.Revision)
		}
		return tx.db.translate(err, "store revision")
	}
	return nil
}

const revisionColumns = `sunset_id, revision, plan_hash, bundle_hash, files, contacts_set, actor, created_at`

func scanRevision(row scanner) (*engine.Revision, error) {
	var (
		r     engine.Revision
		files []byte
		set   sql.NullInt64
	)
	if err := row.Scan(&r.SunsetID, &r.Revision, &r.PlanHash, &r.BundleHash, &files, &set, &r.Actor, timeCol{&r.CreatedAt}); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(files, &r.Files); err != nil {
		return nil, fmt.Errorf("store: revision %d: files: %w", r.Revision, err)
	}
	for i := range r.Files {
		if r.Files[i].Kind == "contacts" {
			r.Files[i].Set = set.Int64
		}
	}
	if len(r.Files) == 0 {
		r.Files = nil
	}
	return &r, nil
}

// GetRevision returns revision rev of the sunset, or ENOTFOUND.
func (tx *Tx) GetRevision(ctx context.Context, sunsetID int64, rev int) (*engine.Revision, error) {
	r, err := scanRevision(tx.tx.QueryRowContext(ctx, rebind(tx.db.dialect, `SELECT `+revisionColumns+` FROM plan_revisions WHERE sunset_id = ? AND revision = ?`), sunsetID, rev))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "Revision %d is not stored.", rev)
	}
	if err != nil {
		return nil, tx.db.translate(err, "read revision")
	}
	return r, nil
}

// ListRevisions returns the sunset's stored revisions, oldest first.
func (db *DB) ListRevisions(ctx context.Context, sunsetID int64) ([]engine.Revision, error) {
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT `+revisionColumns+` FROM plan_revisions WHERE sunset_id = ? ORDER BY revision`), sunsetID)
	if err != nil {
		return nil, db.translate(err, "list revisions")
	}
	defer rows.Close()
	var list []engine.Revision
	for rows.Next() {
		r, err := scanRevision(rows)
		if err != nil {
			return nil, db.translate(err, "list revisions")
		}
		list = append(list, *r)
	}
	return list, db.translate(rows.Err(), "list revisions")
}

// DiffContacts compares two contact sets by id; 0 is the empty set.
func (tx *Tx) DiffContacts(ctx context.Context, from, to int64) (engine.ContactsChange, error) {
	var ch engine.ContactsChange
	q := func(query string, args ...any) (int64, error) {
		var n int64
		err := tx.tx.QueryRowContext(ctx, rebind(tx.db.dialect, query), args...).Scan(&n)
		return n, err
	}
	var err error
	if ch.Total, err = q(`SELECT COUNT(*) FROM contacts WHERE set_id = ?`, to); err != nil {
		return ch, tx.db.translate(err, "compare contacts")
	}
	old, err := q(`SELECT COUNT(*) FROM contacts WHERE set_id = ?`, from)
	if err != nil {
		return ch, tx.db.translate(err, "compare contacts")
	}
	both, err := q(`SELECT COUNT(*) FROM contacts n JOIN contacts o ON o.set_id = ? AND o.id = n.id WHERE n.set_id = ?`, from, to)
	if err != nil {
		return ch, tx.db.translate(err, "compare contacts")
	}
	ch.Changed, err = q(`SELECT COUNT(*) FROM contacts n JOIN contacts o ON o.set_id = ? AND o.id = n.id WHERE n.set_id = ?
	AND (o.email <> n.email OR o.name <> n.name OR o.locale <> n.locale OR o.tier <> n.tier OR o.timezone <> n.timezone)`, from, to)
	if err != nil {
		return ch, tx.db.translate(err, "compare contacts")
	}
	ch.Added, ch.Removed = ch.Total-both, old-both
	return ch, nil
}

// currentSet is the contact set of the sunset's current revision; 0 when it has none.
const currentSetQuery = `SELECT COALESCE(r.contacts_set, 0) FROM sunsets s
	JOIN plan_revisions r ON r.sunset_id = s.id AND r.revision = s.revision WHERE s.name = ?`

func (db *DB) currentSet(ctx context.Context, q querier, name string) (int64, error) {
	var set int64
	err := q.QueryRowContext(ctx, rebind(db.dialect, currentSetQuery), name).Scan(&set)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, db.translate(err, "read contacts")
	}
	return set, nil
}

const contactColumns = `line, id, email, name, locale, tier, timezone`

func (db *DB) contactsPage(ctx context.Context, q querier, set int64, after int64, limit int) ([]contacts.Contact, error) {
	rows, err := q.QueryContext(ctx, rebind(db.dialect, `SELECT `+contactColumns+` FROM contacts WHERE set_id = ? AND line > ? ORDER BY line LIMIT ?`), set, after, limit)
	if err != nil {
		return nil, db.translate(err, "read contacts")
	}
	defer rows.Close()
	var list []contacts.Contact
	for rows.Next() {
		var c contacts.Contact
		if err := rows.Scan(&c.Line, &c.ID, &c.Email, &c.Name, &c.Locale, &c.Tier, &c.TimeZone); err != nil {
			return nil, db.translate(err, "read contacts")
		}
		list = append(list, c)
	}
	return list, db.translate(rows.Err(), "read contacts")
}

// EachContact streams the contacts of the sunset's current revision to fn in file order, a
// page at a time (each page is read before fn sees it, so fn may use the same connection).
// A sunset without stored contacts has none.
func (db *DB) EachContact(ctx context.Context, name string, fn func(contacts.Contact) error) error {
	return db.eachContact(ctx, db.sql, name, fn)
}

func (db *DB) eachContact(ctx context.Context, q querier, name string, fn func(contacts.Contact) error) error {
	set, err := db.currentSet(ctx, q, name)
	if err != nil || set == 0 {
		return err
	}
	var after int64
	for {
		page, err := db.contactsPage(ctx, q, set, after, 1000)
		if err != nil {
			return err
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = int64(page[len(page)-1].Line)
	}
}

// Contact returns the contact with id among the current contacts of the sunset, or ENOTFOUND.
func (db *DB) Contact(ctx context.Context, name, id string) (*contacts.Contact, error) {
	set, err := db.currentSet(ctx, db.sql, name)
	if err != nil {
		return nil, err
	}
	var c contacts.Contact
	err = db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT `+contactColumns+` FROM contacts WHERE set_id = ? AND id = ?`), set, id).
		Scan(&c.Line, &c.ID, &c.Email, &c.Name, &c.Locale, &c.Tier, &c.TimeZone)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "Sunset %s has no contact with that id.", name)
	}
	if err != nil {
		return nil, db.translate(err, "read contact")
	}
	return &c, nil
}

// SummarizeContacts counts the current contacts of the sunset named name, by tier and locale.
func (db *DB) SummarizeContacts(ctx context.Context, name string) (*contacts.Summary, error) {
	set, err := db.currentSet(ctx, db.sql, name)
	if err != nil {
		return nil, err
	}
	sum := &contacts.Summary{Tiers: map[string]int64{}, Locales: map[string]int64{}}
	for _, g := range []struct {
		col string
		m   map[string]int64
	}{{"tier", sum.Tiers}, {"locale", sum.Locales}} {
		rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT `+g.col+`, COUNT(*), SUM(CASE WHEN email <> '' THEN 1 ELSE 0 END) FROM contacts WHERE set_id = ? GROUP BY `+g.col), set)
		if err != nil {
			return nil, db.translate(err, "count contacts")
		}
		var total, mail int64
		for rows.Next() {
			var k string
			var n, e int64
			if err := rows.Scan(&k, &n, &e); err != nil {
				rows.Close()
				return nil, db.translate(err, "count contacts")
			}
			g.m[k] = n
			total, mail = total+n, mail+e
		}
		rows.Close()
		sum.Contacts, sum.WithEmail = total, mail
	}
	return sum, nil
}

// EraseContacts removes the contacts with the given ids from every stored set of the sunset
// named name (every revision's), and returns how many rows it removed.
func (tx *Tx) EraseContacts(ctx context.Context, name string, ids []string) (int64, error) {
	db := tx.db
	var removed int64
	for _, id := range ids {
		res, err := tx.tx.ExecContext(ctx, rebind(db.dialect, `DELETE FROM contacts WHERE id = ? AND set_id IN (SELECT id FROM contact_sets WHERE sunset = ?)`), id, name)
		if err != nil {
			return 0, db.translate(err, "erase contacts")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, db.translate(err, "erase contacts")
		}
		removed += n
	}
	if removed == 0 {
		return 0, nil
	}
	_, err := tx.tx.ExecContext(ctx, rebind(db.dialect, `UPDATE contact_sets
	SET erased = erased + count - (SELECT COUNT(*) FROM contacts WHERE set_id = contact_sets.id),
	    count = (SELECT COUNT(*) FROM contacts WHERE set_id = contact_sets.id) WHERE sunset = ?`), name)
	return removed, db.translate(err, "erase contacts")
}

// ContactsPage returns, in tx, up to limit contacts of the sunset's current revision after line
// after, in file order: what notify's fan-out reads when the plan names a contacts file. A
// revision stored without one (applied before plan bundles) is ENOTFOUND, so that the notice
// fails visibly instead of reaching nobody.
func (o *Outbox) ContactsPage(ctx context.Context, tx *sql.Tx, sunsetName string, after int64, limit int) ([]notify.Recipient, int64, error) {
	set, err := o.db.currentSet(ctx, tx, sunsetName)
	if err != nil {
		return nil, 0, err
	}
	if set == 0 {
		// Asked for because the plan names a contacts file: telling nobody in silence is the
		// one thing this must not do.
		return nil, 0, sunset.Errorf(sunset.ENOTFOUND, "the current revision of %s carries no contacts file although its plan names one (it was applied before plans travelled with their files); apply the plan again: sunset apply FILE", sunsetName)
	}
	page, err := o.db.contactsPage(ctx, tx, set, after, limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]notify.Recipient, len(page))
	for i, c := range page {
		out[i] = notify.FromContact(c)
	}
	if len(page) > 0 {
		after = int64(page[len(page)-1].Line)
	}
	return out, after, nil
}

// ContactTiers is the Tiers lookup of the guardrail signals: each consumer's tier from the
// contacts stored with the sunset's current plan revision, read through the engine's
// transaction. The map of a contact set is kept until the set changes (a new revision, an
// erasure), so a guardrail checked every minute does not read a million rows each time.
func (db *DB) ContactTiers() Tiers {
	type entry struct {
		set, count int64
		tiers      map[string]string
	}
	var (
		mu    sync.Mutex
		cache = map[string]entry{} // by sunset: its current set only, so memory stays bounded
	)
	return func(ctx context.Context, tx engine.Tx, s *engine.Sunset) (map[string]string, error) {
		q := tx.SQL()
		set, err := db.currentSet(ctx, q, s.Name)
		if err != nil || set == 0 {
			return nil, err
		}
		var count int64
		if err := q.QueryRowContext(ctx, rebind(db.dialect, `SELECT count FROM contact_sets WHERE id = ?`), set).Scan(&count); err != nil {
			return nil, db.translate(err, "read contact tiers")
		}
		mu.Lock()
		e, ok := cache[s.Name]
		mu.Unlock()
		if ok && e.set == set && e.count == count {
			return e.tiers, nil
		}
		rows, err := q.QueryContext(ctx, rebind(db.dialect, `SELECT id, tier FROM contacts WHERE set_id = ? AND tier <> ''`), set)
		if err != nil {
			return nil, db.translate(err, "read contact tiers")
		}
		defer rows.Close()
		tiers := map[string]string{}
		for rows.Next() {
			var id, tier string
			if err := rows.Scan(&id, &tier); err != nil {
				return nil, db.translate(err, "read contact tiers")
			}
			tiers[id] = tier
		}
		if err := rows.Err(); err != nil {
			return nil, db.translate(err, "read contact tiers")
		}
		mu.Lock()
		cache[s.Name] = entry{set, count, tiers}
		mu.Unlock()
		return tiers, nil
	}
}

// PruneContacts deletes the contact sets created before before that no revision names: the
// rows of an upload the server did not live to finish or to drop. Call it at start, with a
// margin (an hour) so that an upload under way on another replica is left alone. It returns
// how many sets it deleted.
func (db *DB) PruneContacts(ctx context.Context, before time.Time) (int64, error) {
	orphan := `FROM contact_sets cs WHERE cs.created_at < ? AND NOT EXISTS (SELECT 1 FROM plan_revisions r WHERE r.contacts_set = cs.id)`
	at := db.timeArg(normTime(before))
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, rebind(db.dialect, `DELETE FROM contacts WHERE set_id IN (SELECT cs.id `+orphan+`)`), at); err != nil {
			return db.translate(err, "prune contacts")
		}
		res, err := tx.ExecContext(ctx, rebind(db.dialect, `DELETE FROM contact_sets WHERE created_at < ?
		AND NOT EXISTS (SELECT 1 FROM plan_revisions r WHERE r.contacts_set = contact_sets.id)`), at)
		if err != nil {
			return db.translate(err, "prune contacts")
		}
		n, err = res.RowsAffected()
		return db.translate(err, "prune contacts")
	})
	return n, err
}

// SunsetsMissingContacts names the sunsets whose current plan names a contacts file while their
// current revision carries none (applied before plans travelled with their files): their
// notices to contacts fail until the plan is applied again with the file.
func (db *DB) SunsetsMissingContacts(ctx context.Context) ([]string, error) {
	list, err := db.ListSunsets(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range list {
		if s.State == engine.StateCancelled || s.State == engine.StateShutDown || s.State == engine.StateEvaluated {
			continue
		}
		p, problems := plan.ParseStored(s.Name+".yaml", s.Plan)
		if problems.Err() != nil || p.Consumers.Contacts == "" {
			continue
		}
		set, err := db.currentSet(ctx, db.sql, s.Name)
		if err != nil {
			return nil, err
		}
		if set == 0 {
			names = append(names, s.Name)
		}
	}
	return names, nil
}
