-- Usage counted by gateways: requests per feature, consumer and hour; the flushes already applied
-- (so that a retried flush is not counted twice); and when each consumer was first served a
-- Deprecation header (awareness).

-- +goose Up
CREATE TABLE usage_counts (
    sunset_id INTEGER NOT NULL REFERENCES sunsets (id),
    feature   TEXT    NOT NULL,
    consumer  TEXT    NOT NULL,
    hour      INTEGER NOT NULL,
    count     INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (sunset_id, feature, consumer, hour)
) STRICT;

CREATE TABLE usage_flushes (
    sunset_id   INTEGER NOT NULL REFERENCES sunsets (id),
    gateway     TEXT    NOT NULL CHECK (gateway <> ''),
    seq         INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (sunset_id, gateway, seq)
) STRICT;

CREATE TABLE consumer_awareness (
    sunset_id  INTEGER NOT NULL REFERENCES sunsets (id),
    consumer   TEXT    NOT NULL CHECK (consumer <> ''),
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (sunset_id, consumer)
) STRICT;

-- +goose Down
DROP TABLE consumer_awareness;
DROP TABLE usage_flushes;
DROP TABLE usage_counts;
