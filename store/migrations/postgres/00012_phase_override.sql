-- The phase a runbook's gateway step switched a sunset to, ahead of its timeline: one row per
-- sunset, the latest switch (every switch is also an Event). The control plane applies it to the
-- policy it serves to gateways. Instants are RFC 3339 text in UTC.

-- +goose Up
CREATE TABLE phase_overrides (
    sunset TEXT PRIMARY KEY,
    phase TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL
);

-- +goose Down
DROP TABLE phase_overrides;
