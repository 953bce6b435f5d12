package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver"

	"github.com/sunsetops/sunset/engine"
)

// The dialects, as engine.Store.Dialect reports them.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Precision is the finest instant the store keeps, on both backends: PostgreSQL's timestamptz
// keeps microseconds, so SQLite is made to keep the same.
const Precision = time.Microsecond

// Interface guards.
var (
	_ engine.Store = (*DB)(nil)
	_ engine.Tx    = (*Tx)(nil)
)

// Config says what New needs to know about the database behind a *sql.DB.
type Config struct {
	// Dialect is SQLite or Postgres.
	Dialect string
	// Schema is the PostgreSQL schema holding Sunset's and River's tables ("" on SQLite).
	Schema string
	// Now tells the time when a caller leaves CreatedAt or UpdatedAt zero; time.Now if nil.
	Now func() time.Time
	// River is River's driver over the same pool (riversqlite or riverdatabasesql), handed to
	// the engine so that the engine itself imports no database driver.
	River riverdriver.Driver[*sql.Tx]
	// Where names the database in storage failures' messages: the SQLite file's path ("" on
	// PostgreSQL, whose server is not named to users).
	Where string
	// Replica names this process's heartbeat row (Ready); HOSTNAME-PID if empty.
	Replica string
	// ProbeInterval is Ready's (DefaultProbeInterval if zero).
	ProbeInterval time.Duration
}

// Options are the settings the Open functions of store/sqlite and store/postgres accept.
type Options struct {
	// Logger receives one line per migration applied; nil discards them.
	Logger *slog.Logger
	// Replica, ProbeInterval and Now are Config's.
	Replica       string
	ProbeInterval time.Duration
	Now           func() time.Time
}

// Option sets one of Options.
type Option func(*Options)

// WithLogger makes Open log the migrations it applies to l.
func WithLogger(l *slog.Logger) Option { return func(o *Options) { o.Logger = l } }

// WithReplica names this process's heartbeat row, written by Ready (see Config.Replica).
func WithReplica(name string) Option { return func(o *Options) { o.Replica = name } }

// WithProbeInterval sets how often, at most, Ready writes its heartbeat, and how long a storage
// failure keeps it failing (DefaultProbeInterval by default).
func WithProbeInterval(d time.Duration) Option { return func(o *Options) { o.ProbeInterval = d } }

// WithNow gives the store its clock (Config.Now), e.g. a test's.
func WithNow(now func() time.Time) Option { return func(o *Options) { o.Now = now } }

// Config returns cfg with the settings of o that Config carries.
func (o Options) Config(cfg Config) Config {
	cfg.Replica, cfg.ProbeInterval, cfg.Now = o.Replica, o.ProbeInterval, o.Now
	return cfg
}

// ApplyOptions returns the Options that opts set, with defaults for the rest.
func ApplyOptions(opts []Option) Options {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// DB is the store over one database/sql pool. It implements engine.Store; its methods are safe
// for concurrent use.
//
// On SQLite the pool holds a single connection (see store/sqlite): inside InTx, use only the Tx
// given to fn — a call on DB from within fn waits for the connection fn holds, forever.
type DB struct {
	sql     *sql.DB
	dialect string
	schema  string
	river   riverdriver.Driver[*sql.Tx]
	now     func() time.Time
	q       queries

	where      string        // the database in storage failures' messages
	replica    string        // the heartbeat row's name
	probeEvery time.Duration // Ready's interval
	health     *writeHealth
}

// New wraps an open, migrated pool. It neither opens nor migrates: store/sqlite.Open and
// store/postgres.Open do both and return New's result. Close closes db.
func New(db *sql.DB, cfg Config) (*DB, error) {
	if db == nil {
		return nil, errors.New("store: nil *sql.DB")
	}
	if cfg.Dialect != SQLite && cfg.Dialect != Postgres {
		return nil, fmt.Errorf("store: unknown dialect %q (want %q or %q)", cfg.Dialect, SQLite, Postgres)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	replica := cfg.Replica
	if replica == "" {
		replica = defaultReplica()
	}
	every := cfg.ProbeInterval
	if every <= 0 {
		every = DefaultProbeInterval
	}
	return &DB{
		sql:        db,
		dialect:    cfg.Dialect,
		schema:     cfg.Schema,
		river:      cfg.River,
		now:        now,
		q:          newQueries(cfg.Dialect),
		where:      cfg.Where,
		replica:    replica,
		probeEvery: every,
		health:     &writeHealth{},
	}, nil
}

// DB returns the pool, for the job engine (River) to share.
func (db *DB) DB() *sql.DB { return db.sql }

// RiverDriver returns River's driver over the store's pool.
func (db *DB) RiverDriver() riverdriver.Driver[*sql.Tx] { return db.river }

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() string { return db.dialect }

// Schema returns the PostgreSQL schema that holds Sunset's and River's tables — the first schema
// of the connection's search_path when the store was opened, "public" by default — and "" on
// SQLite. The engine passes it as river.Config.Schema, so that River finds its tables even if
// the search_path of a pooled connection were to change.
func (db *DB) Schema() string { return db.schema }

// Ping checks that the database answers a query, for /readyz. On SQLite it waits while a
// transaction holds the only connection; give it a context with a deadline.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.sql.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping %s: %w", db.dialect, err)
	}
	return nil
}

// Close closes the pool. Using the DB afterwards returns errors.
func (db *DB) Close() error { return db.sql.Close() }

// InTx runs fn in one transaction, committed when fn returns nil and rolled back when it returns
// an error or panics (the panic goes on). fn's Tx is valid only until fn returns.
func (db *DB) InTx(ctx context.Context, fn func(tx engine.Tx) error) (err error) {
	sqlTx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		if u := db.unwritable(err); u != nil {
			return u
		}
		return fmt.Errorf("store: begin transaction: %w", err)
	}
	done := false
	defer func() {
		if !done {
			// fn panicked: undo its writes and let the panic go on.
			_ = sqlTx.Rollback()
		}
	}()
	fnErr := fn(&Tx{db: db, tx: sqlTx})
	done = true
	if u := db.unwritable(fnErr); u != nil {
		// A write of fn's (the store's, or River's in the same transaction) met a full disk
		// or a read-only database: say so, whatever fn wrapped it in.
		fnErr = u
	}
	if fnErr != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(fnErr, fmt.Errorf("store: roll back: %w", rbErr))
		}
		return fnErr
	}
	if err := sqlTx.Commit(); err != nil {
		return db.translate(err, "commit transaction")
	}
	return nil
}

// GetSunset returns the sunset named name, or ENOTFOUND.
func (db *DB) GetSunset(ctx context.Context, name string) (*engine.Sunset, error) {
	return db.getSunset(ctx, db.sql, db.q.getSunset, name)
}

// ListSunsets returns every sunset, ordered by name.
func (db *DB) ListSunsets(ctx context.Context) ([]*engine.Sunset, error) {
	return db.listSunsets(ctx, db.sql)
}

// ListActions returns the sunset's actions ordered by At then Key.
func (db *DB) ListActions(ctx context.Context, sunsetID int64) ([]engine.Action, error) {
	return db.listActions(ctx, db.sql, sunsetID)
}

// ListEvents returns the sunset's events ordered by Seq.
func (db *DB) ListEvents(ctx context.Context, sunsetID int64) ([]engine.Event, error) {
	return db.listEvents(ctx, db.sql, sunsetID)
}

// Tx is the store inside one transaction; it implements engine.Tx. It is not safe for concurrent
// use, like the *sql.Tx under it.
type Tx struct {
	db *DB
	tx *sql.Tx
}

// SQL returns the underlying transaction, for River's *Tx calls (InsertTx, JobCompleteTx), so that
// a job's state and the store's writes commit together.
func (tx *Tx) SQL() *sql.Tx { return tx.tx }

// LockSunset reads the sunset named name and locks its row until the transaction ends (SELECT …
// FOR UPDATE on PostgreSQL). SQLite needs no row lock: its transactions begin IMMEDIATE, so a
// writer holds the whole database from BEGIN on. A missing sunset is ENOTFOUND.
func (tx *Tx) LockSunset(ctx context.Context, name string) (*engine.Sunset, error) {
	return tx.db.getSunset(ctx, tx.tx, tx.db.q.lockSunset, name)
}

// CreateSunset inserts s and sets s.ID. A zero CreatedAt or UpdatedAt is set to the store's
// clock; both are normalised to UTC and Precision. A taken name is ECONFLICT.
func (tx *Tx) CreateSunset(ctx context.Context, s *engine.Sunset) error {
	return tx.db.createSunset(ctx, tx.tx, s)
}

// UpdateSunset writes every field of s but ID, Name and CreatedAt. A zero UpdatedAt is set to the
// store's clock. A sunset that does not exist is ENOTFOUND.
func (tx *Tx) UpdateSunset(ctx context.Context, s *engine.Sunset) error {
	return tx.db.updateSunset(ctx, tx.tx, s)
}

// AppendEvent inserts e and sets e.ID. Seq, PrevHash and Hash are the caller's. The caller must
// truncate e.At to Precision (t.Truncate(time.Microsecond)) before computing the hash: a finer
// instant could not be stored as hashed, so AppendEvent refuses it with EINVALID. A second event
// with the same (SunsetID, Seq) is ECONFLICT; an unknown SunsetID is ENOTFOUND.
func (tx *Tx) AppendEvent(ctx context.Context, e *engine.Event) error {
	return tx.db.appendEvent(ctx, tx.tx, e)
}

// ListActions returns the sunset's actions ordered by At then Key.
func (tx *Tx) ListActions(ctx context.Context, sunsetID int64) ([]engine.Action, error) {
	return tx.db.listActions(ctx, tx.tx, sunsetID)
}

// GetAction returns the sunset's action with key, or ENOTFOUND.
func (tx *Tx) GetAction(ctx context.Context, sunsetID int64, key string) (*engine.Action, error) {
	return tx.db.getAction(ctx, tx.tx, sunsetID, key)
}

// PutAction inserts a or replaces the action with the same (SunsetID, Key). At and DoneAt are
// normalised to UTC and Precision. An unknown SunsetID is ENOTFOUND.
func (tx *Tx) PutAction(ctx context.Context, a *engine.Action) error {
	return tx.db.putAction(ctx, tx.tx, a)
}

// DueActions returns pending actions of every sunset with At <= now, ordered by At, Key and
// sunset, at most limit of them (all of them when limit <= 0).
func (tx *Tx) DueActions(ctx context.Context, now time.Time, limit int) ([]engine.Action, error) {
	return tx.db.dueActions(ctx, tx.tx, now, limit)
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rebind turns the ? markers of query into PostgreSQL's $1, $2… Queries in this package contain
// no ? other than markers.
func rebind(dialect, query string) string {
	if dialect != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normTime is t as the store keeps it: UTC, truncated to Precision. The zero time stays zero.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(Precision)
}

// timeArg is the query argument for an instant already normalised by normTime: NULL for the zero
// time, nanoseconds since the Unix epoch on SQLite, the time itself on PostgreSQL.
func (db *DB) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if db.dialect == SQLite {
		return t.UnixNano()
	}
	return t
}

// timeCol scans an instant column of either dialect into a UTC time.Time; NULL is the zero time.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.Unix(0, v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("store: cannot read an instant from %T", src)
	}
	return nil
}
