package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/web/auth"
)

func TestTheOperatorUIFormsCarryTheSessionsCSRFToken(t *testing.T) {
	b := setupSecure(t, storetest.OpenSQLite)
	session := b.login(t, b.tokens[auth.RoleOperator])
	cookie := auth.SessionCookie + "=" + session
	page := b.call(t, http.MethodGet, "/s/"+secureName, "", "Cookie", cookie, "Accept", "text/html")
	if page.status != http.StatusOK {
		t.Fatalf("GET /s/%s: %d %.300s", secureName, page.status, page.body)
	}
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page.body)
	if m == nil || string(m[1]) != auth.CSRFFor(session) {
		t.Fatalf("the page's forms carry no token of this session (found %q)", m)
	}
	form := url.Values{auth.CSRFField: {string(m[1])}, "text": {"Call partners earlier."}}.Encode()
	r := b.call(t, http.MethodPost, "/s/"+secureName+"/lessons", form, "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded")
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST the lessons form: %d %.300s", r.status, r.body)
	}
	events, err := b.eng.Events(t.Context(), secureName)
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; last.Type != "lessons.updated" || last.Actor != "operator-tester" {
		t.Errorf("last event %s by %s, want lessons.updated by operator-tester", last.Type, last.Actor)
	}
	// The same form from another site, without the token, changes nothing.
	before := b.state(t)
	form = url.Values{"text": {"Forged."}}.Encode()
	if r := b.call(t, http.MethodPost, "/s/"+secureName+"/lessons", form, "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded"); r.status != http.StatusForbidden {
		t.Errorf("a forged form: %d, want 403", r.status)
	}
	if b.state(t) != before {
		t.Error("a forged form changed the state")
	}
}

func TestUIApprovalsGoToTheAuthenticatedPerson(t *testing.T) {
	b := setupSecure(t, storetest.OpenSQLite)
	// Even a holder named like the default actor cannot type another name into the form.
	_, secret, err := b.st.CreateToken(t.Context(), auth.DefaultActor, "approver", time.Time{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{b.tokens[auth.RoleApprover], secret} {
		form := url.Values{"step": {"sign-off"}, "role": {"approver"}, "actor": {"zhang.min"}}.Encode()
		h := append(bearer(token), "Content-Type", "application/x-www-form-urlencoded")
		if r := b.call(t, http.MethodPost, "/s/"+secureName+"/approvals", form, h...); r.status >= 400 {
			t.Fatalf("approve through the UI: %d %.300s", r.status, r.body)
		}
	}
	if got := strings.Join(b.runbooks.approvals, ","); got != "approver-tester/approver,api/approver" {
		t.Errorf("approvals = %q, want them under the tokens' names", got)
	}
}
