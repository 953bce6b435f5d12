-- An action that fails is on the record at once: how many times it has failed in a row, its last
-- error in words, when it started failing and when the engine tries it again. A usage count also
-- keeps the instant of the last request it counted, so that "last seen" is a request's time and
-- not the start of its hour (NULL where a gateway did not send it).

-- +goose Up
ALTER TABLE actions ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE actions ADD COLUMN last_error text NOT NULL DEFAULT '';
ALTER TABLE actions ADD COLUMN failing_since timestamptz;
ALTER TABLE actions ADD COLUMN retry_at timestamptz;
ALTER TABLE usage_counts ADD COLUMN last_at timestamptz;

-- +goose Down
ALTER TABLE usage_counts DROP COLUMN last_at;
ALTER TABLE actions DROP COLUMN retry_at;
ALTER TABLE actions DROP COLUMN failing_since;
ALTER TABLE actions DROP COLUMN last_error;
ALTER TABLE actions DROP COLUMN attempts;
