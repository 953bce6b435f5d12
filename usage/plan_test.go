package usage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sunsetops/sunset/plan"
)

// TestApplyPlanMapsFeaturesContactsZoneAndIdentity: the plan's features, its time zone and its
// contacts (relative to the plan's folder) reach the analysis, and its consumers.identify names
// consumers unless --identify did.
func TestApplyPlanMapsFeaturesContactsZoneAndIdentity(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte("id,email,tier\nacme,ops@acme.example,critical\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const doc = `service: {name: orders-api-v1, timezone: Asia/Shanghai}
consumers: {identify: {header: X-API-Key}, contacts: contacts.csv}
milestones: {announce: 2027-01-05T10:00, shutdown: 2027-03-15T02:00}
features:
  - {name: reports, core: false, routes: ["GET /v1/reports/{id}"]}
`
	p, problems := plan.Parse(filepath.Join(dir, "sunset.yaml"), []byte(doc))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	var o Options
	id, err := o.ApplyPlan(p, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if id != "header:X-API-Key" || o.Location.String() != "Asia/Shanghai" || len(o.Features) != 1 || o.Features[0].Name != "reports" || o.Features[0].Core {
		t.Errorf("identity %q, zone %v, features %+v", id, o.Location, o.Features)
	}
	if c := o.Contacts["acme"]; c.Tier != "critical" {
		t.Errorf("contacts %+v", o.Contacts)
	}
	var given Options
	if id, _ := given.ApplyPlan(p, dir, "ip"); id != "ip" {
		t.Errorf("--identify ip became %q", id)
	}
	var missing Options
	if _, err := missing.ApplyPlan(p, t.TempDir(), ""); err == nil || !strings.Contains(err.Error(), "contacts") {
		t.Errorf("a missing contacts file: %v", err)
	}
}
