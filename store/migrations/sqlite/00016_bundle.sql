-- Plan bundles: a plan revision carries the files its plan references. A contacts file is
-- stored as rows of a contact set, named by the SHA-256 of the file's bytes within its sunset
-- (hash is '' while the set is being staged, before its last row is read). plan_revisions
-- keeps, per revision, the plan's hash and the files (reference, hash, size, count) its bundle
-- carried, and the contact set the sunset's readers use.

-- +goose Up
CREATE TABLE contact_sets (
    id         INTEGER PRIMARY KEY,
    sunset     TEXT    NOT NULL CHECK (sunset <> ''),
    hash       TEXT    NOT NULL DEFAULT '',
    size       INTEGER NOT NULL DEFAULT 0,
    count      INTEGER NOT NULL DEFAULT 0,
    -- contacts erased from this set since it was stored
    erased     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX contact_sets_sunset_hash ON contact_sets (sunset, hash) WHERE hash <> '';

CREATE TABLE contacts (
    set_id   INTEGER NOT NULL,
    line     INTEGER NOT NULL,
    id       TEXT    NOT NULL,
    email    TEXT    NOT NULL DEFAULT '',
    name     TEXT    NOT NULL DEFAULT '',
    locale   TEXT    NOT NULL DEFAULT '',
    tier     TEXT    NOT NULL DEFAULT '',
    timezone TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (set_id, line)
) STRICT, WITHOUT ROWID;

CREATE INDEX contacts_set_id ON contacts (set_id, id);

CREATE TABLE plan_revisions (
    sunset_id    INTEGER NOT NULL REFERENCES sunsets (id),
    revision     INTEGER NOT NULL,
    plan_hash    TEXT    NOT NULL,
    bundle_hash  TEXT    NOT NULL,
    -- the bundle's files: a JSON array of {ref, path, kind, sha256, size, count}
    files        TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(files)),
    contacts_set INTEGER,
    actor        TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (sunset_id, revision)
) STRICT;

-- +goose Down
DROP TABLE plan_revisions;
DROP TABLE contacts;
DROP TABLE contact_sets;
