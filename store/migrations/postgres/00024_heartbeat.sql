-- Each replica writes one tiny row here for /readyz, at most once per probe interval: a write
-- that fails (a full disk, a read-only file or replica) makes the replica not ready until a later
-- one succeeds. One row per replica, so that replicas sharing a database never wait for each
-- other's row lock.

-- +goose Up
CREATE TABLE heartbeats (
    replica text PRIMARY KEY,
    beat_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE heartbeats;
