-- Runbook run leases: on a cluster of replicas, the replica that drives a run holds its lease
-- (lease_owner, until lease_until, Unix nanoseconds) and renews it while it works; another
-- replica takes the run over only once the lease has expired.

-- +goose Up
ALTER TABLE runbook_runs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runbook_runs ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE runbook_runs DROP COLUMN lease_until;
ALTER TABLE runbook_runs DROP COLUMN lease_owner;
