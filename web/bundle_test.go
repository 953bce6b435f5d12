package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
)

// bundlePlan references contacts.csv on line 6, column 13.
const bundlePlan = `service:
  name: crm-v1
  title: {en: CRM v1, zh: CRM v1}
  timezone: UTC
consumers:
  contacts: contacts.csv
milestones:
  announce: 2027-01-05T10:00
  deprecate: announce
  shutdown: 2027-03-15T02:00
notices:
  - {at: announce, to: all, channels: [email], template: announce}
channels:
  email: {smtp: "127.0.0.1:1", tls: none, from: "Sunset <noreply@example.com>"}
`

const bundleContacts = `id,email,name,locale,tier
acme,ops@acme.example.com,Acme Corp,en,critical
globex,dev@globex.example.com,Globex,en,standard
zs,it@zhongshan.example.cn,中山贸易,zh-CN,free
`

// bundlePart is one part of a multipart plan bundle.
type bundlePart struct{ name, filename, body string }

// postBundle posts a multipart bundle to url and returns the answer's status and body.
func postBundle(t *testing.T, url string, parts ...bundlePart) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		params := map[string]string{"name": p.name}
		if p.filename != "" {
			params["filename"] = p.filename
		}
		h.Set("Content-Disposition", mime.FormatMediaType("form-data", params))
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p.body)
	}
	mw.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/api/v1/plans", &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

type bundleBundle struct {
	db  *store.DB
	eng *engine.Engine
	ts  *httptest.Server
}

func setupBundle(t *testing.T, maxBundle int64) *bundleBundle {
	t.Helper()
	clock := sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	st := storetest.OpenSQLite(t)
	eng, err := engine.New(engine.Config{Store: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	db := st.(*store.DB)
	srv := &Server{Engine: eng, Logger: slog.New(slog.DiscardHandler), Now: clock.Now, Contacts: db, MaxBundle: maxBundle}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &bundleBundle{db: db, eng: eng, ts: ts}
}

// stored returns the contacts stored for crm-v1 and the number of contact sets kept.
func (b *bundleBundle) stored(t *testing.T) ([]contacts.Contact, int) {
	t.Helper()
	var list []contacts.Contact
	if err := b.db.EachContact(t.Context(), "crm-v1", func(c contacts.Contact) error { list = append(list, c); return nil }); err != nil {
		t.Fatal(err)
	}
	var sets int
	if err := b.db.DB().QueryRow(`SELECT COUNT(*) FROM contact_sets`).Scan(&sets); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := b.db.DB().QueryRow(`SELECT COUNT(*) FROM contacts`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if sets == 0 && rows != 0 {
		t.Errorf("%d contact rows without a set", rows)
	}
	return list, sets
}

func problemText(t *testing.T, body []byte) string {
	t.Helper()
	var p struct {
		Title, Detail string
		Errors        []string `json:"errors"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not a problem: %s", body)
	}
	return p.Title + "\n" + p.Detail + "\n" + strings.Join(p.Errors, "\n")
}

func TestPlanBundle(t *testing.T) {
	t.Run("stores the contacts with the revision", func(t *testing.T) {
		b := setupBundle(t, 0)
		status, body := postBundle(t, b.ts.URL, bundlePart{"plan", "ops/crm.yaml", bundlePlan}, bundlePart{"contacts.csv", "contacts.csv", bundleContacts})
		if status != http.StatusCreated {
			t.Fatalf("status %d: %s", status, body)
		}
		var res engine.ApplyResult
		json.Unmarshal(body, &res)
		if len(res.Files) != 1 || res.Files[0].Ref != "contacts.csv" || res.Files[0].Count != 3 || len(res.Files[0].Hash) != 64 {
			t.Errorf("files = %+v", res.Files)
		}
		list, _ := b.stored(t)
		if len(list) != 3 || list[2].ID != "zs" || list[2].Locale != "zh-CN" || list[0].Tier != "critical" {
			t.Errorf("stored %+v", list)
		}
		revs, err := b.eng.Revisions(t.Context(), "crm-v1")
		if err != nil || len(revs) != 1 || revs[0].Files[0].Hash != res.Files[0].Hash {
			t.Errorf("revisions %+v %v", revs, err)
		}
	})
	t.Run("a referenced file not sent is refused at its line and nothing is stored", func(t *testing.T) {
		b := setupBundle(t, 0)
		status, body := postBundle(t, b.ts.URL, bundlePart{"plan", "crm.yaml", bundlePlan})
		if status != http.StatusBadRequest || !strings.Contains(problemText(t, body), `crm.yaml:6:13: consumers.contacts: the bundle does not carry "contacts.csv"`) {
			t.Fatalf("status %d: %s", status, body)
		}
		// A plain YAML body is a bundle without files.
		req, _ := http.NewRequest(http.MethodPost, b.ts.URL+"/api/v1/plans?file=crm.yaml", strings.NewReader(bundlePlan))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(problemText(t, plain), "crm.yaml:6:13: consumers.contacts:") {
			t.Fatalf("plain body: %d %s", resp.StatusCode, plain)
		}
		if _, err := b.eng.Status(t.Context(), "crm-v1"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
			t.Errorf("sunset stored after a refusal: %v", err)
		}
	})
	t.Run("bad contacts are refused with the file's line and nothing is stored", func(t *testing.T) {
		b := setupBundle(t, 0)
		bad := bundleContacts + "acme,again@acme.example.com,=cmd|' /C calc'!A0,fr,critical\n"
		status, body := postBundle(t, b.ts.URL, bundlePart{"plan", "crm.yaml", bundlePlan}, bundlePart{"contacts.csv", "contacts.csv", bad})
		text := problemText(t, body)
		for _, want := range []string{
			`crm.yaml:6:13: consumers.contacts: contacts.csv:5:1: duplicate id "acme": line 2 has it too`,
			`contacts.csv:5:29: the cell starts with "="`,
			`contacts.csv:5:48: unknown locale "fr"`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("problem lacks %q:\n%s", want, text)
			}
		}
		if status != http.StatusBadRequest {
			t.Errorf("status %d", status)
		}
		if list, sets := b.stored(t); len(list) != 0 || sets != 0 {
			t.Errorf("stored %d contacts in %d sets after a refusal", len(list), sets)
		}
		if _, err := b.eng.Status(t.Context(), "crm-v1"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
			t.Errorf("sunset stored after a refusal: %v", err)
		}
	})
	t.Run("a bundle over the limit is 413 and nothing is stored", func(t *testing.T) {
		b := setupBundle(t, 4096)
		var big strings.Builder
		big.WriteString("id,email\n")
		for i := 0; big.Len() < 20000; i++ {
			big.WriteString("user-" + strings.Repeat("x", 10) + string(rune('a'+i%26)) + strconv.Itoa(i) + ",u@example.com\n")
		}
		status, body := postBundle(t, b.ts.URL, bundlePart{"plan", "crm.yaml", bundlePlan}, bundlePart{"contacts.csv", "contacts.csv", big.String()})
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d: %s", status, body)
		}
		if list, sets := b.stored(t); len(list) != 0 || sets != 0 {
			t.Errorf("stored %d contacts in %d sets after a 413", len(list), sets)
		}
	})
	t.Run("changing only the contacts is a new revision and an event with counts only", func(t *testing.T) {
		b := setupBundle(t, 0)
		if status, body := postBundle(t, b.ts.URL, bundlePart{"plan", "crm.yaml", bundlePlan}, bundlePart{"contacts.csv", "", bundleContacts}); status != http.StatusCreated {
			t.Fatalf("status %d: %s", status, body)
		}
		changed := strings.Replace(bundleContacts, "dev@globex.example.com", "ops@globex.example.com", 1)
		changed = strings.Replace(changed, "zs,it@zhongshan.example.cn,中山贸易,zh-CN,free\n", "initech,it@initech.example.com,Initech,en,free\n", 1)
		status, body := postBundle(t, b.ts.URL, bundlePart{"plan", "crm.yaml", bundlePlan}, bundlePart{"contacts.csv", "", changed})
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		var res engine.ApplyResult
		json.Unmarshal(body, &res)
		if !res.Changed || res.Sunset.Revision != 2 {
			t.Errorf("changed %v revision %d", res.Changed, res.Sunset.Revision)
		}
		evs, err := b.eng.Events(t.Context(), "crm-v1")
		if err != nil {
			t.Fatal(err)
		}
		var last engine.Event
		for _, e := range evs {
			if e.Type == "contacts.changed" {
				last = e
			}
			for _, secret := range []string{"@", "Globex", "initech", "中山"} {
				if strings.Contains(string(e.Data), secret) {
					t.Errorf("event %s carries personal data %q: %s", e.Type, secret, e.Data)
				}
			}
		}
		var counts engine.ContactsChange
		json.Unmarshal(last.Data, &counts)
		if counts != (engine.ContactsChange{Total: 3, Added: 1, Removed: 1, Changed: 1}) {
			t.Errorf("contacts.changed = %s", last.Data)
		}
		list, _ := b.stored(t)
		if len(list) != 3 || list[1].Email != "ops@globex.example.com" || list[2].ID != "initech" {
			t.Errorf("current contacts %+v", list)
		}
		// The same bundle again changes nothing.
		status, body = postBundle(t, b.ts.URL, bundlePart{"plan", "crm.yaml", bundlePlan}, bundlePart{"contacts.csv", "", changed})
		json.Unmarshal(body, &res)
		if status != http.StatusOK || res.Changed {
			t.Errorf("same bundle: %d changed=%v", status, res.Changed)
		}
		if _, sets := b.stored(t); sets != 2 {
			t.Errorf("%d contact sets, want 2 (one per distinct file)", sets)
		}
	})
	t.Run("a revision stored without its contacts is named, not silently empty", func(t *testing.T) {
		b := setupBundle(t, 0)
		postBundle(t, b.ts.URL, bundlePart{"plan", "crm.yaml", bundlePlan}, bundlePart{"contacts.csv", "", bundleContacts})
		if names, err := b.db.SunsetsMissingContacts(t.Context()); err != nil || len(names) != 0 {
			t.Fatalf("missing = %v %v", names, err)
		}
		// A database from before plan bundles has no revision rows.
		if _, err := b.db.DB().Exec(`DELETE FROM plan_revisions`); err != nil {
			t.Fatal(err)
		}
		names, err := b.db.SunsetsMissingContacts(t.Context())
		if err != nil || len(names) != 1 || names[0] != "crm-v1" {
			t.Errorf("missing = %v %v, want crm-v1", names, err)
		}
		err = b.db.InTx(t.Context(), func(tx engine.Tx) error {
			_, _, err := b.db.Outbox().ContactsPage(t.Context(), tx.SQL(), "crm-v1", 0, 10)
			return err
		})
		if sunset.ErrorCode(err) != sunset.ENOTFOUND || !strings.Contains(err.Error(), "apply the plan again") {
			t.Errorf("the fan-out's read = %v, want a visible failure", err)
		}
	})
	t.Run("erasing a contact removes it from every revision and records a count", func(t *testing.T) {
		b := setupBundle(t, 0)
		postBundle(t, b.ts.URL, bundlePart{"plan", "crm.yaml", bundlePlan}, bundlePart{"contacts.csv", "", bundleContacts})
		postBundle(t, b.ts.URL, bundlePart{"plan", "crm.yaml", bundlePlan}, bundlePart{"contacts.csv", "", bundleContacts + "initech,it@initech.example.com,Initech,en,free\n"})
		req, _ := http.NewRequest(http.MethodDelete, b.ts.URL+"/api/v1/sunsets/crm-v1/contacts/globex", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"removed":2`) {
			t.Fatalf("erase: %d %s", resp.StatusCode, body)
		}
		var n int
		b.db.DB().QueryRow(`SELECT COUNT(*) FROM contacts WHERE id = 'globex'`).Scan(&n)
		if n != 0 {
			t.Errorf("%d rows of the erased contact remain", n)
		}
		evs, _ := b.eng.Events(t.Context(), "crm-v1")
		last := evs[len(evs)-1]
		if last.Type != "contacts.erased" || strings.Contains(string(last.Data), "globex") {
			t.Errorf("last event %s %s", last.Type, last.Data)
		}
	})
}
