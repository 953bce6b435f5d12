-- Backup jobs: the latest backup of a sunset's declared backups a server took on request
-- (sunset backup create), one row per sunset, so that every replica can tell how it goes and
-- none starts a second one. The job is one JSON document; owner names the replica taking it and
-- heartbeat (Unix nanoseconds) when it last said so: a running job whose heartbeat is old was
-- abandoned by a server that stopped.

-- +goose Up
CREATE TABLE backup_jobs (
    sunset TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    owner TEXT NOT NULL,
    heartbeat BIGINT NOT NULL,
    data TEXT NOT NULL
);

-- +goose Down
DROP TABLE backup_jobs;
