package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sunsetops/sunset/notify/notifytest"
)

// bundlePlan sends its announcement by email to every contact of contacts.csv, named relative
// to the plan; %s is the SMTP address.
const bundlePlan = `service:
  name: crm-v1
  title: {en: CRM API v1, zh: CRM API v1}
  timezone: Asia/Shanghai
consumers:
  contacts: contacts.csv
milestones:
  announce: 2027-01-05T10:00
  deprecate: announce
  shutdown: 2027-03-15T02:00
notices:
  - {at: announce, to: all, channels: [email], template: announce}
channels:
  email: {smtp: "%s", tls: none, from: "Sunset <noreply@example.com>"}
`

const bundleCSV = `id,email,name,locale,tier
acme,ops@acme.example.com,Acme Corp,en,critical
globex,dev@globex.example.com,Globex,en,standard
initech,it@initech.example.com,Initech,en,standard
hooli,api@hooli.example.com,Hooli,en,free
zhongshan,it@zhongshan.example.cn,中山贸易,zh-CN,critical
huaxia,ops@huaxia.example.cn,华夏物流,zh,free
`

// The server runs in folder A, the operator applies from folder B with a relative contacts.csv:
// the file travels with the plan, and the announcement reaches every contact although the
// server could never open B/contacts.csv by that name. Changing only the file is a new
// revision; erasing a contact removes it from the stored revisions.
func TestApplyFromAnotherFolderReachesEveryContact(t *testing.T) {
	ctx := context.Background()
	a, b := t.TempDir(), t.TempDir()
	sink, err := notifytest.NewSMTPSink(true)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if err := os.WriteFile(filepath.Join(b, "contacts.csv"), []byte(bundleCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "plan.yaml"), fmt.Appendf(nil, bundlePlan, sink.Addr), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Chdir(a)
	api, stop := serveCapture(t, "--db", "sqlite:sunset.db", "--now", afterAnnounce, "--public-url", "https://sunset.example.com")
	defer stop()
	t.Chdir(b)
	code, out, errs := run(t, ctx, "apply", "plan.yaml", "--server", api)
	if code != 0 || !regexp.MustCompile(`contacts: contacts\.csv \(6 contacts, \d+ bytes, sha256 [0-9a-f]{12}…\)`).MatchString(out) {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	// The server's folder is A again, and B's file is gone: nothing the server does may need it.
	t.Chdir(a)
	if err := os.Rename(filepath.Join(b, "contacts.csv"), filepath.Join(b, "contacts.old")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every contact gets the announcement", func() bool { return len(sink.Mails()) >= 6 })
	var got []string
	for _, m := range sink.Mails() {
		got = append(got, m.To...)
	}
	slices.Sort(got)
	want := []string{"api@hooli.example.com", "dev@globex.example.com", "it@initech.example.com", "it@zhongshan.example.cn", "ops@acme.example.com", "ops@huaxia.example.cn"}
	if !slices.Equal(got, want) {
		t.Errorf("mail went to %v, want each of %v once", got, want)
	}

	// Only the contacts change: a new revision, and an event with counts and no personal data.
	changed := strings.Replace(bundleCSV, "hooli,api@hooli.example.com,Hooli,en,free\n", "", 1) + "umbrella,it@umbrella.example.com,Umbrella,en,standard\n"
	if err := os.WriteFile(filepath.Join(b, "contacts.csv"), []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = run(t, ctx, "apply", filepath.Join(b, "plan.yaml"), "--server", api)
	if code != 0 || !strings.Contains(out, "re-planned sunset crm-v1 (revision 2") {
		t.Fatalf("apply of the changed contacts: exit %d\n%s%s", code, out, errs)
	}
	_, evs, _ := run(t, ctx, "events", "list", "crm-v1", "--server", api, "--format", "json")
	var events []struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(evs), &events); err != nil {
		t.Fatalf("events: %v\n%s", err, evs)
	}
	type change struct{ Contacts, Added, Removed, Changed, Revision int }
	var counts []change
	for _, e := range events {
		if e.Type == "contacts.changed" {
			var c change
			json.Unmarshal(e.Data, &c)
			counts = append(counts, c)
		}
		if strings.Contains(string(e.Data), "@") || strings.Contains(string(e.Data), "umbrella") {
			t.Errorf("event %s carries personal data: %s", e.Type, e.Data)
		}
	}
	if len(counts) != 2 || counts[0] != (change{6, 6, 0, 0, 1}) || counts[1] != (change{6, 1, 1, 0, 2}) {
		t.Errorf("contacts.changed events = %v", counts)
	}

	// A bad file is refused at the file's line, and nothing changes.
	if err := os.WriteFile(filepath.Join(b, "contacts.csv"), []byte(changed+"acme,=HYPERLINK(1),x,en,free\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = run(t, ctx, "apply", filepath.Join(b, "plan.yaml"), "--server", api)
	if code == 0 || !strings.Contains(out+errs, "plan.yaml:6:13: consumers.contacts: contacts.csv:8:1: duplicate id \"acme\": line 2 has it too") ||
		!strings.Contains(out+errs, "contacts.csv:8:6: the cell starts with \"=\"") {
		t.Errorf("bad contacts: exit %d\n%s%s", code, out, errs)
	}

	// Erasure: gone from both revisions; list counts what is left.
	code, out, errs = run(t, ctx, "contacts", "erase", "crm-v1", "acme", "--server", api)
	if code != 0 || !strings.Contains(out, "2 stored rows removed") {
		t.Errorf("erase: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = run(t, ctx, "contacts", "list", "crm-v1", "--server", api)
	if code != 0 || !strings.Contains(out, "5 contacts (5 with an email)") || !strings.Contains(out, "standard 3") || !strings.Contains(out, "contacts.csv (6 contacts") {
		t.Errorf("contacts list: exit %d\n%s%s", code, out, errs)
	}
}
