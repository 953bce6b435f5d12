package notify

import (
	"context"
	"database/sql"
	"time"
)

// Outbox is the durable store of deliveries. store.DB's Outbox implements it on SQLite and
// PostgreSQL with the same behaviour.
type Outbox interface {
	// Enqueue inserts deliveries in tx (the engine action's transaction), skipping any whose
	// (sunset, notice, recipient, channel) is already there, and returns how many it inserted.
	Enqueue(ctx context.Context, tx *sql.Tx, ds []Delivery) (int, error)
	// SuppressQueued marks the queued, non-mandatory deliveries of a notice whose address is on
	// the suppression list as suppressed, in tx, and returns how many.
	SuppressQueued(ctx context.Context, tx *sql.Tx, sunsetID int64, notice string) (int, error)
	// Told returns, in tx, up to limit recipients of the sunset that at least one delivery
	// reached, ordered by id, with ids greater than after (keyset paging). Broadcasts are not
	// recipients.
	Told(ctx context.Context, tx *sql.Tx, sunsetID int64, after string, limit int) ([]Recipient, error)
	// Publish records that a notice appears on the public pages (banner, feed, status page) from
	// at on, in tx; publishing a notice twice changes nothing.
	Publish(ctx context.Context, tx *sql.Tx, a Announcement) error

	// Claim marks up to limit due deliveries (queued or sending with NextAt <= now) as sending
	// until now+lease and returns them, oldest first. On PostgreSQL, rows another worker has
	// claimed are skipped (FOR UPDATE SKIP LOCKED).
	Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Delivery, error)
	// Record writes the outcome of claimed deliveries (Status, Attempts, NextAt, LastError,
	// DeliveredAt) in one transaction. A row no longer sending (another worker took it over
	// after its claim expired and recorded it first) is left as it is.
	Record(ctx context.Context, ds []Delivery, now time.Time) error
	// Plan returns the plan (YAML) the sunset's deliveries render with.
	Plan(ctx context.Context, sunsetID int64) ([]byte, error)

	// Suppress adds address to the suppression list; Unsuppress removes it.
	Suppress(ctx context.Context, address, reason string, now time.Time) error
	Unsuppress(ctx context.Context, address string) error

	// Ledger summarises who was told about sunset: counts per notice, channel and status, the
	// awareness figure and the latest failures.
	Ledger(ctx context.Context, sunset string, failures int) (*Ledger, error)
	// Announcements returns the sunset's published notices, newest first.
	Announcements(ctx context.Context, sunset string) ([]Announcement, error)
}

// Announcement is a notice shown on the public pages (banner, feed, status page).
type Announcement struct {
	SunsetID  int64     `json:"-"`
	Sunset    string    `json:"sunset"`
	Notice    string    `json:"notice"`
	Template  string    `json:"template"`
	Channels  []string  `json:"channels"`
	Mandatory bool      `json:"mandatory,omitempty"`
	At        time.Time `json:"at"`
	// Changes are the moved milestones of a schedule change.
	Changes []MilestoneChange `json:"changes,omitempty"`
}

// Ledger is the record of who was told.
type Ledger struct {
	Sunset string `json:"sunset"`
	// Counts holds one line per notice, channel and status.
	Counts []LedgerCount `json:"counts"`
	// Recipients is how many distinct recipients have deliveries; Aware how many of them at least
	// one delivery reached.
	Recipients int `json:"recipients"`
	Aware      int `json:"aware"`
	// Failures are the latest failed deliveries with their reasons.
	Failures []Delivery `json:"failures"`
}

// LedgerCount is the number of deliveries of one notice over one channel in one status.
type LedgerCount struct {
	Notice   string `json:"notice"`
	Template string `json:"template"`
	Channel  string `json:"channel"`
	Status   Status `json:"status"`
	Count    int    `json:"count"`
}
