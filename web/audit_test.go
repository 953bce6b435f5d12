package web

import (
	"testing"

	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/web/auth"
)

// auditCase is a successful call of a mutating route and the event it must leave.
type auditCase struct {
	role        auth.Role
	path, body  string
	contentType string
	sunset      string
	// event is the type of the event the call appends; empty says why there is none in noEvent.
	event, noEvent string
}

// auditCases are, in order, successful calls of every mutating route that is not public.
var auditCases = map[string]auditCase{
	"POST /api/v1/plans":                                {role: auth.RoleOperator, path: "/api/v1/plans", body: testPlanNoSignoff, contentType: "application/yaml", sunset: "reports-v2", event: "sunset.created"},
	"POST /api/v1/sunsets/{name}/signoffs":              {role: auth.RoleApprover, body: `{"stakeholder":"legal"}`, event: "stakeholder.signed_off"},
	"POST /api/v1/sunsets/{name}/pause":                 {role: auth.RoleOperator, body: `{"reason":"freeze"}`, event: "sunset.paused"},
	"POST /api/v1/sunsets/{name}/resume":                {role: auth.RoleOperator, body: `{"reason":"thawed"}`, event: "sunset.resumed"},
	"POST /api/v1/sunsets/{name}/skip":                  {role: auth.RoleOperator, body: `{"action":"notice/1","reason":"told by phone"}`, event: "action.skipped"},
	"POST /api/v1/sunsets/{name}/replan":                {role: auth.RoleOperator, body: `{"shift":"7d","reason":"Acme needs time"}`, event: "sunset.shifted"},
	"POST /api/v1/sunsets/{name}/feedback/import":       {role: auth.RoleOperator, body: "received_at,text,rating\n2026-12-01T08:00:00Z,We still need the export,2\n", contentType: "text/csv", event: "feedback.imported"},
	"PUT /api/v1/sunsets/{name}/lessons":                {role: auth.RoleOperator, body: `{"text":"Call partners earlier."}`, event: "lessons.updated"},
	"POST /s/{name}/lessons":                            {role: auth.RoleOperator, body: "text=Call+partners+earlier.", contentType: "application/x-www-form-urlencoded", event: "lessons.updated"},
	"POST /s/{name}/pause":                              {role: auth.RoleOperator, body: "reason=Acme+needs+time", contentType: "application/x-www-form-urlencoded", event: "sunset.paused"},
	"POST /s/{name}/resume":                             {role: auth.RoleOperator, body: "reason=Acme+migrated", contentType: "application/x-www-form-urlencoded", event: "sunset.resumed"},
	"POST /s/{name}/signoffs":                           {role: auth.RoleApprover, body: "stakeholder=support", contentType: "application/x-www-form-urlencoded", event: "stakeholder.signed_off"},
	"POST /api/v1/sunsets/{name}/cancel":                {role: auth.RoleOperator, body: `{"reason":"kept after all"}`, event: "sunset.cancelled"},
	"POST /api/v1/sunsets/{name}/usage":                 {noEvent: "gateways' usage counters are data, not a change of the sunset"},
	"POST /api/v1/sunsets/{name}/runbook/approvals":     {noEvent: "the runbook records runbook.approved (runbook/runner.go); the suite's runbook is a stand-in"},
	"POST /s/{name}/approvals":                          {noEvent: "the runbook records runbook.approved; the suite's runbook is a stand-in"},
	"POST /api/v1/sunsets/{name}/report":                {noEvent: "a report changes nothing unless the sunset is shut down, then the engine records sunset.evaluated"},
	"POST /api/v1/sunsets/{name}/exports/run":           {role: auth.RoleOperator, body: `{"batch":10}`, event: "export.run_started"},
	"POST /api/v1/sunsets/{name}/exports/keep":          {role: auth.RoleOperator, body: `{}`, event: "export.kept"},
	"POST /api/v1/sunsets/{name}/data/delete-approvals": {noEvent: "the retention records data.delete_approved (runbook/deletion.go); the suite serves no data deletion"},
	"POST /api/v1/sunsets/{name}/data/delete":           {noEvent: "the retention records data.deleted (runbook/deletion.go); the suite serves no data deletion"},
	"POST /logout":                                      {noEvent: "ends a session; no sunset changes"},
	"POST /api/v1/sunsets/{name}/runbook/runs":          {noEvent: "the runbook records runbook.started (runbook/runner.go, cmd/sunset/runbook_client_test.go); the suite's runbook is a stand-in"},
	"POST /api/v1/sunsets/{name}/runbook/resume":        {noEvent: "the runbook records runbook.step_resolved and overrides (runbook/runner.go); the suite's runbook is a stand-in"},
	"POST /api/v1/sunsets/{name}/runbook/abort":         {noEvent: "the runbook records runbook.aborted (runbook/runner.go, cmd/sunset/runbook_client_test.go); the suite's runbook is a stand-in"},
	"POST /api/v1/sunsets/{name}/backups":               {noEvent: "the runbook's control records backup.created (runbook/backup_jobs.go, cmd/sunset/runbook_client_test.go); the suite's runbook is a stand-in"},
	"DELETE /api/v1/sunsets/{name}/contacts/{id}":       {role: auth.RoleOperator, event: "contacts.erased"},
}

func TestEveryMutatingCallIsAnEvent(t *testing.T) {
	b := setupSecure(t, storetest.OpenSQLite)
	var order []string
	for _, rt := range routeTable() {
		method, _ := splitPattern(rt.Pattern)
		if rt.Role == auth.RolePublic || safeMethod(method) {
			continue
		}
		c, ok := auditCases[rt.Pattern]
		if !ok {
			t.Errorf("mutating route %s has no case in auditCases: add the call and the event it records", rt.Pattern)
			continue
		}
		if c.noEvent == "" {
			order = append(order, rt.Pattern)
		}
	}
	// The cancel goes last: nothing changes a cancelled sunset.
	sortLast(order, "POST /api/v1/sunsets/{name}/cancel")
	for _, pattern := range order {
		c := auditCases[pattern]
		method, path := splitPattern(pattern)
		if c.path != "" {
			path = c.path
		}
		path = concretePath(path)
		name := cmpOr(c.sunset, secureName)
		before, err := b.eng.Events(t.Context(), name)
		if err != nil && c.sunset == "" {
			t.Fatal(err)
		}
		h := append(bearer(b.tokens[c.role]), client.ActorHeader, "someone-else")
		if c.contentType != "" {
			h = append(h, "Content-Type", c.contentType)
		}
		r := b.call(t, method, path, c.body, h...)
		if r.status >= 400 {
			t.Errorf("%s: %d %s", pattern, r.status, r.body)
			continue
		}
		after, err := b.eng.Events(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) <= len(before) {
			t.Errorf("%s appended no event", pattern)
			continue
		}
		found := false
		for _, e := range after[len(before):] {
			if e.Type == c.event {
				found = true
				if want := c.role.String() + "-tester"; e.Actor != want {
					t.Errorf("%s: event %s by %q, want the token's name %q", pattern, e.Type, e.Actor, want)
				}
				if e.At.IsZero() {
					t.Errorf("%s: event %s has no time", pattern, e.Type)
				}
			}
		}
		if !found {
			t.Errorf("%s appended no %s event", pattern, c.event)
		}
	}
	for _, name := range []string{secureName, "reports-v2"} {
		v, err := b.eng.VerifyEvents(t.Context(), name)
		if err != nil || !v.OK {
			t.Errorf("the hash chain of %s does not verify: %+v %v", name, v, err)
		}
	}
}

// sortLast moves last to the end of list, if it is there.
func sortLast(list []string, last string) {
	for i, v := range list {
		if v == last {
			copy(list[i:], list[i+1:])
			list[len(list)-1] = last
			return
		}
	}
}

// cmpOr returns a unless it is empty, else b.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
