// Package store is the SQL implementation of engine.Store and engine.Tx over database/sql, shared
// by the two databases Sunset runs on. store/sqlite opens the embedded default (one file, pure Go
// driver); store/postgres opens the scale-out backend. Both run the same queries through a DB
// that knows only what differs between them: parameter markers (? or $n), row locks (FOR UPDATE
// on PostgreSQL only), how an instant is stored, and how the driver reports a broken constraint.
//
// # What is kept
//
// Every instant is stored in UTC and truncated to microseconds (Precision), because PostgreSQL's
// timestamptz keeps no more; SQLite keeps the same truncated value as INTEGER nanoseconds since
// the Unix epoch. Writes normalise the caller's struct to what was stored, so a value read back
// equals the value written. Event instants are the exception: an event's hash covers its instant,
// so AppendEvent refuses an instant finer than Precision instead of silently changing it.
//
// Plans are stored as bytes (BLOB, bytea), signoffs as a JSON array, event data as the exact JSON
// text the caller hashed (TEXT on SQLite, json — not jsonb — on PostgreSQL).
//
// # Errors
//
// Driver errors are translated into the codes of package sunset: a missing sunset is ENOTFOUND
// with a sentence naming it, a duplicate sunset name or event sequence is ECONFLICT, a value the
// schema refuses is EINVALID. Anything else is returned wrapped and counts as EINTERNAL.
//
// # Migrations
//
// Our schema lives in numbered, per-dialect SQL files under migrations/, embedded in the binary
// and applied with goose (Migrate); a shipped file is never edited, a change is a new file. River's
// own tables are migrated by the dialect packages with rivermigrate. Both run on every Open;
// running them again is a no-op.
package store
