// Package client is the Go client of Sunset's REST API (the one the sunset CLI uses), and the
// wire types of that API: its requests and answers, and the RFC 9457 problem document every
// error leaves as, with the one table that maps error codes to HTTP statuses.
//
// The server (web/api) writes the same types, so the client and the server cannot drift apart.
// client imports the domain packages whose types the API carries (engine, plan, runbook/runs,
// backup/export/progress, notify, feedback, report, gateway) and no server package.
package client
