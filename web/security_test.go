package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/public"
)

// The security suite: a real server with authentication on, on a real store (SQLite always,
// PostgreSQL when SUNSET_TEST_POSTGRES_URL is set). It walks the route table, so a route added
// later is covered without anyone remembering to.

// The store's credentials are what the server asks.
var _ auth.AuthStore = store.Credentials{}

// secureBundle is a server with authentication on and a token for every role.
type secureBundle struct {
	clock  *sunset.FixedClock
	st     *store.DB
	eng    *engine.Engine
	srv    *Server
	ts     *httptest.Server
	logs   *syncBuffer
	tokens map[auth.Role]string
	// expired and revoked are tokens of the admin role that no longer work.
	expired, revoked string
	runbooks         *fakeRunbooks
	links            *export.Links
}

// secureName is the sunset every secure test works on.
const secureName = "billing-v1"

// securePlan is testPlan with a second stakeholder, so that the API and the UI can each record
// a sign-off in the audit walk.
var securePlan = strings.Replace(testPlan, "  - {name: legal, role: legal}\n", "  - {name: legal, role: legal}\n  - {name: support, role: support}\n", 1)

// stores are the databases the suite runs on.
var stores = map[string]func(testing.TB) engine.Store{"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres}

// setupSecure starts a server with authentication on st, with testPlan applied.
func setupSecure(t *testing.T, open func(testing.TB) engine.Store) *secureBundle {
	t.Helper()
	ctx := t.Context()
	clock := sunset.NewFixedClock(t0)
	st := open(t).(*store.DB)
	eng, err := engine.New(engine.Config{Store: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	if _, err := eng.Apply(ctx, "billing.yaml", []byte(securePlan), "setup"); err != nil {
		t.Fatal(err)
	}
	b := &secureBundle{clock: clock, st: st, eng: eng, logs: &syncBuffer{}, tokens: map[auth.Role]string{}, runbooks: &fakeRunbooks{}}
	for r := auth.RoleViewer; r <= auth.RoleAdmin; r++ {
		_, secret, err := st.CreateToken(ctx, r.String()+"-tester", r.String(), time.Time{}, t0)
		if err != nil {
			t.Fatal(err)
		}
		b.tokens[r] = secret
	}
	if _, b.expired, err = st.CreateToken(ctx, "expired-admin", "admin", t0.Add(-time.Hour), t0.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	tok, revoked, err := st.CreateToken(ctx, "revoked-admin", "admin", time.Time{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeToken(ctx, tok.ID, t0); err != nil {
		t.Fatal(err)
	}
	b.revoked = revoked
	b.links = &export.Links{Key: []byte("0123456789abcdef0123456789abcdef"), Base: "http://sunset.test", Expires: t0.Add(30 * 24 * time.Hour)}
	b.srv = &Server{
		Engine: eng, Logger: slog.New(slog.NewTextHandler(b.logs, nil)), Version: "test", Now: clock.Now,
		Feedback: st.Feedback(), Reports: st, Runbooks: b.runbooks, Usage: st.Usage(),
		Exports:        &linkExports{links: b.links},
		UnsubscribeKey: []byte("unsubscribe-key-0123456789abcdef"),
		Auth:           &auth.Auth{Store: st.Credentials()},
	}
	b.ts = httptest.NewServer(b.srv.Handler())
	t.Cleanup(b.ts.Close)
	return b
}

// linkExports serves one export per user behind links signed by the real export.Links.
type linkExports struct {
	links     *export.Links
	downloads int
}

func (e *linkExports) ExportStatus(_ context.Context, name string) (*client.ExportStatus, error) {
	return &client.ExportStatus{Status: export.Status{Counts: export.Counts{Downloaded: int64(e.downloads)}}}, nil
}

// RunExport pretends to start the export job.
func (e *linkExports) RunExport(_ context.Context, name string, req client.ExportRunRequest) (*client.ExportStatus, error) {
	return &client.ExportStatus{Running: true}, nil
}

// ExportCheck passes.
func (e *linkExports) ExportCheck(context.Context, string) (*export.CheckReport, error) {
	return &export.CheckReport{OK: true}, nil
}

// KeepExports has nothing to keep.
func (e *linkExports) KeepExports(context.Context, string) (*client.ExportKept, error) {
	return &client.ExportKept{}, nil
}

// ExportLink signs a real link.
func (e *linkExports) ExportLink(_ context.Context, name, user string) (*client.ExportLink, error) {
	return &client.ExportLink{User: user, URL: e.links.URL(name, user)}, nil
}

func (e *linkExports) OpenExport(_ context.Context, name, token string) (*public.ExportDownload, error) {
	user, err := e.links.Open(name, token, t0)
	switch {
	case errors.Is(err, export.ErrExpired):
		return nil, public.ErrLinkExpired
	case err != nil:
		return nil, public.ErrLinkInvalid
	}
	return &public.ExportDownload{Service: plan.Text{EN: "Billing"}, UserID: user, Ready: true, Bytes: 2,
		Open:   func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("PK")), nil },
		Record: func(context.Context) error { e.downloads++; return nil }}, nil
}

// call sends a request; pairs of header name and value follow the body.
func (b *secureBundle) call(t *testing.T, method, path, body string, header ...string) *response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := *b.ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

// bearer is the header pair that presents token.
func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// state is what must not change when a request is refused: the sunset, its events, its feedback.
func (b *secureBundle) state(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	st, err := b.eng.Status(ctx, secureName)
	if err != nil {
		t.Fatal(err)
	}
	events, err := b.eng.Events(ctx, secureName)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := b.st.Feedback().List(ctx, secureName, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"status": st, "events": len(events), "feedback": len(fb)})
	return string(out)
}

// concretePath fills a route pattern's path with values: the test sunset and a token.
func concretePath(path string) string {
	path = strings.TrimSuffix(path, "{$}")
	path = strings.ReplaceAll(path, "{name}", secureName)
	path = strings.ReplaceAll(path, "{user}", "u1")
	return strings.ReplaceAll(path, "{token}", "not-a-token")
}

// routeTable is the server's route table.
func routeTable() []route {
	s := &Server{}
	return s.routes(newMetrics(s))
}

func TestEveryProtectedRouteRefusesWhoMayNotCallIt(t *testing.T) {
	for dbName, open := range stores {
		t.Run(dbName, func(t *testing.T) {
			b := setupSecure(t, open)
			session := b.login(t, b.tokens[auth.RoleAdmin])
			expiredSession := b.login(t, b.tokens[auth.RoleAdmin])
			before := b.state(t)
			protected := 0
			for _, rt := range routeTable() {
				if rt.Role == auth.RolePublic {
					continue
				}
				protected++
				method, path := splitPattern(rt.Pattern)
				path = concretePath(path)
				type attempt struct {
					name   string
					header []string
					want   int
				}
				attempts := []attempt{
					{"without credentials", nil, http.StatusUnauthorized},
					{"with a forged token", bearer("sst_" + strings.Repeat("A", 43)), http.StatusUnauthorized},
					{"with a token of no known shape", bearer("hunter2"), http.StatusUnauthorized},
					{"with another scheme", []string{"Authorization", "Basic YWRtaW46YWRtaW4="}, http.StatusUnauthorized},
					{"with an expired token", bearer(b.expired), http.StatusUnauthorized},
					{"with a revoked token", bearer(b.revoked), http.StatusUnauthorized},
					{"with a forged session", []string{"Cookie", auth.SessionCookie + "=sss_forged"}, http.StatusUnauthorized},
				}
				if rt.Role > auth.RoleViewer {
					attempts = append(attempts, attempt{"with the role below " + rt.Role.String(), bearer(b.tokens[rt.Role-1]), http.StatusForbidden})
				}
				if !safeMethod(method) {
					cookie := auth.SessionCookie + "=" + session
					attempts = append(attempts,
						attempt{"from a session without the CSRF token", []string{"Cookie", cookie}, http.StatusForbidden},
						attempt{"from a session with a wrong CSRF token", []string{"Cookie", cookie, auth.CSRFHeader, auth.CSRFFor("sss_other")}, http.StatusForbidden},
						attempt{"from a session with another session's CSRF token", []string{"Cookie", cookie, auth.CSRFHeader, auth.CSRFFor(expiredSession)}, http.StatusForbidden},
					)
				}
				for _, a := range attempts {
					r := b.call(t, method, path, `{"reason":"test"}`, a.header...)
					if r.status != a.want {
						t.Errorf("%s %s: status %d, want %d: %.300s", rt.Pattern, a.name, r.status, a.want, r.body)
						continue
					}
					p := r.problem(t)
					if a.want == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" {
						t.Errorf("%s %s: 401 without a WWW-Authenticate challenge", rt.Pattern, a.name)
					}
					if strings.Contains(string(r.body), "sst_") || strings.Contains(p.Detail, "hunter2") {
						t.Errorf("%s %s: the answer repeats the credentials: %s", rt.Pattern, a.name, r.body)
					}
				}
			}
			// A session past its life is refused like no session at all.
			b.clock.Advance(auth.DefaultSessionTTL + time.Minute)
			r := b.call(t, http.MethodGet, "/api/v1/sunsets", "", "Cookie", auth.SessionCookie+"="+expiredSession)
			if r.status != http.StatusUnauthorized {
				t.Errorf("expired session: status %d, want 401", r.status)
			}
			if after := b.state(t); after != before {
				t.Errorf("refused requests changed the state:\nbefore %s\nafter  %s", before, after)
			}
			if protected < 20 {
				t.Errorf("only %d protected routes walked; the route table lost its roles?", protected)
			}
			// No credential reaches the log, whatever was refused.
			for _, secret := range []string{b.tokens[auth.RoleAdmin], b.tokens[auth.RoleViewer], b.expired, b.revoked, session, expiredSession} {
				if strings.Contains(b.logs.String(), secret) {
					t.Errorf("the log holds a credential: %.20s…", secret)
				}
			}
		})
	}
}

// login logs in with token through the login form and returns the session's secret.
func (b *secureBundle) login(t *testing.T, token string) string {
	t.Helper()
	form := b.call(t, http.MethodGet, "/login", "")
	if form.status != http.StatusOK {
		t.Fatalf("GET /login: %d %s", form.status, form.body)
	}
	csrf := cookieValue(form.header, auth.LoginCookie)
	if csrf == "" || !strings.Contains(string(form.body), `value="`+csrf+`"`) {
		t.Fatalf("the login form carries no anti-forgery value matching its cookie")
	}
	v := url.Values{auth.CSRFField: {csrf}, "token": {token}, "next": {"/api/v1/sunsets"}}
	r := b.call(t, http.MethodPost, "/login", v.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Cookie", auth.LoginCookie+"="+csrf)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/api/v1/sunsets" {
		t.Fatalf("POST /login: %d %v %s", r.status, r.header, r.body)
	}
	c := findCookie(r.header, auth.SessionCookie)
	if c == nil || c.Value == "" {
		t.Fatal("no session cookie after logging in")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/", c)
	}
	return c.Value
}

// findCookie returns the cookie called name that header sets, or nil.
func findCookie(header http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// cookieValue returns the value of the cookie called name that header sets.
func cookieValue(header http.Header, name string) string {
	if c := findCookie(header, name); c != nil {
		return c.Value
	}
	return ""
}

func TestTokensGrantTheirRoleAndNameTheActor(t *testing.T) {
	b := setupSecure(t, storetest.OpenSQLite)
	// A viewer reads; an operator pauses, recorded under the token's name whatever the header says.
	if r := b.call(t, http.MethodGet, "/api/v1/sunsets/"+secureName, "", bearer(b.tokens[auth.RoleViewer])...); r.status != http.StatusOK {
		t.Fatalf("viewer GET: %d %s", r.status, r.body)
	}
	h := append(bearer(b.tokens[auth.RoleOperator]), client.ActorHeader, "mallory")
	if r := b.call(t, http.MethodPost, "/api/v1/sunsets/"+secureName+"/pause", `{"reason":"freeze"}`, h...); r.status != http.StatusOK {
		t.Fatalf("operator pause: %d %s", r.status, r.body)
	}
	events, err := b.eng.Events(t.Context(), secureName)
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; last.Actor != "operator-tester" {
		t.Errorf("pause recorded by %q, want the token's name operator-tester", last.Actor)
	}
	// Approvals go to the authenticated person, not to a header: one token cannot approve as two.
	h = append(bearer(b.tokens[auth.RoleApprover]), client.ActorHeader, "somebody-else")
	if r := b.call(t, http.MethodPost, "/api/v1/sunsets/"+secureName+"/runbook/approvals", `{"step":"sign-off"}`, h...); r.status != http.StatusCreated {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	if got := strings.Join(b.runbooks.approvals, ","); got != "approver-tester/approver" {
		t.Errorf("approvals = %q, want approver-tester/approver", got)
	}
	// Metrics are not public any more.
	if r := b.call(t, http.MethodGet, "/metrics", ""); r.status != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a token: %d, want 401", r.status)
	}
	// The probes stay open for load balancers.
	for _, p := range []string{"/healthz", "/readyz", "/api/v1/openapi.json"} {
		if r := b.call(t, http.MethodGet, p, ""); r.status != http.StatusOK {
			t.Errorf("GET %s without a token: %d, want 200", p, r.status)
		}
	}
	// A browser asking for a page without a session gets the login form, with 401.
	r := b.call(t, http.MethodGet, "/", "", "Accept", "text/html")
	if r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), `action="/login"`) {
		t.Errorf("GET / from a browser without a session: %d %.200s", r.status, r.body)
	}
}

func TestSessionsLoginCSRFAndLogout(t *testing.T) {
	b := setupSecure(t, storetest.OpenSQLite)
	session := b.login(t, b.tokens[auth.RoleOperator])
	cookie := auth.SessionCookie + "=" + session
	if r := b.call(t, http.MethodGet, "/api/v1/sunsets", "", "Cookie", cookie); r.status != http.StatusOK {
		t.Fatalf("GET with the session: %d %s", r.status, r.body)
	}
	// The UI's forms embed the session's token.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: session})
	token := b.srv.guard().CSRFToken(req)
	if token == "" || token == auth.CSRFFor("sss_other") {
		t.Fatalf("csrfToken = %q", token)
	}
	before := b.state(t)
	if r := b.call(t, http.MethodPost, "/api/v1/sunsets/"+secureName+"/pause", `{"reason":"x"}`, "Cookie", cookie); r.status != http.StatusForbidden {
		t.Fatalf("POST without the CSRF token: %d, want 403", r.status)
	}
	if b.state(t) != before {
		t.Fatal("a refused POST changed the state")
	}
	// As a form field, the way the operator UI's forms send it.
	form := url.Values{auth.CSRFField: {token}, "reason": {"x"}}.Encode()
	r := b.call(t, http.MethodPost, "/logout", form, "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if c := findCookie(r.header, auth.SessionCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout does not clear the cookie: %+v", c)
	}
	if r := b.call(t, http.MethodGet, "/api/v1/sunsets", "", "Cookie", cookie); r.status != http.StatusUnauthorized {
		t.Errorf("the session works after logout: %d", r.status)
	}

	t.Run("the login form needs its anti-forgery value", func(t *testing.T) {
		v := url.Values{auth.CSRFField: {"guess"}, "token": {b.tokens[auth.RoleAdmin]}}
		r := b.call(t, http.MethodPost, "/login", v.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Cookie", auth.LoginCookie+"=other")
		if r.status != http.StatusForbidden || findCookie(r.header, auth.SessionCookie) != nil {
			t.Errorf("login with a wrong anti-forgery value: %d", r.status)
		}
	})
	t.Run("wrong credentials show the form again", func(t *testing.T) {
		v := url.Values{auth.CSRFField: {"same"}, "username": {"li.wei"}, "password": {"wrong password!"}, "lang": {"zh-Hans"}}
		r := b.call(t, http.MethodPost, "/login", v.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Cookie", auth.LoginCookie+"=same")
		if r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), "凭据无效") || findCookie(r.header, auth.SessionCookie) != nil {
			t.Errorf("wrong password: %d %.300s", r.status, r.body)
		}
	})
	t.Run("a user logs in with a password", func(t *testing.T) {
		if err := b.st.PutUser(t.Context(), "li.wei", "approver", "correct horse battery staple", t0); err != nil {
			t.Fatal(err)
		}
		v := url.Values{auth.CSRFField: {"same"}, "username": {"li.wei"}, "password": {"correct horse battery staple"}, "next": {"//evil.example/"}}
		r := b.call(t, http.MethodPost, "/login", v.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Cookie", auth.LoginCookie+"=same")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
			t.Fatalf("password login: %d %v (an off-site next must become /)", r.status, r.header.Get("Location"))
		}
		c := findCookie(r.header, auth.SessionCookie)
		h := []string{"Cookie", auth.SessionCookie + "=" + c.Value, auth.CSRFHeader, auth.CSRFFor(c.Value)}
		if r := b.call(t, http.MethodPost, "/api/v1/sunsets/"+secureName+"/runbook/approvals", `{"step":"sign-off"}`, h...); r.status != http.StatusCreated {
			t.Fatalf("approve from the session: %d %s", r.status, r.body)
		}
		if got := b.runbooks.approvals[len(b.runbooks.approvals)-1]; got != "li.wei/approver" {
			t.Errorf("approval by %q, want li.wei/approver", got)
		}
	})
	t.Run("cookies are Secure when the public URL is https", func(t *testing.T) {
		s := &Server{Engine: b.eng, Now: b.clock.Now, PublicURL: "https://sunset.example.com", Auth: &auth.Auth{Store: b.st.Credentials()}}
		ts := httptest.NewServer(s.Handler())
		defer ts.Close()
		resp, err := ts.Client().Get(ts.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if c := findCookie(resp.Header, auth.LoginCookie); c == nil || !c.Secure {
			t.Errorf("login cookie %+v is not Secure", c)
		}
	})
}

func TestExportAndUnsubscribeLinksCannotBeForged(t *testing.T) {
	b := setupSecure(t, storetest.OpenSQLite)
	announceSunset(t, b.eng, b.clock, secureName)
	good := b.links.Token(secureName, "u1")
	expired := (&export.Links{Key: b.links.Key, Expires: t0.Add(-time.Hour)}).Token(secureName, "u1")
	otherKey := (&export.Links{Key: []byte("another-key-0123456789abcdef"), Expires: b.links.Expires}).Token(secureName, "u1")
	payload, sig, _ := strings.Cut(good, ".")
	otherUser := strings.Split(b.links.Token(secureName, "u2"), ".")[0] + "." + sig
	cases := []struct {
		name, path string
		want       int
	}{
		{"a genuine link", "/exports/" + secureName + "/" + good + "/download", http.StatusOK},
		{"an expired link", "/exports/" + secureName + "/" + expired + "/download", http.StatusGone},
		{"a link signed with another key", "/exports/" + secureName + "/" + otherKey + "/download", http.StatusForbidden},
		{"another user's payload under this signature", "/exports/" + secureName + "/" + otherUser + "/download", http.StatusForbidden},
		{"a truncated signature", "/exports/" + secureName + "/" + payload + "." + sig[:10] + "/download", http.StatusForbidden},
		{"another sunset's link", "/exports/orders-api-v1/" + good + "/download", http.StatusNotFound},
		{"a token that climbs directories", "/exports/" + secureName + "/..%2F..%2F..%2Fetc%2Fpasswd/download", http.StatusForbidden},
		{"a doubly encoded climb", "/exports/" + secureName + "/%252e%252e%252fsunset.db/download", http.StatusForbidden},
	}
	for _, c := range cases {
		r := b.call(t, http.MethodGet, c.path, "")
		if r.status != c.want {
			t.Errorf("%s: %d, want %d: %.200s", c.name, r.status, c.want, r.body)
		}
		if c.want != http.StatusOK && strings.HasPrefix(string(r.body), "PK") {
			t.Errorf("%s: served the zip", c.name)
		}
	}
	// A path that climbs out of /exports/ is cleaned by the router, never served from a file.
	for _, p := range []string{"/exports/../../etc/passwd", "/exports/%2e%2e/%2e%2e/etc/passwd"} {
		r := b.call(t, http.MethodGet, p, "")
		if r.status == http.StatusOK && strings.Contains(string(r.body), "root:") {
			t.Errorf("GET %s served a file from outside", p)
		}
	}

	key := b.srv.UnsubscribeKey
	token := notify.UnsubscribeToken(key, "wang.fang@example.com")
	tampered := token[:len(token)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(token, "AA")]
	forged := notify.UnsubscribeToken([]byte("not-the-server-key-0123456789"), "wang.fang@example.com")
	for name, tok := range map[string]string{"tampered": tampered, "signed with another key": forged, "garbage": "..%2F..%2Fetc"} {
		r := b.call(t, http.MethodPost, "/unsubscribe/"+tok, "", "Content-Type", "application/x-www-form-urlencoded")
		if r.status != http.StatusForbidden && r.status != http.StatusNotFound {
			t.Errorf("unsubscribe with a %s token: %d, want 403", name, r.status)
		}
	}
}

func TestSecretsNeverAppearInAnswersEventsOrLogs(t *testing.T) {
	const value = "s3cr3t-SMTP-password-4711"
	t.Setenv("SUNSET_TEST_SMTP_PASSWORD", value)
	b := setupSecure(t, storetest.OpenSQLite)
	withSecret := strings.Replace(testPlanNoSignoff, "milestones:", `channels:
  email: {smtp: "127.0.0.1:2525", from: "sunset@example.com", username: sunset, password: env:SUNSET_TEST_SMTP_PASSWORD}
milestones:`, 1)
	admin := bearer(b.tokens[auth.RoleAdmin])
	if r := b.call(t, http.MethodPost, "/api/v1/plans", withSecret, admin...); r.status >= 300 {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	// A plan that writes the secret in clear is refused without repeating it.
	clear := strings.Replace(withSecret, "env:SUNSET_TEST_SMTP_PASSWORD", value, 1)
	r := b.call(t, http.MethodPost, "/api/v1/plans", clear, admin...)
	if r.status != http.StatusBadRequest {
		t.Errorf("a plan with a secret in clear: %d, want 400", r.status)
	}
	var bodies []string
	bodies = append(bodies, string(r.body))
	for _, rt := range routeTable() {
		method, path := splitPattern(rt.Pattern)
		if method != http.MethodGet {
			continue
		}
		path = strings.ReplaceAll(concretePath(path), secureName, "reports-v2")
		r := b.call(t, method, path, "", admin...)
		bodies = append(bodies, fmt.Sprintf("%s: %s %v", rt.Pattern, r.body, r.header))
	}
	events, err := b.eng.Events(t.Context(), "reports-v2")
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(events)
	bodies = append(bodies, string(ev), b.logs.String())
	for _, s := range bodies {
		if strings.Contains(s, value) {
			t.Errorf("the secret appears in %.200s", regexp.MustCompile(`\s+`).ReplaceAllString(s, " "))
		}
	}
}

// checkAuthRoutes calls the login routes, which answer only with authentication on, on a secure
// server and checks the answers against the OpenAPI document; TestOpenAPIAnswersMatchTheDocument
// counts them as covered.
func checkAuthRoutes(t *testing.T, o *openAPI, covered map[string]bool) {
	t.Helper()
	b := setupSecure(t, storetest.OpenSQLite)
	r := b.call(t, http.MethodGet, "/login?lang=zh", "")
	o.check(t, "GET", "/login", r)
	covered["GET /login"] = r.status == http.StatusOK
	session := b.login(t, b.tokens[auth.RoleViewer])
	declared := func(method, path string, status int) bool {
		return obj(obj(o.operation(method, path), "responses"), strconv.Itoa(status)) != nil
	}
	covered["POST /login"] = declared("POST", "/login", http.StatusSeeOther)
	r = b.call(t, http.MethodPost, "/logout", "", "Cookie", auth.SessionCookie+"="+session, auth.CSRFHeader, auth.CSRFFor(session))
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /logout: %d %s", r.status, r.body)
	}
	covered["POST /logout"] = declared("POST", "/logout", r.status)
	// Single sign-on, not configured here: 404 as declared; the flow is tested in auth_oidc_test.go.
	for _, p := range []string{"/login/oidc", "/login/oidc/callback"} {
		r := b.call(t, http.MethodGet, p+"?state=x", "")
		o.check(t, "GET", p, r)
	}
	covered["GET /login/oidc"] = declared("GET", "/login/oidc", http.StatusFound)
	covered["GET /login/oidc/callback"] = declared("GET", "/login/oidc/callback", http.StatusSeeOther)
}

// routeTableMarkdown renders the route table with the role each route needs, as docs/security.md
// shows it.
func routeTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| Method 方法 | Path 路径 | Least role 最低角色 |\n| --- | --- | --- |\n")
	for _, rt := range routeTable() {
		method, path := splitPattern(rt.Pattern)
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", method, strings.TrimSuffix(path, "{$}"), rt.Role)
	}
	return b.String()
}

// TestSecurityDocListsEveryRouteWithItsRole keeps the table of docs/security.md true to the
// route table. SUNSET_UPDATE_DOCS=1 rewrites it.
func TestSecurityDocListsEveryRouteWithItsRole(t *testing.T) {
	const path = "../docs/security.md"
	const begin, end = "<!-- routes:begin (generated by web/security_test.go) -->\n", "<!-- routes:end -->"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated route table between %q and %q", path, begin, end)
	}
	want := doc[:i+len(begin)] + routeTableMarkdown() + doc[j:]
	if want == doc {
		return
	}
	if os.Getenv("SUNSET_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the route table in %s is out of date; run SUNSET_UPDATE_DOCS=1 go test ./web -run TestSecurityDoc", path)
}

// safeMethod reports whether method only reads (RFC 9110 section 9.2.1).
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}
