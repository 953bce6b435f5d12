package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// enabledCounter is an Auth.Enabled that answers on and counts how often it was asked.
type enabledCounter struct {
	on    atomic.Bool
	fail  atomic.Bool
	calls atomic.Int64
}

func (c *enabledCounter) enabled(context.Context, time.Time) (bool, error) {
	c.calls.Add(1)
	if c.fail.Load() {
		return false, errors.New("database unreachable")
	}
	return c.on.Load(), nil
}

// ageAuthState makes the server's last answer about authentication AuthRecheck old, as if that
// much time had passed.
func ageAuthState(a *Auth) {
	if st := a.state.Load(); st != nil {
		a.state.Store(&authState{on: st.on, asked: time.Now().Add(-AuthRecheck)})
	}
}

// TestAuthFollowsTheDatabaseWithoutAQueryPerRequest: with Auth.Enabled, whether a route needs
// credentials is asked once per AuthRecheck, not per request; a change shows once the answer is
// that old; a failure to ask refuses rather than opens.
func TestAuthFollowsTheDatabaseWithoutAQueryPerRequest(t *testing.T) {
	c := &enabledCounter{}
	s := &Server{Auth: &Auth{Store: oneToken{}, Enabled: c.enabled}}
	h := s.Guard(Route{Pattern: "GET /x", Role: RoleViewer, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})})
	call := func(token string) int {
		r := httptest.NewRequest("GET", "/x", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}

	for i := 0; i < 1000; i++ {
		if got := call(""); got != http.StatusOK {
			t.Fatalf("request %d while off: %d", i, got)
		}
	}
	if n := c.calls.Load(); n != 1 {
		t.Fatalf("1000 requests asked the database %d times, want once", n)
	}

	// A token appears in the database: within AuthRecheck nothing changes, then it does.
	c.on.Store(true)
	if got := call(""); got != http.StatusOK {
		t.Errorf("the answer of less than AuthRecheck ago is used: %d", got)
	}
	ageAuthState(s.Auth)
	if got := call(""); got != http.StatusUnauthorized {
		t.Errorf("once the answer is AuthRecheck old: %d without a token, want 401", got)
	}
	if got := call("sst_good"); got != http.StatusOK {
		t.Errorf("with the token: %d", got)
	}
	if n := c.calls.Load(); n != 2 {
		t.Errorf("asked %d times, want 2", n)
	}

	// Many requests finding the answer stale at once ask once, and none is let through on the
	// stale answer.
	c.on.Store(false)
	ageAuthState(s.Auth)
	c.on.Store(true)
	var wg sync.WaitGroup
	var open atomic.Int64
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if call("") == http.StatusOK {
				open.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := c.calls.Load(); n != 3 || open.Load() != 0 {
		t.Errorf("50 requests on a stale answer: %d asks (want 3 in all), %d let in", n, open.Load())
	}

	// The database cannot be read: refused, not open.
	c.fail.Store(true)
	c.on.Store(false)
	ageAuthState(s.Auth)
	if got := call(""); got != http.StatusInternalServerError {
		t.Errorf("when the database cannot tell: %d, want 500", got)
	}
}

// TestAuthWithoutEnabledIsAlwaysOn: an Auth without Enabled (--auth, OIDC, a non-loopback
// address) never asks and always demands credentials.
func TestAuthWithoutEnabledIsAlwaysOn(t *testing.T) {
	s := &Server{Auth: &Auth{Store: oneToken{}}}
	h := s.Guard(Route{Pattern: "GET /x", Role: RoleViewer, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	if w.Code != http.StatusUnauthorized {
		t.Errorf("%d without a token", w.Code)
	}
}

// BenchmarkGuardOpenServer measures what following the database costs an open server's
// request: an atomic load and a clock reading, no query.
func BenchmarkGuardOpenServer(b *testing.B) {
	c := &enabledCounter{}
	s := &Server{Auth: &Auth{Store: oneToken{}, Enabled: c.enabled}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if on, err := s.authOn(ctx); on || err != nil {
			b.Fatal(on, err)
		}
	}
	b.ReportMetric(float64(c.calls.Load()), "asks")
}
