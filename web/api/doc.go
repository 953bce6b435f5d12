// Package api serves Sunset's REST API under /api/v1, described by the OpenAPI 3.1 document
// served at /api/v1/openapi.json (openapi.json, embedded here): plans and their bundles, the
// sunsets and their timelines, events, steering (pause, resume, skip, cancel, sign-offs,
// re-plans), the gateways' policy and usage, guardrails, feedback, runbooks and backups,
// exports and the deletion of data, reports and lessons, contacts and the notice ledger.
//
// api declares the interfaces it consumes (Engine, Runbooks, Exports, Retention, Reports,
// Notices, FeedbackStore, UsageRecorder, PhaseOverrides, ContactStore); *engine.Engine and the
// store implement them, wired in cmd/sunset. Its answers and requests are the wire types of
// package client. It imports auth (routes, roles, the actor), intake, httpx and the domain,
// never web, web/ui, web/public or a storage driver.
package api
