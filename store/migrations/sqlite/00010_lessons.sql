-- The lessons learned of a sunset, free text written after the shutdown and shown in its report.
-- One row per sunset; instants are RFC 3339 text in UTC.

-- +goose Up
CREATE TABLE sunset_lessons (
    sunset TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE sunset_lessons;
