-- Claim takes the oldest due deliveries in (next_at, id) order: an index in that order lets it
-- read just the rows it claims instead of sorting every due row of a 100,000-recipient notice.

-- +goose Up
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_at, id) WHERE status IN ('queued', 'sending');

-- +goose Down
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_at) WHERE status IN ('queued', 'sending');
