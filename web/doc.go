// Package web serves Sunset over HTTP: the REST API under /api/v1 (described by the OpenAPI 3.1
// document served at /api/v1/openapi.json), health and readiness probes, Prometheus metrics, a
// small status page, and the Go Client the CLI uses to talk to it.
//
// web is an adapter: it imports the domain (engine, plan, sunset) and never a storage driver.
// It consumes the engine through the Engine interface declared here. Every error leaves as an RFC
// 9457 problem (application/problem+json) whose status comes from one table keyed by the
// sunset error codes (problem.go).
package web
