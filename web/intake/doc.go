// Package intake screens the public intake — the feedback form, the survey and the feedback
// API — whose posts feed the guardrails that can pause a sunset: per-page tokens, cross-site
// refusals and the per-address and per-sunset limits (Intake). The public pages and the API
// share one Intake, so that one budget covers both.
//
// It imports httpx, client (the problem codes) and the root sunset package, no other web
// package.
package intake
