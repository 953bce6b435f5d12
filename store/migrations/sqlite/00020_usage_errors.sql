-- Usage counts also count the answers that were server errors (status 500 and above, from the
-- service or from the gateway failing to reach it), for the gateway.error_rate guardrail signal.

-- +goose Up
ALTER TABLE usage_counts ADD COLUMN errors INTEGER NOT NULL DEFAULT 0 CHECK (errors >= 0);

-- +goose Down
ALTER TABLE usage_counts DROP COLUMN errors;
