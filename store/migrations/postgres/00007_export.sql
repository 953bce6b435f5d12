-- Per-user exports (data takeout): one job per sunset, whose position says how many users of
-- its source stream are fully handled (so a restarted job skips them without reading their
-- state), and one row per user: the zip's key and hash, downloads, whether it is kept in a
-- backup archive, and the migration to the alternative. Instants are RFC 3339 text in UTC.

-- +goose Up
CREATE TABLE export_jobs (
    sunset TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    source TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    expires TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE export_users (
    sunset TEXT NOT NULL,
    user_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    locale TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    blob_key TEXT NOT NULL DEFAULT '',
    bytes BIGINT NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    downloads BIGINT NOT NULL DEFAULT 0,
    last_download TEXT NOT NULL DEFAULT '',
    kept_in TEXT NOT NULL DEFAULT '',
    migrate_state TEXT NOT NULL DEFAULT '',
    migrate_error TEXT NOT NULL DEFAULT '',
    migrate_attempts BIGINT NOT NULL DEFAULT 0,
    migrated_at TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (sunset, user_id)
);
CREATE INDEX export_users_seq ON export_users (sunset, seq);

-- +goose Down
DROP TABLE export_users;
DROP TABLE export_jobs;
