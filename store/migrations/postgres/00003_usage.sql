-- Usage counted by gateways: requests per feature, consumer and hour; the flushes already applied
-- (so that a retried flush is not counted twice); and when each consumer was first served a
-- Deprecation header (awareness).

-- +goose Up
CREATE TABLE usage_counts (
    sunset_id bigint      NOT NULL REFERENCES sunsets (id),
    feature   text        NOT NULL,
    consumer  text        NOT NULL,
    hour      timestamptz NOT NULL,
    count     bigint      NOT NULL CHECK (count >= 0),
    PRIMARY KEY (sunset_id, feature, consumer, hour)
);

CREATE TABLE usage_flushes (
    sunset_id   bigint      NOT NULL REFERENCES sunsets (id),
    gateway     text        NOT NULL CHECK (gateway <> ''),
    seq         bigint      NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (sunset_id, gateway, seq)
);

CREATE TABLE consumer_awareness (
    sunset_id  bigint      NOT NULL REFERENCES sunsets (id),
    consumer   text        NOT NULL CHECK (consumer <> ''),
    first_seen timestamptz NOT NULL,
    PRIMARY KEY (sunset_id, consumer)
);

-- +goose Down
DROP TABLE consumer_awareness;
DROP TABLE usage_flushes;
DROP TABLE usage_counts;
