-- Sunset's schema on SQLite. Shipped migrations are never edited: add a new numbered file.
--
-- Instants are INTEGER nanoseconds since the Unix epoch (UTC). The store truncates them to
-- microseconds before writing, so that SQLite keeps exactly what PostgreSQL's timestamptz keeps.
-- JSON columns are TEXT checked with json_valid. Tables are STRICT so that a wrong type is an
-- error instead of a silent conversion.

-- +goose Up
CREATE TABLE sunsets (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL CHECK (name <> ''),
    state       TEXT    NOT NULL,
    paused_from TEXT    NOT NULL DEFAULT '',
    revision    INTEGER NOT NULL DEFAULT 0,
    plan        BLOB    NOT NULL DEFAULT x'',
    plan_hash   TEXT    NOT NULL DEFAULT '',
    -- stakeholders who signed off, in order: a JSON array of strings
    signoffs    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(signoffs) AND json_type(signoffs) = 'array'),
    head_seq    INTEGER NOT NULL DEFAULT 0,
    head_hash   TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CONSTRAINT sunsets_name_key UNIQUE (name)
) STRICT;

CREATE TABLE actions (
    sunset_id INTEGER NOT NULL REFERENCES sunsets (id),
    key       TEXT    NOT NULL CHECK (key <> ''),
    at        INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    detail    TEXT    NOT NULL DEFAULT '',
    status    TEXT    NOT NULL,
    revision  INTEGER NOT NULL DEFAULT 0,
    done_at   INTEGER,
    PRIMARY KEY (sunset_id, key)
) STRICT;

-- DueActions: pending actions of every sunset whose instant has come.
CREATE INDEX actions_status_at ON actions (status, at);

-- Append-only and hash-chained. No trigger forbids UPDATE or DELETE on purpose: the chain is what
-- detects tampering, and its tests tamper with raw SQL.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    sunset_id INTEGER NOT NULL REFERENCES sunsets (id),
    seq       INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    type      TEXT    NOT NULL,
    actor     TEXT    NOT NULL DEFAULT '',
    -- the exact bytes the caller hashed, hence TEXT and not SQLite's JSONB
    data      TEXT CHECK (data IS NULL OR json_valid(data)),
    prev_hash TEXT    NOT NULL DEFAULT '',
    hash      TEXT    NOT NULL,
    CONSTRAINT events_sunset_id_seq_key UNIQUE (sunset_id, seq)
) STRICT;

-- +goose Down
DROP TABLE events;
DROP TABLE actions;
DROP TABLE sunsets;
