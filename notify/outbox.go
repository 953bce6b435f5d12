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
	// WithdrawTasks deletes, in tx, the sunset's owners' task reminders that are still queued
	// (notices "task/…"), so that the schedule hook can queue the current set afresh. Reminders
	// sent, being sent or failed stay: a reminder already sent for an instant is never sent
	// again for it.
	WithdrawTasks(ctx context.Context, tx *sql.Tx, sunsetID int64) (int, error)
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
	// Waiting counts the deliveries not yet delivered (queued, retrying or being sent) per sunset,
	// notice and channel, with the oldest one's queueing instant and the latest error; owners'
	// alerts themselves (notices "alert/…") are not counted.
	Waiting(ctx context.Context) ([]Waiting, error)
	// EnqueueAlerts inserts owners' alerts in a transaction of their own, skipping any already
	// there (one per notice key, recipient and channel), and returns how many it inserted.
	EnqueueAlerts(ctx context.Context, ds []Delivery) (int, error)
	// ReleaseHeld makes every held delivery queued again, due at now, and returns how many.
	ReleaseHeld(ctx context.Context, now time.Time) (int, error)
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

// Waiting is one notice's deliveries over one channel that have not arrived yet.
type Waiting struct {
	SunsetID  int64
	Sunset    string
	Notice    string
	Channel   string
	Count     int
	Oldest    time.Time
	LastError string
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
	// Lines holds one line per notice and channel endpoint, with its counts per status
	// (Counts pivoted).
	Lines []LedgerLine `json:"lines"`
	// Recipients is how many distinct recipients have deliveries; Aware how many of them at least
	// one delivery reached.
	Recipients int `json:"recipients"`
	Aware      int `json:"aware"`
	// Consumers is the awareness of each consumer: the channels that reached it and when a
	// gateway first told it in-band (a Deprecation header). Owners and stakeholders are not
	// consumers. At most MaxLedgerConsumers are listed, by id; Truncated says when more are.
	Consumers []ConsumerAwareness `json:"consumers"`
	Truncated bool                `json:"truncated,omitempty"`
	// ConsumersKnown is how many consumers have deliveries or an in-band record; ConsumersAware
	// how many of them at least one channel or a gateway reached; InBand how many a gateway
	// told.
	ConsumersKnown int `json:"consumers_known"`
	ConsumersAware int `json:"consumers_aware"`
	InBand         int `json:"in_band"`
	// Failures are the latest failed deliveries with their reasons (given up, or refused for
	// good).
	Failures []Delivery `json:"failures"`
	// Retrying are the latest deliveries that failed for a reason worth another try and wait
	// for it: their attempts so far, the next attempt (NextAt) and the last error in words.
	Retrying []Delivery `json:"retrying"`
	// Breakers are the circuit breakers of the channel endpoints, as the server answering
	// sees them (each replica keeps its own); empty when none has failed or nobody asked the
	// worker.
	Breakers []BreakerState `json:"breakers,omitempty"`
	// Held counts the deliveries held because their links point at a loopback address;
	// HeldReason is why, and what releases them.
	Held       int    `json:"held,omitempty"`
	HeldReason string `json:"held_reason,omitempty"`
}

// MaxLedgerConsumers is how many consumers a Ledger lists at most.
const MaxLedgerConsumers = 1000

// LedgerLine counts the deliveries of one notice over one channel endpoint by status. Sent
// counts deliveries handed to the channel whose outcome is not recorded yet (sending).
type LedgerLine struct {
	Notice   string `json:"notice"`
	Template string `json:"template"`
	Channel  string `json:"channel"`
	Queued   int    `json:"queued"`
	// Retrying counts the queued deliveries that have failed at least once and wait for
	// another attempt (they are not counted in Queued).
	Retrying   int `json:"retrying"`
	Sent       int `json:"sent"`
	Delivered  int `json:"delivered"`
	Failed     int `json:"failed"`
	Suppressed int `json:"suppressed"`
	// Held counts deliveries held for their loopback links.
	Held int `json:"held"`
}

// Lines pivots counts (ordered by notice and channel) into one line per notice and channel.
func Lines(counts []LedgerCount) []LedgerLine {
	out := []LedgerLine{}
	for _, c := range counts {
		if n := len(out); n == 0 || out[n-1].Notice != c.Notice || out[n-1].Channel != c.Channel {
			out = append(out, LedgerLine{Notice: c.Notice, Template: c.Template, Channel: c.Channel})
		}
		l := &out[len(out)-1]
		switch c.Status {
		case StatusQueued:
			l.Queued += c.Count
		case StatusRetrying:
			l.Retrying += c.Count
		case StatusSending:
			l.Sent += c.Count
		case StatusDelivered:
			l.Delivered += c.Count
		case StatusFailed:
			l.Failed += c.Count
		case StatusSuppressed:
			l.Suppressed += c.Count
		case StatusHeld:
			l.Held += c.Count
		}
	}
	return out
}

// ConsumerAwareness says whether one consumer knows about the sunset, and how it was told.
type ConsumerAwareness struct {
	ID    string `json:"id"`
	Email string `json:"email,omitempty"`
	// Reached lists the channel endpoints a delivery reached ("email", "webhook:crm"), sorted.
	Reached []string `json:"reached"`
	// FirstReached is when the first delivery reached it.
	FirstReached time.Time `json:"first_reached,omitzero"`
	// Failed lists the endpoints whose deliveries failed for good.
	Failed []string `json:"failed,omitempty"`
	// InBand is when a gateway first served it a Deprecation header.
	InBand time.Time `json:"in_band,omitzero"`
	// Aware is true when a delivery reached it or a gateway told it.
	Aware bool `json:"aware"`
}

// LedgerCount is the number of deliveries of one notice over one channel in one status.
type LedgerCount struct {
	Notice   string `json:"notice"`
	Template string `json:"template"`
	Channel  string `json:"channel"`
	Status   Status `json:"status"`
	Count    int    `json:"count"`
}
