-- Notify's public pages and owner messages: the keys that sign links (one-click unsubscribe),
-- made once per database so that every replica and every restart honours the same links; and
-- the data a message renders beyond its recipient (the values of tripped guardrails, the task
-- an owner is reminded of), a JSON object.

-- +goose Up
CREATE TABLE signing_keys (
    name       text        PRIMARY KEY,
    key        bytea       NOT NULL CHECK (length(key) >= 32),
    created_at timestamptz NOT NULL
);

ALTER TABLE outbox ADD COLUMN data jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE outbox DROP COLUMN data;
DROP TABLE signing_keys;
