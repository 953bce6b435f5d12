// Package gateway enforces a sunset plan on live HTTP traffic. It wraps package policy in
// net/http: a middleware that Go services import (New(...).Wrap, or Middleware from a plan) and a
// reverse proxy (NewProxy) that `sunset gateway` puts in front of any service.
//
// For each request the gateway refuses a method the service does not serve (405), names the
// consumer (Identify), asks policy.Decide what to do at the clock's instant, adds the
// Deprecation, Sunset and Link headers before the service is called (so they are on every
// answer, errors included), and either passes the request on, with the canonical path the
// policy decided on rather than the spelling the client sent, or answers it itself:
// application/problem+json for programs, an HTML page in English or Chinese for browsers. It
// counts usage per feature, consumer and hour (Usage) and remembers when each consumer was first
// told (awareness), for the control plane or a local file (Flusher).
//
// A client may rehearse a phase with the Sunset-Simulate request header; see docs/gateway.md.
package gateway
