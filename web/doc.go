// Package web assembles Sunset's HTTP server: Server holds the wiring cmd/sunset sets, and
// Handler builds the servers of each audience from it — the REST API (web/api), the operator
// pages (web/ui), the public pages (web/public), authentication and the login pages (web/auth)
// and the public intake's screen (web/intake) — and mounts their routes, with its own health
// and readiness probes and Prometheus metrics, in one route table: every route is guarded by
// its least role (auth.Guard), instrumented, kept from panicking, and the public ones that name
// a sunset are dark until it is announced. Paths no route matches get a 404 problem, methods
// no route takes a 405.
//
// web is an adapter: it imports the domain and the web packages, never a storage driver. Every
// error leaves as an RFC 9457 problem (package client/problem) or, for a person's browser, a
// page in their language.
package web
