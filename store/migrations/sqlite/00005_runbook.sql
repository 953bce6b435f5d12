-- Runbook runs: their state (one JSON document, saved before and after every step, versioned so
-- that two runners cannot both drive a run), approvals (one per person and step), and the live
-- output of their steps. Instants are RFC 3339 text in UTC.

-- +goose Up
CREATE TABLE runbook_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sunset TEXT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX runbook_runs_sunset ON runbook_runs (sunset, id);

CREATE TABLE runbook_approvals (
    run_id BIGINT NOT NULL REFERENCES runbook_runs (id),
    step TEXT NOT NULL,
    person TEXT NOT NULL,
    role TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, step, person)
);

CREATE TABLE runbook_log (
    run_id BIGINT NOT NULL REFERENCES runbook_runs (id),
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    step TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- +goose Down
DROP TABLE runbook_log;
DROP TABLE runbook_approvals;
DROP TABLE runbook_runs;
