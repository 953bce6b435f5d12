-- Authentication: API tokens, users who log in with a password, and the UI's sessions.
-- Secrets are never stored: a token or session is kept as the SHA-256 of its random value, a
-- password as its bcrypt hash. Instants are RFC 3339 text in UTC; an empty revoked_at means live.

-- +goose Up
CREATE TABLE auth_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL DEFAULT '',
    revoked_at TEXT NOT NULL DEFAULT ''
);

CREATE TABLE auth_users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE auth_sessions (
    hash TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE auth_sessions;
DROP TABLE auth_users;
DROP TABLE auth_tokens;
