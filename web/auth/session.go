package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/web/httpx"
)

// The operator UI's login: GET /login shows a form (English and Simplified Chinese) taking an API
// token or a username and password, POST /login starts a session in a cookie, POST /logout ends
// it. The login form is protected against forgery by a double-submit cookie, since there is no
// session yet to bind a token to.

// LoginCookie carries the login form's anti-forgery value until the session starts.
const LoginCookie = "sunset_login"

// loginPerMinute bounds the login attempts of one client address, on top of the public limit:
// passwords can be guessed, tokens cannot.
const loginPerMinute = 10

// loginText holds the login page's words in one language.
type loginText struct {
	Lang, Title, Intro, Token, TokenHint, Or, Username, Password, Submit, OIDC, Language string
	Other, OtherLabel                                                                    string
}

var loginTexts = map[string]loginText{
	"en": {
		Lang: "en", Title: "Log in to Sunset", Intro: "Sign in with an API token, or with your username and password.",
		Token: "API token", TokenHint: "made with: sunset token create --role viewer --name YOU", Or: "or",
		Username: "Username", Password: "Password", Submit: "Log in", OIDC: "Log in with single sign-on",
		Language: "Language", Other: "zh", OtherLabel: "中文",
	},
	"zh-Hans": {
		Lang: "zh-Hans", Title: "登录 Sunset", Intro: "使用 API 令牌，或用户名和密码登录。",
		Token: "API 令牌", TokenHint: "生成方式：sunset token create --role viewer --name 你的名字", Or: "或",
		Username: "用户名", Password: "密码", Submit: "登录", OIDC: "使用单点登录",
		Language: "语言", Other: "en", OtherLabel: "English",
	},
}

// loginTemplate is the login page.
var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="{{.T.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T.Title}}</title>
<style nonce="{{.Nonce}}">body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#222}
label{display:block;margin-top:.8rem}input{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}
.error{color:#a40000;border:1px solid #a40000;padding:.5rem}.hint{color:#666;font-size:.85rem}.or{margin:1rem 0;color:#666}</style></head>
<body><p><a href="?lang={{.T.Other}}{{if .Next}}&amp;next={{.Next}}{{end}}" hreflang="{{.T.Other}}">{{.T.OtherLabel}}</a></p>
<h1>{{.T.Title}}</h1><p>{{.T.Intro}}</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{.CSRF}}"><input type="hidden" name="next" value="{{.Next}}"><input type="hidden" name="lang" value="{{.T.Lang}}">
<label>{{.T.Token}}<input type="password" name="token" autocomplete="off"></label><p class="hint">{{.T.TokenHint}}</p>
<p class="or">— {{.T.Or}} —</p>
<label>{{.T.Username}}<input name="username" autocomplete="username"></label>
<label>{{.T.Password}}<input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">{{.T.Submit}}</button></form>
{{if .OIDC}}<p class="or">— {{.T.Or}} —</p><p><a href="/login/oidc?next={{.Next}}">{{.T.OIDC}}</a></p>{{end}}
</body></html>`))

// loginData fills loginTemplate.
type loginData struct {
	T                        loginText
	Nonce, CSRF, Next, Error string
	OIDC                     bool
}

// localNext keeps next only when it is a path on this server, so that the login cannot send a
// user elsewhere (an open redirect).
func localNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

// renderLogin writes the login page with status; message, when set, says why the last attempt
// failed.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, message string) {
	lang := httpx.PageLanguage(r)
	if v := r.PostFormValue("lang"); v == "zh-Hans" || v == "en" {
		lang = v
	}
	csrf := randomValue()
	http.SetCookie(w, &http.Cookie{
		Name: LoginCookie, Value: csrf, Path: "/login", MaxAge: 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookie(r),
	})
	n := httpx.Nonce()
	h := w.Header()
	httpx.SetPageSecurity(h, n)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Language")
	w.WriteHeader(status)
	data := loginData{T: loginTexts[lang], Nonce: n, CSRF: csrf, Next: localNext(next), Error: message}
	data.OIDC = s.Auth != nil && s.Auth.OIDC != nil
	if err := loginTemplate.Execute(w, data); err != nil {
		s.logger().Warn("render the login page", "error", err.Error())
	}
}

// randomValue returns 32 random bytes in unpadded base64url.
func randomValue() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secureCookie reports whether the cookies set on r's answer must be Secure.
func (s *Server) secureCookie(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.PublicURL, "https://") || (s.Auth != nil && s.Auth.SecureCookie)
}

// authOff answers the login routes when authentication is off: there is nothing to log in to.
func (s *Server) authOff(w http.ResponseWriter, r *http.Request) bool {
	on, err := s.authOn(r.Context())
	if err != nil {
		s.writeError(w, r, fmt.Errorf("read whether authentication is on: %w", err))
		return true
	}
	if on {
		return false
	}
	s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "This server runs without authentication (loopback only): there is nothing to log in to."))
	return true
}

// handleLoginForm serves GET /login.
func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	if s.authOff(w, r) {
		return
	}
	s.renderLogin(w, r, http.StatusOK, r.URL.Query().Get("next"), "")
}

// loginFailed is the login page's sentence for refused credentials, per language.
var loginFailed = map[string]string{
	"en":      "These credentials are not valid.",
	"zh-Hans": "凭据无效。",
}

// handleLoginPost serves POST /login: a token, or a username and password, starts a session.
func (s *Server) handleLoginPost(w http.ResponseWriter, r *http.Request) {
	if s.authOff(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, formError(err))
		return
	}
	c, err := r.Cookie(LoginCookie)
	got := r.PostFormValue(CSRFField)
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(got)) != 1 {
		s.writeError(w, r, sunset.Errorf(problem.CodeForbidden, "The login form's anti-forgery token is missing or wrong; reload the page and try again."))
		return
	}
	if !s.loginLimiter().Allow(httpx.ClientAddress(r), s.now()) {
		w.Header().Set("Retry-After", "60")
		s.writeError(w, r, &sunset.Error{Code: problem.CodeTooMany, Message: "Too many login attempts from your address; try again in a minute."})
		return
	}
	ctx, now := r.Context(), s.now()
	var name string
	var role Role
	if token := strings.TrimSpace(r.PostFormValue("token")); token != "" {
		name, role, err = storedRole(s.Auth.Store.Token(ctx, token, now))
	} else {
		username := strings.TrimSpace(r.PostFormValue("username"))
		var stored string
		stored, err = s.Auth.Store.Password(ctx, username, r.PostFormValue("password"))
		name, role, err = storedRole(username, stored, err)
	}
	next := r.PostFormValue("next")
	if err != nil {
		if sunset.ErrorCode(err) != sunset.EUNAUTHORIZED {
			s.writeError(w, r, err)
			return
		}
		s.logger().Info("login refused", "client", httpx.ClientAddress(r))
		lang := r.PostFormValue("lang")
		if _, ok := loginTexts[lang]; !ok {
			lang = "en"
		}
		s.renderLogin(w, r, http.StatusUnauthorized, next, loginFailed[lang])
		return
	}
	s.startSession(w, r, name, role, localNext(next))
}

// startSession starts a session for name with role, sets its cookie and sends the browser to
// next.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, name string, role Role, next string) {
	now := s.now()
	ttl := s.Auth.SessionTTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	secret, err := s.Auth.Store.CreateSession(r.Context(), name, role.String(), now, now.Add(ttl))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/", MaxAge: int(ttl / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookie(r),
	})
	http.SetCookie(w, &http.Cookie{Name: LoginCookie, Path: "/login", MaxAge: -1, HttpOnly: true})
	s.logger().Info("session started", "actor", name, "role", role.String())
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleLogout serves POST /logout: it ends the caller's session and clears its cookie.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if s.authOff(w, r) {
		return
	}
	if p := PrincipalFrom(r.Context()); p != nil && p.session != "" {
		if err := s.Auth.Store.DeleteSession(r.Context(), p.session); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookie(r)})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// loginLimiter returns the limiter of login attempts per client address.
func (s *Server) loginLimiter() *httpx.Limiter {
	s.Auth.loginOnce.Do(func() { s.Auth.login.N = loginPerMinute })
	return &s.Auth.login
}

// formError turns a failure to read a form into a problem: too large, or invalid.
func formError(err error) error {
	if strings.Contains(err.Error(), "too large") {
		return httpx.TooLarge("The form", MaxPublicBody)
	}
	return sunset.Errorf(sunset.EINVALID, "Cannot read the form: %v.", err)
}
