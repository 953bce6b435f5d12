-- The notify outbox: one row per message of a notice to a recipient over a channel endpoint,
-- unique, so that nothing is queued twice; the suppression list; and the notices shown on the
-- public pages.

-- +goose Up
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    sunset_id    INTEGER NOT NULL REFERENCES sunsets (id),
    notice       TEXT    NOT NULL CHECK (notice <> ''),
    template     TEXT    NOT NULL,
    channel      TEXT    NOT NULL CHECK (channel <> ''),
    recipient    TEXT    NOT NULL CHECK (recipient <> ''),
    email        TEXT    NOT NULL DEFAULT '',
    name         TEXT    NOT NULL DEFAULT '',
    locale       TEXT    NOT NULL DEFAULT '',
    tier         TEXT    NOT NULL DEFAULT '',
    timezone     TEXT    NOT NULL DEFAULT '',
    mandatory    INTEGER NOT NULL DEFAULT 0,
    -- moved milestones of a schedule change: a JSON array
    changes      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(changes)),
    status       TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    delivered_at INTEGER,
    CONSTRAINT outbox_delivery_key UNIQUE (sunset_id, notice, recipient, channel)
) STRICT;

-- Claim: due rows, oldest first.
CREATE INDEX outbox_due ON outbox (next_at) WHERE status IN ('queued', 'sending');
-- The ledger and the awareness figure.
CREATE INDEX outbox_sunset_recipient ON outbox (sunset_id, recipient, status);

CREATE TABLE suppressions (
    address    TEXT    PRIMARY KEY,
    reason     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE announcements (
    sunset_id INTEGER NOT NULL REFERENCES sunsets (id),
    notice    TEXT    NOT NULL,
    template  TEXT    NOT NULL,
    channels  TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(channels)),
    mandatory INTEGER NOT NULL DEFAULT 0,
    changes   TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(changes)),
    at        INTEGER NOT NULL,
    PRIMARY KEY (sunset_id, notice)
) STRICT;

-- +goose Down
DROP TABLE announcements;
DROP TABLE suppressions;
DROP TABLE outbox;
