-- Sunset's schema on PostgreSQL. Shipped migrations are never edited: add a new numbered file.
--
-- Tables are created unqualified, in the first schema of the connection's search_path (the
-- store's Schema). timestamptz keeps microseconds; the store truncates every instant to
-- microseconds on SQLite too, so both backends keep the same thing.

-- +goose Up
CREATE TABLE sunsets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL CHECK (name <> ''),
    state       text        NOT NULL,
    paused_from text        NOT NULL DEFAULT '',
    revision    bigint      NOT NULL DEFAULT 0,
    plan        bytea       NOT NULL DEFAULT '',
    plan_hash   text        NOT NULL DEFAULT '',
    -- stakeholders who signed off, in order: a JSON array of strings
    signoffs    jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(signoffs) = 'array'),
    head_seq    bigint      NOT NULL DEFAULT 0,
    head_hash   text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT sunsets_name_key UNIQUE (name)
);

CREATE TABLE actions (
    sunset_id bigint      NOT NULL REFERENCES sunsets (id),
    key       text        NOT NULL CHECK (key <> ''),
    at        timestamptz NOT NULL,
    kind      text        NOT NULL,
    name      text        NOT NULL,
    detail    text        NOT NULL DEFAULT '',
    status    text        NOT NULL,
    revision  bigint      NOT NULL DEFAULT 0,
    done_at   timestamptz,
    PRIMARY KEY (sunset_id, key)
);

-- DueActions: pending actions of every sunset whose instant has come.
CREATE INDEX actions_status_at ON actions (status, at);

-- Append-only and hash-chained. No trigger forbids UPDATE or DELETE on purpose: the chain is what
-- detects tampering, and its tests tamper with raw SQL.
CREATE TABLE events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sunset_id bigint      NOT NULL REFERENCES sunsets (id),
    seq       bigint      NOT NULL,
    at        timestamptz NOT NULL,
    type      text        NOT NULL,
    actor     text        NOT NULL DEFAULT '',
    -- json, not jsonb: json keeps the exact bytes the caller hashed, jsonb would reorder keys
    -- and drop whitespace and break the chain
    data      json,
    prev_hash text        NOT NULL DEFAULT '',
    hash      text        NOT NULL,
    CONSTRAINT events_sunset_id_seq_key UNIQUE (sunset_id, seq)
);

-- +goose Down
DROP TABLE events;
DROP TABLE actions;
DROP TABLE sunsets;
