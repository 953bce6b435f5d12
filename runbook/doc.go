// Package runbook carries out the final shutdown of a service as a checked, durable procedure:
// an ordered list of steps (gateway, drain, backup, exec, http, approval, wait, notify), each
// with preconditions, a timeout, retries, an on_failure rule and an optional rollback.
//
// The state of a run is saved in the Store before and after every step, so that a runner that
// dies at any point resumes where it stopped: a step that was in flight runs again if it is
// idempotent, and otherwise the run stops for an operator, who marks it done, retries it or
// aborts the run. No step at or after the point of no return runs before every backup the plan
// declares has been verified in the run, unless an operator overrides the check, which is
// recorded as an Event.
package runbook
