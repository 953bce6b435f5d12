// Package notify tells a sunset's users what is coming, on every channel they read, exactly once,
// in their language.
//
// A notice of the plan becomes deliveries in an outbox: one row per (notice, recipient, channel),
// unique in the store, written by the engine's notice handler inside the action's transaction
// (Handler). A Worker claims due rows in batches, renders each message in the recipient's locale
// (Render), and hands it to a Channel; the outcome — delivered, retried later with backoff and
// jitter, or failed with its reason — is recorded on the row. A circuit breaker per channel
// endpoint keeps a dead endpoint from holding up the rest, a token bucket per channel keeps to
// the provider's rate, and a suppression list honours unsubscribes.
//
// Delivery is at least once with a stable idempotency key: a message interrupted by a crash
// between the send and the record of its outcome is sent again after its claim expires, with the
// same key (the webhook-id of Standard Webhooks, the email's Message-ID, Mastodon's
// Idempotency-Key), so that receivers recognise the repeat. Nothing is ever sent twice under
// two keys, and nothing claimed is lost.
//
// Channel adapters live below: notify/smtp, notify/webhook and notify/chat (chat rooms and
// Mastodon), built per endpoint by notify/channels. They import notify/channel, which holds the
// Message, Channel and Recipient types (named here too: notify.Message is channel.Message), and
// not this package, so that a channel needs neither the outbox nor the engine and River.
package notify
