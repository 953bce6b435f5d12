package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestTokensLetTheCLIThroughAndNameTheActor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "sunset.db")
	code, out, errs := run(t, ctx, "token", "create", "--role", "admin", "--name", "li.wei", "--db", db)
	secret := regexp.MustCompile(`sst_[A-Za-z0-9_-]{43}`).FindString(out)
	if code != 0 || secret == "" || !strings.Contains(out, "shown only now") || !strings.Contains(out, "只显示这一次") {
		t.Fatalf("token create: exit %d\n%s%s", code, out, errs)
	}
	code, viewer, _ := run(t, ctx, "token", "create", "--role", "viewer", "--name", "grafana", "--db", db, "--quiet")
	viewer = strings.TrimSpace(viewer)
	if code != 0 || !strings.HasPrefix(viewer, "sst_") {
		t.Fatalf("token create --quiet: exit %d %q", code, viewer)
	}
	if code, _, errs := run(t, ctx, "token", "create", "--role", "root", "--name", "x", "--db", db); code != 2 || !strings.Contains(errs, "viewer, operator, approver or admin") {
		t.Errorf("unknown role: exit %d %s", code, errs)
	}
	code, out, _ = run(t, ctx, "token", "list", "--db", db)
	if code != 0 || !strings.Contains(out, "li.wei") || !strings.Contains(out, "admin") || strings.Contains(out, secret) {
		t.Fatalf("token list: exit %d\n%s", code, out)
	}
	id := regexp.MustCompile(`tok_[0-9a-f]+`).FindString(out)

	// Tokens exist, so the server demands one.
	url, stop := server(t, db)
	defer stop()
	cli := func(args ...string) (int, string, string) { return run(t, ctx, append(args, "--server", url)...) }
	if code, _, errs := cli("status"); code != 1 || !strings.Contains(errs, "credentials") {
		t.Errorf("status without a token: exit %d %s", code, errs)
	}
	if code, out, errs := cli("status", "--token", viewer); code != 0 || !strings.Contains(out, "orders-api-v1") {
		t.Errorf("status with a viewer token: exit %d %s%s", code, out, errs)
	}
	if code, _, errs := cli("pause", "orders-api-v1", "--reason", "freeze", "--token", viewer); code != 1 || !strings.Contains(errs, "operator") {
		t.Errorf("pause with a viewer token: exit %d %s", code, errs)
	}
	if code, out, errs := cli("pause", "orders-api-v1", "--reason", "freeze", "--token", secret); code != 0 || !strings.Contains(out, "paused") {
		t.Errorf("pause with the admin token: exit %d %s%s", code, out, errs)
	}
	// The event names the token's holder, not $SUNSET_ACTOR ("tester").
	if code, out, _ := cli("events", "list", "orders-api-v1", "--token", viewer); code != 0 || !strings.Contains(out, "li.wei") {
		t.Errorf("events list: exit %d %s", code, out)
	}
	if code, out, errs := run(t, ctx, "token", "revoke", id, "--db", db); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: exit %d %s%s", code, out, errs)
	}
	if code, _, errs := cli("status", "--token", secret); code != 1 || !strings.Contains(errs, "not valid") {
		t.Errorf("status with a revoked token: exit %d %s", code, errs)
	}
}

func TestNonLoopbackNeedsAuthentication(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		addr          string
		auth, allow   bool
		refused       bool
		wantInMessage string
	}{
		{"127.0.0.1:8080", false, false, false, ""},
		{"[::1]:8080", false, false, false, ""},
		{"localhost:8080", false, false, false, ""},
		{"0.0.0.0:8080", false, false, true, "no authentication configured"},
		{"192.0.2.10:8080", false, false, true, "sunset token create"},
		{"0.0.0.0:8080", true, false, false, ""},
		{"0.0.0.0:8080", false, true, false, ""},
		{"no-port", true, false, true, "HOST:PORT"},
	} {
		err := checkListenAddr(c.addr, c.auth, c.allow)
		if (err != nil) != c.refused || (err != nil && !strings.Contains(err.Error(), c.wantInMessage)) {
			t.Errorf("checkListenAddr(%s, auth %v, allow %v) = %v", c.addr, c.auth, c.allow, err)
		}
	}
}

func TestOIDCFlags(t *testing.T) {
	t.Parallel()
	env := func(k string) string {
		if k == "OIDC_SECRET" {
			return "s3cret"
		}
		return ""
	}
	for _, c := range []struct {
		name    string
		o       oidcOptions
		wantErr string
	}{
		{"off", oidcOptions{}, ""},
		{"complete", oidcOptions{issuer: "https://id.example.com", clientID: "sunset", clientSecret: "env:OIDC_SECRET", roles: "sre=operator, release=approver"}, ""},
		{"no client id", oidcOptions{issuer: "https://id.example.com", clientSecret: "env:OIDC_SECRET", roles: "sre=operator"}, "--oidc-client-id"},
		{"no roles", oidcOptions{issuer: "https://id.example.com", clientID: "sunset", clientSecret: "env:OIDC_SECRET"}, "--oidc-roles"},
		{"a secret in clear", oidcOptions{issuer: "https://id.example.com", clientID: "sunset", clientSecret: "s3cret", roles: "sre=operator"}, "env:NAME or file:PATH"},
		{"an unset variable", oidcOptions{issuer: "https://id.example.com", clientID: "sunset", clientSecret: "env:NOPE", roles: "sre=operator"}, "env:NOPE"},
		{"an unknown role", oidcOptions{issuer: "https://id.example.com", clientID: "sunset", clientSecret: "env:OIDC_SECRET", roles: "sre=root"}, "VALUE=ROLE"},
		{"a pair without =", oidcOptions{issuer: "https://id.example.com", clientID: "sunset", clientSecret: "env:OIDC_SECRET", roles: "sre"}, "VALUE=ROLE"},
	} {
		cfg, err := c.o.config("https://sunset.example.com/", env)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.wantErr)
		case c.wantErr != "" && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("%s: the error repeats the secret: %v", c.name, err)
		case c.name == "complete" && (cfg.ClientSecret != "s3cret" || cfg.Roles["release"].String() != "approver" || cfg.RedirectURL != "https://sunset.example.com/login/oidc/callback"):
			t.Errorf("complete: %+v", cfg)
		}
	}
}

func TestGatewayPresentsItsTokenToTheControlPlane(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "sunset.db")
	mint := func(role, name string) string {
		code, out, errs := run(t, ctx, "token", "create", "--role", role, "--name", name, "--db", db, "--quiet")
		if code != 0 {
			t.Fatalf("token create: exit %d %s", code, errs)
		}
		return strings.TrimSpace(out)
	}
	approver, gwToken := mint("approver", "li.wei"), mint("operator", "gateway-eu")
	up := startUpstream(t)
	api, stopAPI := server(t, db, "--now", afterAnnounce)
	defer stopAPI()
	for _, who := range []string{"support", "legal"} {
		if code, out, errs := run(t, ctx, "signoff", "orders-api-v1", "--as", who, "--server", api, "--token", approver); code != 0 {
			t.Fatalf("signoff --as %s: exit %d %s%s", who, code, out, errs)
		}
	}
	// Without a token the gateway gets no policy from a control plane that demands one.
	code, _, errs := run(t, ctx, "gateway", "--listen", "127.0.0.1:0", "--admin", "", "--server", api, "--service", "orders-api-v1", "--upstream", up.URL)
	if code != 1 || !strings.Contains(errs, "401") {
		t.Errorf("gateway without a token: exit %d %s", code, errs)
	}
	gw, admin, stopGW := runGateway(t, "--now", "2027-01-20T12:00:00+08:00", "--server", api, "--service", "orders-api-v1",
		"--upstream", up.URL, "--usage-file", "", "--poll-interval", "100ms", "--flush-interval", "100ms", "--token", gwToken)
	defer stopGW()
	resp, body := get(t, gw, "/v1/orders/7")
	if resp.StatusCode != 200 || body != "upstream /v1/orders/7" || resp.Header.Get("Sunset") != exampleSunset {
		t.Fatalf("through the gateway: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	eventually(t, "the usage flushed with the gateway's token", func() bool {
		v, _ := metric(t, admin, `sunset_gateway_usage_flushes_total{result="ok"}`)
		return v >= 1
	})
}
