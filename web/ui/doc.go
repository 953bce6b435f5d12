// Package ui serves the operator pages: the overview of every sunset (and the history of past
// ones), one sunset's page with its panels — Gantt chart, actions, usage and consumers, notice
// ledger, feedback, guardrails, runbook, backups, exports, audit events — and its forms (pause,
// resume, sign-off, approvals, lessons), the static assets, and the page a browser gets when
// the database cannot be written.
//
// ui declares the interfaces it consumes (Engine, Runbooks, Exports, Notices, FeedbackStore,
// Reports) and is handed the report's input, the gateway's phase and the audit by the
// assembler as functions. It imports auth (routes, roles, the actor), httpx, intake (the
// suspect-pause mark) and client (the export status type), never web, web/public or a storage
// driver.
package ui
