// Package rehearse holds the stand-ins of a rehearsal (`sunset rehearse PLAN`): the plan
// rewritten so that nothing real is touched (Isolate), the built-in sample upstream the gateway
// fronts (Upstream), the synthetic consumers that call it, read their notices, migrate or lag
// and leave feedback (Fleet), and the local sinks the notices go to (Sinks).
//
// cmd/sunset wires these to the real engine, gateway, notify worker, runbook runner and web
// API on a scratch database, and drives the engine's clock through the plan at a chosen speed.
package rehearse
