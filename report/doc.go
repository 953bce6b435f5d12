// Package report writes the two documents a sunset is judged by: the impact assessment before it
// is scheduled ("what will this shutdown hit?") and the evaluation after the shutdown (planned vs
// actual, migration, notices, feedback, pauses, runbook, stragglers, business impact, the audit
// chain and the lessons learned).
//
// The package is pure. Adapters gather an Input (the sunset's record, actions, events, usage
// counts, notice ledger, feedback summary, runbook run, contacts, accounts and lessons); Build
// turns it into a Report, a plain value with stable JSON field names (docs/report.md), which
// WriteMarkdown and WriteHTML render in English or Chinese. The HTML is one self-contained file:
// inline CSS and inline SVG charts, no script and no external URL.
package report
