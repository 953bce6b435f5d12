package web

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/httpx"
)

// testProvider is a small OpenID Connect provider on 127.0.0.1: discovery, JWKS, an authorize
// endpoint that approves at once (remembering the nonce and PKCE challenge), and a token endpoint
// answering with an RS256-signed ID token.
type testProvider struct {
	ts *httptest.Server
	// key signs the ID tokens; signWith, when set, signs instead (a key the JWKS does not list).
	key, signWith *rsa.PrivateKey
	// claims are the user's claims put in the next ID token; nonce overrides the real nonce.
	claims map[string]any
	nonce  string
	now    func() time.Time

	mu    sync.Mutex
	codes map[string]string // code → nonce
}

func newTestProvider(t *testing.T, now func() time.Time) *testProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &testProvider{key: key, now: now, codes: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]any{
			"issuer": p.ts.URL, "authorization_endpoint": p.ts.URL + "/authorize", "token_endpoint": p.ts.URL + "/token",
			"jwks_uri": p.ts.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "sunset" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		code := rand.Text()
		p.mu.Lock()
		p.codes[code] = q.Get("nonce")
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		p.mu.Lock()
		nonce, known := p.codes[r.PostFormValue("code")]
		delete(p.codes, r.PostFormValue("code"))
		p.mu.Unlock()
		if id != "sunset" || secret != "client-secret" || !known || r.PostFormValue("code_verifier") == "" {
			httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		if p.nonce != "" {
			nonce = p.nonce
		}
		claims := map[string]any{"iss": p.ts.URL, "aud": "sunset", "sub": "u-42", "nonce": nonce,
			"iat": p.now().Unix(), "exp": p.now().Add(time.Hour).Unix()}
		for k, v := range p.claims {
			claims[k] = v
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": p.sign(t, claims)})
	})
	p.ts = httptest.NewServer(mux)
	t.Cleanup(p.ts.Close)
	return p
}

// sign returns claims as a compact JWS signed with the provider's key (or signWith).
func (p *testProvider) sign(t *testing.T, claims map[string]any) string {
	key := p.key
	if p.signWith != nil {
		key = p.signWith
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOIDCLoginMapsGroupsToRoles(t *testing.T) {
	b := setupSecure(t, storetest.OpenSQLite)
	idp := newTestProvider(t, b.clock.Now)
	b.srv.Auth.OIDC = &auth.OIDC{
		Issuer: idp.ts.URL, ClientID: "sunset", ClientSecret: "client-secret",
		RedirectURL: b.ts.URL + "/login/oidc/callback",
		Roles:       map[string]auth.Role{"sunset-viewers": auth.RoleViewer, "sunset-approvers": auth.RoleApprover},
	}
	// login runs the whole flow in a browser-like client and returns the last answer.
	login := func(t *testing.T) (*http.Response, *cookiejar.Jar) {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), b.ts.URL) && req.URL.Path != "/login/oidc/callback" {
				return http.ErrUseLastResponse // stop at Sunset's own page after the login
			}
			return nil
		}}
		resp, err := client.Get(b.ts.URL + "/login/oidc?next=/api/v1/sunsets")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp, jar
	}

	t.Run("a member of a mapped group gets its role", func(t *testing.T) {
		idp.claims = map[string]any{"email": "zhang.min@example.com", "groups": []string{"staff", "sunset-viewers", "sunset-approvers"}}
		resp, jar := login(t)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/api/v1/sunsets" {
			t.Fatalf("after the provider: %d %v", resp.StatusCode, resp.Header)
		}
		var session string
		for _, c := range jar.Cookies(mustURL(t, b.ts.URL)) {
			if c.Name == auth.SessionCookie {
				session = c.Value
			}
		}
		h := []string{"Cookie", auth.SessionCookie + "=" + session, auth.CSRFHeader, auth.CSRFFor(session)}
		if r := b.call(t, http.MethodPost, "/api/v1/sunsets/"+secureName+"/runbook/approvals", `{"step":"sign-off"}`, h...); r.status != http.StatusCreated {
			t.Fatalf("approve from the OIDC session: %d %s", r.status, r.body)
		}
		if got := b.runbooks.approvals[len(b.runbooks.approvals)-1]; got != "zhang.min@example.com/approver" {
			t.Errorf("approval by %q", got)
		}
	})
	t.Run("an account without a mapped group is refused", func(t *testing.T) {
		idp.claims = map[string]any{"email": "guest@example.com", "groups": []string{"staff"}}
		if resp, _ := login(t); resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("an ID token signed with another key is refused", func(t *testing.T) {
		idp.claims = map[string]any{"email": "mallory@example.com", "groups": "sunset-approvers"}
		idp.signWith, _ = rsa.GenerateKey(rand.Reader, 2048)
		defer func() { idp.signWith = nil }()
		if resp, _ := login(t); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("an ID token with another nonce is refused", func(t *testing.T) {
		idp.claims = map[string]any{"email": "mallory@example.com", "groups": "sunset-approvers"}
		idp.nonce = "replayed"
		defer func() { idp.nonce = "" }()
		if resp, _ := login(t); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("an answer for a login not started here is refused", func(t *testing.T) {
		r := b.call(t, http.MethodGet, "/login/oidc/callback?code=x&state=forged", "")
		if r.status != http.StatusForbidden {
			t.Errorf("status %d, want 403", r.status)
		}
	})
	t.Run("the login form offers single sign-on", func(t *testing.T) {
		r := b.call(t, http.MethodGet, "/login", "")
		if !strings.Contains(string(r.body), `href="/login/oidc`) {
			t.Error("no single sign-on link on the login form")
		}
	})
}

// mustURL parses s.
func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
