-- Plan bundles: a plan revision carries the files its plan references. A contacts file is
-- stored as rows of a contact set, named by the SHA-256 of the file's bytes within its sunset
-- (hash is '' while the set is being staged, before its last row is read). plan_revisions
-- keeps, per revision, the plan's hash and the files (reference, hash, size, count) its bundle
-- carried, and the contact set the sunset's readers use.

-- +goose Up
CREATE TABLE contact_sets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sunset     text        NOT NULL CHECK (sunset <> ''),
    hash       text        NOT NULL DEFAULT '',
    size       bigint      NOT NULL DEFAULT 0,
    count      bigint      NOT NULL DEFAULT 0,
    -- contacts erased from this set since it was stored
    erased     bigint      NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX contact_sets_sunset_hash ON contact_sets (sunset, hash) WHERE hash <> '';

CREATE TABLE contacts (
    set_id   bigint NOT NULL,
    line     bigint NOT NULL,
    id       text   NOT NULL,
    email    text   NOT NULL DEFAULT '',
    name     text   NOT NULL DEFAULT '',
    locale   text   NOT NULL DEFAULT '',
    tier     text   NOT NULL DEFAULT '',
    timezone text   NOT NULL DEFAULT '',
    PRIMARY KEY (set_id, line)
);

CREATE INDEX contacts_set_id ON contacts (set_id, id);

CREATE TABLE plan_revisions (
    sunset_id    bigint      NOT NULL REFERENCES sunsets (id),
    revision     bigint      NOT NULL,
    plan_hash    text        NOT NULL,
    bundle_hash  text        NOT NULL,
    -- the bundle's files: [{ref, path, kind, sha256, size, count}]
    files        jsonb       NOT NULL DEFAULT '[]',
    contacts_set bigint,
    actor        text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (sunset_id, revision)
);

-- +goose Down
DROP TABLE plan_revisions;
DROP TABLE contacts;
DROP TABLE contact_sets;
