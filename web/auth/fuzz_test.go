package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
)

// oneToken knows one token, "sst_good", of an operator.
type oneToken struct{}

func (oneToken) Token(_ context.Context, secret string, _ time.Time) (string, string, error) {
	if secret == "sst_good" {
		return "ops", "operator", nil
	}
	return "", "", sunset.Errorf(sunset.EUNAUTHORIZED, "The token is not valid.")
}
func (oneToken) Password(context.Context, string, string) (string, error) {
	return "", sunset.Errorf(sunset.EUNAUTHORIZED, "no")
}
func (oneToken) CreateSession(context.Context, string, string, time.Time, time.Time) (string, error) {
	return "sss_x", nil
}
func (oneToken) Session(context.Context, string, time.Time) (string, string, error) {
	return "", "", sunset.Errorf(sunset.EUNAUTHORIZED, "The session has ended.")
}
func (oneToken) DeleteSession(context.Context, string) error { return nil }

// FuzzAuthorizationHeader: no Authorization header or cookie lets a caller in without the one
// good token, and none makes the server fail.
func FuzzAuthorizationHeader(f *testing.F) {
	for _, seed := range []string{"Bearer sst_good", "Bearer sst_bad", "bearer  sst_good ", "Basic YTpi", "Bearer", "", "Bearer \x00", "Bearer sst_good\r\nX: y"} {
		f.Add(seed, "")
	}
	f.Add("", SessionCookie+"=sss_forged")
	s := &Server{Auth: &Auth{Store: oneToken{}}}
	h := s.Guard(Route{Pattern: "POST /x", Role: RoleOperator, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})})
	f.Fuzz(func(t *testing.T, authorization, cookie string) {
		req := httptest.NewRequest(http.MethodPost, "/x", nil)
		req.Header["Authorization"] = []string{authorization}
		req.Header["Cookie"] = []string{cookie}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		good := strings.EqualFold(strings.SplitN(authorization, " ", 2)[0], "Bearer") && strings.TrimSpace(strings.SplitN(authorization+" ", " ", 2)[1]) == "sst_good"
		switch {
		case w.Code == http.StatusNoContent && !good:
			t.Fatalf("let in with Authorization %q, Cookie %q", authorization, cookie)
		case w.Code != http.StatusNoContent && w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden:
			t.Fatalf("status %d for Authorization %q, Cookie %q", w.Code, authorization, cookie)
		}
	})
}

// FuzzLocalNext: whatever next the login is given, it sends the browser to a path on this
// server.
func FuzzLocalNext(f *testing.F) {
	for _, seed := range []string{"/", "/s/billing-v1", "//evil.example", "/\\evil.example", "https://evil.example", "/a\r\nLocation: x", "", "%2F%2Fevil"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localNext(next)
		u, err := url.Parse(got)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") || strings.ContainsAny(got, "\r\n") ||
			(err == nil && (u.Host != "" || u.Scheme != "")) {
			t.Fatalf("localNext(%q) = %q leaves the server", next, got)
		}
		// The OIDC cookie round-trips it.
		if back := fromURLSafe(urlSafe(got)); back != got {
			t.Fatalf("urlSafe round trip of %q gave %q", got, back)
		}
	})
}

func TestParseRole(t *testing.T) {
	for in, want := range map[string]Role{"viewer": RoleViewer, " Operator ": RoleOperator, "APPROVER": RoleApprover, "admin": RoleAdmin} {
		if got, err := ParseRole(in); err != nil || got != want {
			t.Errorf("ParseRole(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "public", "root", "unknown", "admin2", "view er"} {
		if _, err := ParseRole(in); sunset.ErrorCode(err) != sunset.EINVALID {
			t.Errorf("ParseRole(%q): %v, want invalid", in, err)
		}
	}
}
