// Package export gives every user of a retiring service their data: a per-user takeout.
//
// A Job streams the users of a sunset (the plan's consumers.contacts file, or the recipients
// the notify outbox knows), fetches each user's data (an HTTP endpoint template with {id}, or
// an SQL query run against a database the plan backs up), packages it as a zip (data.json,
// data.csv and a README in the user's language) and stores it at the blob destination of the
// backups. Its progress is saved after every batch, so a job that stops — a crash, a deploy —
// picks up where it stopped, without reading the users it already handled.
//
// Users download their zip through an HMAC-signed, expiring link that names exactly one user
// (Links); the public download page records every download. Check tells whether every export
// was downloaded or is kept in a backup archive: the condition for deleting the service's data.
// Migrate sends each user's zip to the alternative, retried with backoff, and keeps a report of
// what failed and why.
package export
