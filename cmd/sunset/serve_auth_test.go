package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sunsetops/sunset/store/storetest"
)

// statusOf answers the HTTP status of method url, with token as a bearer token unless empty;
// 0 when the call fails.
func statusOf(t *testing.T, method, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(`{"reason":"freeze"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTokensTakeEffectOnARunningServer: a server started open on loopback demands credentials
// within seconds of the first `token create --db` on its database, without a restart; a revoked
// token is refused; revoking the last one opens the server again. On PostgreSQL, two replicas
// of one database both follow.
func TestTokensTakeEffectOnARunningServer(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		testTokensTakeEffect(t, "sqlite:"+filepath.Join(t.TempDir(), "sunset.db"), 1)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := storetest.PostgresDSN(t) // skips without SUNSET_TEST_POSTGRES_URL
		testTokensTakeEffect(t, dsn, 2)
	})
}

func testTokensTakeEffect(t *testing.T, db string, replicas int) {
	ctx := context.Background()
	var urls []string
	for i := 0; i < replicas; i++ {
		url, stop := server(t, db, "--replica-id", "cp-"+strconv.Itoa(i+1))
		defer stop()
		urls = append(urls, url)
	}
	// Routes that are not public, and one that is.
	guarded := func(base string) [][2]string {
		return [][2]string{
			{"GET", base + "/api/v1/sunsets"},
			{"GET", base + "/api/v1/sunsets/orders-api-v1/events"},
			{"GET", base + "/metrics"},
			{"GET", base + "/"},
			{"POST", base + "/api/v1/sunsets/orders-api-v1/pause"},
		}
	}
	for _, u := range urls {
		if got := statusOf(t, "GET", u+"/api/v1/sunsets", ""); got != http.StatusOK {
			t.Fatalf("%s: an open server answers %d without a token", u, got)
		}
	}

	code, out, errs := run(t, ctx, "token", "create", "--role", "admin", "--name", "li.wei", "--db", db)
	admin := regexp.MustCompile(`sst_[A-Za-z0-9_-]{43}`).FindString(out)
	if code != 0 || admin == "" {
		t.Fatalf("token create: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"Authentication is now on for every server using this database", "within 2 s", "认证现已开启"} {
		if !strings.Contains(out, want) {
			t.Errorf("the first token's output does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not an admin token") {
		t.Errorf("an admin token is called not an admin:\n%s", out)
	}

	for _, u := range urls {
		last := ""
		eventually(t, u+": refuses a call without a token", func() bool {
			got := statusOf(t, "GET", u+"/api/v1/sunsets", "")
			last = strconv.Itoa(got)
			return got == http.StatusUnauthorized
		}, &last)
		for _, r := range guarded(u) {
			if got := statusOf(t, r[0], r[1], ""); got != http.StatusUnauthorized {
				t.Errorf("%s %s without a token: %d, want 401", r[0], r[1], got)
			}
		}
		if got := statusOf(t, "GET", u+"/healthz", ""); got != http.StatusOK {
			t.Errorf("%s/healthz is public, answers %d", u, got)
		}
		if got := statusOf(t, "GET", u+"/api/v1/sunsets", admin); got != http.StatusOK {
			t.Errorf("%s: the new token gets %d", u, got)
		}
	}
	// The server stays where it was started.
	if !strings.HasPrefix(urls[0], "http://127.0.0.1:") {
		t.Errorf("server at %s", urls[0])
	}

	// A second token is no news: authentication was on already.
	code, out, errs = run(t, ctx, "token", "create", "--role", "viewer", "--name", "grafana", "--db", db)
	viewer := regexp.MustCompile(`sst_[A-Za-z0-9_-]{43}`).FindString(out)
	if code != 0 || viewer == "" || strings.Contains(out, "now on") {
		t.Fatalf("second token create: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, ctx, "token", "list", "--db", db)
	ids := regexp.MustCompile(`tok_[0-9a-f]+`).FindAllString(out, -1)
	if code != 0 || len(ids) != 2 {
		t.Fatalf("token list: exit %d\n%s", code, out)
	}
	for _, u := range urls {
		if got := statusOf(t, "GET", u+"/api/v1/sunsets", viewer); got != http.StatusOK {
			t.Errorf("%s: the viewer token gets %d", u, got)
		}
	}
	// Revoking the viewer's token: it is refused, the admin's still works, the server stays shut.
	code, out, errs = run(t, ctx, "token", "revoke", ids[1], "--db", db)
	if code != 0 || !strings.Contains(out, "revoked") || strings.Contains(out, "No live token") {
		t.Fatalf("revoke: exit %d\n%s%s", code, out, errs)
	}
	for _, u := range urls {
		last := ""
		eventually(t, u+": refuses the revoked token", func() bool {
			got := statusOf(t, "GET", u+"/api/v1/sunsets", viewer)
			last = strconv.Itoa(got)
			return got == http.StatusUnauthorized
		}, &last)
		if got := statusOf(t, "GET", u+"/api/v1/sunsets", admin); got != http.StatusOK {
			t.Errorf("%s: the admin token gets %d after another was revoked", u, got)
		}
		if got := statusOf(t, "GET", u+"/api/v1/sunsets", ""); got != http.StatusUnauthorized {
			t.Errorf("%s: %d without a token while a token is live", u, got)
		}
	}
	// Revoking the last one: the loopback server is open again, as a restart would leave it.
	code, out, errs = run(t, ctx, "token", "revoke", ids[0], "--db", db)
	if code != 0 || !strings.Contains(out, "No live token or user is left") {
		t.Fatalf("revoke the last: exit %d\n%s%s", code, out, errs)
	}
	for _, u := range urls {
		last := ""
		eventually(t, u+": open again once no token is live", func() bool {
			got := statusOf(t, "GET", u+"/api/v1/sunsets", "")
			last = strconv.Itoa(got)
			return got == http.StatusOK
		}, &last)
		if got := statusOf(t, "GET", u+"/api/v1/sunsets", admin); got != http.StatusOK {
			t.Errorf("%s: an open server answers %d to a call with a revoked token", u, got)
		}
	}
}

// TestQuietTokenCreateWarnsOnStderr: with --quiet, stdout is the secret alone (for $(...)); the
// news that authentication is now on goes to stderr, with the note that a first token that is
// not an admin's leaves admin routes closed.
func TestQuietTokenCreateWarnsOnStderr(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "sunset.db")
	code, out, errs := run(t, context.Background(), "token", "create", "--role", "operator", "--name", "deploy-bot", "--db", db, "--quiet")
	if code != 0 || !regexp.MustCompile(`^sst_[A-Za-z0-9_-]{43}\n$`).MatchString(out) {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errs, "Authentication is now on") || !strings.Contains(errs, "not an admin token") {
		t.Errorf("stderr:\n%s", errs)
	}
}

// TestFirstUserSaysAuthenticationIsOn: a user is a credential too; the first one says that
// running servers now demand credentials, the next does not.
func TestFirstUserSaysAuthenticationIsOn(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "sunset.db")
	set := func(name, role string) (int, string, string) {
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader("correct horse battery staple\n"), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		code := m.Run(context.Background(), []string{"user", "set", name, "--role", role, "--db", db})
		return code, out.String(), errb.String()
	}
	code, out, errs := set("zhang.min", "approver")
	if code != 0 || !strings.Contains(out, "Authentication is now on") || !strings.Contains(out, "first user is not an admin") {
		t.Fatalf("first user: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = set("li.wei", "admin")
	if code != 0 || strings.Contains(out, "now on") {
		t.Errorf("second user: exit %d\n%s%s", code, out, errs)
	}
}
