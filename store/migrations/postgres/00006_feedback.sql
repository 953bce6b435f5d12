-- Feedback from users during the phase-out: the public form, the API and CSV imports.

-- +goose Up
CREATE TABLE feedback (
    id        BIGSERIAL PRIMARY KEY,
    sunset_id BIGINT      NOT NULL REFERENCES sunsets (id),
    at        TIMESTAMPTZ NOT NULL,
    mood      TEXT        NOT NULL CHECK (mood IN ('positive', 'neutral', 'negative')),
    rating    INTEGER     NOT NULL DEFAULT 0,
    category  TEXT        NOT NULL,
    text      TEXT        NOT NULL DEFAULT '',
    contact   TEXT        NOT NULL DEFAULT '',
    consumer  TEXT        NOT NULL DEFAULT '',
    tier      TEXT        NOT NULL DEFAULT '',
    locale    TEXT        NOT NULL DEFAULT '',
    source    TEXT        NOT NULL
);

CREATE INDEX feedback_sunset_at ON feedback (sunset_id, at);

-- +goose Down
DROP TABLE feedback;
