package notify

import (
	"crypto/sha256"
	"encoding/base32"
	"strconv"
	"strings"
	"time"

	"github.com/sunsetops/sunset/notify/channel"
)

// Status is where a delivery stands in the ledger of who was told.
type Status string

// Delivery statuses. queued → sending → delivered | failed, and back to queued (with a later
// NextAt) after a transient error. suppressed deliveries were never attempted: the recipient
// unsubscribed and the notice is not mandatory. held deliveries were not attempted either: their
// links point at a loopback address and the recipient is elsewhere (loopback.go); a worker whose
// links are public releases them to queued when it starts.
const (
	StatusQueued     Status = "queued"
	StatusSending    Status = "sending"
	StatusDelivered  Status = "delivered"
	StatusFailed     Status = "failed"
	StatusSuppressed Status = "suppressed"
	// StatusRetrying is never stored: the ledger counts queued deliveries that already failed
	// once (Attempts > 0) under it, apart from the ones never tried.
	StatusRetrying Status = "retrying"
	StatusHeld     Status = "held"
)

// Channel kinds as the plan names them in a notice's channels (channel.Email…).
const (
	ChannelEmail    = channel.Email
	ChannelWebhook  = channel.Webhook
	ChannelChat     = channel.Chat
	ChannelMastodon = channel.Mastodon
)

// Publications are channels that deliver nothing: the notice appears on Sunset's own pages
// (banner script, Atom feed, status page) from its instant on.
var Publications = []string{"banner", "feed", "status_page"}

// Broadcast is the recipient id of deliveries that go to a channel rather than to a person (chat
// rooms, Mastodon): one message per notice.
const Broadcast = "*"

// Delivery is one row of the outbox: one message of one notice to one recipient over one
// channel endpoint. (SunsetID, Notice, RecipientID, Channel) is unique.
type Delivery struct {
	ID       int64  `json:"id"`
	SunsetID int64  `json:"-"`
	Sunset   string `json:"sunset"`
	// Notice is the notice's action key ("notice/2", "replan/3").
	Notice   string `json:"notice"`
	Template string `json:"template"`
	// Channel is the endpoint: "email", "webhook:NAME", "chat:NAME" or "mastodon".
	Channel   string    `json:"channel"`
	Recipient Recipient `json:"recipient"`
	Mandatory bool      `json:"mandatory,omitempty"`
	// Changes are the moved milestones of a schedule_changed notice.
	Changes []MilestoneChange `json:"changes,omitempty"`
	// Data is what the message says beyond the plan and the recipient: the tripped guardrails
	// of guardrail_tripped, the task of an owner's reminder (template task).
	Data   Data   `json:"data,omitzero"`
	Status Status `json:"status"`
	// Attempts counts sends whose outcome was recorded.
	Attempts int `json:"attempts"`
	// NextAt is when a queued delivery is due, or when the claim of a sending one expires.
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// DeliveredAt is when the channel accepted the message.
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// PlanHash identifies the plan revision that claimed rows render with (filled by Claim).
	PlanHash string `json:"-"`
}

// Data is the part of a message's content that neither the plan nor the recipient holds. It is
// kept with the delivery, so that the message renders the same after a crash.
type Data struct {
	// Guardrails are the guardrails that tripped (guardrail_tripped).
	Guardrails []TrippedGuardrail `json:"guardrails,omitempty"`
	// Task is the action an owner is reminded of (template task), or the action that kept
	// failing (action_stalled).
	Task *Task `json:"task,omitempty"`
	// Failure is why that action paused the sunset (action_stalled).
	Failure *Failure `json:"failure,omitempty"`
	// Alert is the delivery trouble of a delivery_alert.
	Alert *Alert `json:"alert,omitempty"`
}

// Failure is an action's failure: its last error in words and how many times in a row it failed.
type Failure struct {
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
}

// Alert is a delivery trouble an owner is alerted to (template delivery_alert).
type Alert struct {
	// Kind is AlertLate or AlertDown.
	Kind    string `json:"kind"`
	Notice  string `json:"notice"`
	Channel string `json:"channel"`
	// Count is how many deliveries of the notice over the channel wait; Since is when the oldest
	// was queued (late) or when the channel's breaker opened (down).
	Count     int       `json:"count"`
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
}

// Alert kinds.
const (
	AlertLate = "late"
	AlertDown = "down"
)

// TrippedGuardrail is one guardrail that paused a sunset, with the value that tripped it.
type TrippedGuardrail struct {
	Name      string  `json:"name"`
	Condition string  `json:"condition"`
	Value     float64 `json:"value"`
}

// Task is an action of the timeline an owner is responsible for.
type Task struct {
	// Key is the action's key ("milestone/shutdown", "runbook/start"); Kind, Name and Detail
	// are as the timeline shows them.
	Key    string    `json:"key"`
	Kind   string    `json:"kind"`
	Name   string    `json:"name,omitempty"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
	// Lead is how long before At the reminder was planned.
	Lead time.Duration `json:"lead,omitempty"`
	// Areas are the owner's `for` areas that made them responsible.
	Areas []string `json:"areas,omitempty"`
}

// Kind is the channel kind of the delivery's endpoint: "email", "webhook", "chat", "mastodon".
func (d *Delivery) Kind() string {
	k, _, _ := strings.Cut(d.Channel, ":")
	return k
}

// Key is the delivery's idempotency key: stable across retries, crashes and processes, and
// different for every (sunset, notice, recipient, channel). Channels send it as the webhook-id,
// the Message-ID and the Idempotency-Key.
func (d *Delivery) Key() string {
	return DeliveryKey(d.Sunset, d.Notice, d.RecipientKey(), d.Channel)
}

// RecipientKey is the recipient's id.
func (d *Delivery) RecipientKey() string { return d.Recipient.ID }

// DeliveryKey derives the idempotency key of one delivery: "msg_" and 26 base32 characters of a
// SHA-256 over the four parts.
func DeliveryKey(sunset, notice, recipient, channel string) string {
	h := sha256.New()
	for _, p := range []string{sunset, notice, recipient, channel} {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	sum := h.Sum(nil)
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// Message is what a Channel sends: one rendered delivery, its Key being Delivery.Key. The type
// lives in notify/channel, so that channel adapters need not import this package.
type Message = channel.Message

// Channel sends messages over one endpoint (channel.Channel): Send reports whether a failure is
// worth retrying, and must honour ctx and be safe for concurrent use.
type Channel = channel.Channel

// ChannelFunc adapts a function to Channel.
type ChannelFunc = channel.Func
