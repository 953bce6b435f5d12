// Package policy decides, for one request at one instant, what the gateway does under a sunset
// plan: pass it on (with Deprecation, Sunset and Link headers once the feature is deprecated) or
// answer it (a brownout, a refused write, 410 Gone, a 308 redirect, or 400 for a path whose
// meaning depends on who decodes it). It decides on one canonical spelling of the path
// (canonical.go), which is what the gateway forwards (Decision.Path).
//
// A Policy is compiled once from a validated plan (Compile) or from the Snapshot the control
// plane serves (FromSnapshot) and is then read-only: Decide may be called from any number of
// goroutines. Decide is pure (no I/O, no clock: the instant is an argument) and allocates
// nothing on the pass path; BenchmarkDecide shows it.
package policy
