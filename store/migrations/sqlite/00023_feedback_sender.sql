-- Who sent a feedback message, as a keyed hash of the client's address (never the address
-- itself), so that a guardrail trip driven by senders never seen before can be told apart
-- (docs/guardrails.md). Empty for imports and for messages stored before this column.

-- +goose Up
ALTER TABLE feedback ADD COLUMN sender TEXT NOT NULL DEFAULT '';
CREATE INDEX feedback_sunset_sender ON feedback (sunset_id, sender, at);

-- +goose Down
DROP INDEX feedback_sunset_sender;
ALTER TABLE feedback DROP COLUMN sender;
