package ui

import (
	"fmt"
	"testing"
	"time"

	"github.com/sunsetops/sunset/internal/testplan"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/report"
)

func TestConsumersAreActiveMigratedOrSilent(t *testing.T) {
	p := testPlan(t) // announce 2027-01-04 10:00 Berlin
	now := time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)
	hour := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 8, 0, 0, 0, time.UTC) }
	in := &report.Input{Name: "billing-v1", Plan: p, Now: now,
		Contacts: []report.Contact{{ID: "acme", Name: "Acme", Tier: "critical"}, {ID: "quiet", Name: "Quiet Ltd"}},
		Usage: []report.Count{
			{Consumer: "acme", Hour: hour(2027, 1, 2), Count: 10},     // before the announcement…
			{Consumer: "acme", Hour: hour(2027, 1, 30), Count: 5},     // …and still calling
			{Consumer: "globex", Hour: hour(2027, 1, 1), Count: 7},    // before the announcement only
			{Consumer: "late", Hour: hour(2027, 1, 20), Count: 3},     // after it only, not lately
			{Consumer: "(other)", Hour: hour(2027, 1, 30), Count: 99}, // unidentified callers
			{Consumer: "old", Hour: hour(2026, 11, 1), Count: 1},      // long before the week before
		}}
	rows, counts := consumerRows(in, report.Build(*in), now, "en")
	got := map[string]string{}
	for _, r := range rows {
		got[r.ID] = r.Status
	}
	want := map[string]string{"acme": "active", "globex": "migrated", "late": "silent", "quiet": "silent", "old": "silent"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if counts["announced"] != 2 || counts["active"] != 1 || counts["migrated"] != 1 || counts["silent"] != 3 {
		t.Errorf("counts = %v", counts)
	}
	if rows[0].ID != "acme" || rows[0].Requests != 15 || rows[0].Tier != "critical" || rows[0].StatusText != "still calling" {
		t.Errorf("the consumers still calling come first, with their requests and tier: %+v", rows[0])
	}
}

// After the shutdown, a consumer that called until the service shut down was cut off, not
// migrated: the page counts migration as the report does, at the shutdown.
func TestConsumersCalledUntilTheShutdownWereCutOffNotMigrated(t *testing.T) {
	p := testPlan(t)                                    // announce 2027-01-04 10:00, shutdown 2027-03-01 10:00 Berlin
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC) // months after the shutdown
	hour := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 8, 0, 0, 0, time.UTC) }
	in := &report.Input{Name: "billing-v1", Plan: p, Now: now,
		Usage: []report.Count{
			{Consumer: "mover", Hour: hour(2027, 1, 2), Count: 10},  // before the announcement…
			{Consumer: "mover", Hour: hour(2027, 1, 20), Count: 2},  // …gone long before the shutdown
			{Consumer: "lagger", Hour: hour(2027, 1, 2), Count: 10}, // before the announcement…
			{Consumer: "lagger", Hour: hour(2027, 2, 28), Count: 9}, // …still calling the day before
			{Consumer: "lagger", Hour: hour(2027, 3, 10), Count: 4}, // knocking on the tombstone
		}}
	rep := report.Build(*in)
	rows, counts := consumerRows(in, rep, now, "zh-Hans")
	got := map[string]string{}
	for _, r := range rows {
		got[r.ID] = r.Status + "/" + r.StatusText
	}
	if got["mover"] != "migrated/已迁移" || got["lagger"] != "cut_off/下线时仍在调用" {
		t.Errorf("statuses = %v", got)
	}
	if counts["migrated"] != rep.Consumers.Migrated {
		t.Errorf("the page counts %d migrated, the report %d", counts["migrated"], rep.Consumers.Migrated)
	}
}

// testPlan is a small valid plan: announce 2027-01-04 10:00 Berlin, shut down 2027-03-01.
func testPlan(t *testing.T) *plan.Plan {
	t.Helper()
	p, probs := plan.Parse("billing.yaml", []byte(testplan.Billing))
	if errs := probs.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	return p
}
