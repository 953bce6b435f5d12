-- The notify outbox: one row per message of a notice to a recipient over a channel endpoint,
-- unique, so that nothing is queued twice; the suppression list; and the notices shown on the
-- public pages.

-- +goose Up
CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sunset_id    bigint      NOT NULL REFERENCES sunsets (id),
    notice       text        NOT NULL CHECK (notice <> ''),
    template     text        NOT NULL,
    channel      text        NOT NULL CHECK (channel <> ''),
    recipient    text        NOT NULL CHECK (recipient <> ''),
    email        text        NOT NULL DEFAULT '',
    name         text        NOT NULL DEFAULT '',
    locale       text        NOT NULL DEFAULT '',
    tier         text        NOT NULL DEFAULT '',
    timezone     text        NOT NULL DEFAULT '',
    mandatory    boolean     NOT NULL DEFAULT false,
    -- moved milestones of a schedule change
    changes      jsonb       NOT NULL DEFAULT '[]',
    status       text        NOT NULL,
    attempts     integer     NOT NULL DEFAULT 0,
    next_at      timestamptz NOT NULL,
    last_error   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    delivered_at timestamptz,
    CONSTRAINT outbox_delivery_key UNIQUE (sunset_id, notice, recipient, channel)
);

-- Claim: due rows, oldest first.
CREATE INDEX outbox_due ON outbox (next_at) WHERE status IN ('queued', 'sending');
-- The ledger and the awareness figure.
CREATE INDEX outbox_sunset_recipient ON outbox (sunset_id, recipient, status);

CREATE TABLE suppressions (
    address    text        PRIMARY KEY,
    reason     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

CREATE TABLE announcements (
    sunset_id bigint      NOT NULL REFERENCES sunsets (id),
    notice    text        NOT NULL,
    template  text        NOT NULL,
    channels  jsonb       NOT NULL DEFAULT '[]',
    mandatory boolean     NOT NULL DEFAULT false,
    changes   jsonb       NOT NULL DEFAULT '[]',
    at        timestamptz NOT NULL,
    PRIMARY KEY (sunset_id, notice)
);

-- +goose Down
DROP TABLE announcements;
DROP TABLE suppressions;
DROP TABLE outbox;
