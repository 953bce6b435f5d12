package rehearse

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/plan"
)

func TestNewConsumersGivesPersonasInTurn(t *testing.T) {
	got := NewConsumers([]Consumer{{ID: "a", Email: "A@X.example"}, {ID: "b"}, {ID: "c"}, {ID: "d"}, {ID: "e"}}, []string{"e"})
	want := []Persona{Reminded, Early, Woken, Laggard, Reminded}
	for i, c := range got {
		if c.Persona != want[i] {
			t.Errorf("consumer %s is %s, want %s", c.ID, c.Persona, want[i])
		}
	}
	if got[0].Email != "a@x.example" {
		t.Errorf("emails are matched lower-cased; got %q", got[0].Email)
	}
}

// TestFleetMigratesOnNotices runs an early consumer against a real server: it calls with its
// identity until three simulated days after its first notice, then calls the alternative
// instead (which the old API's request count does not include), and thanks in English through
// the feedback hook.
func TestFleetMigratesOnNotices(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	up := &Upstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("X-API-Key"))
		mu.Unlock()
		up.ServeHTTP(w, r)
	}))
	defer srv.Close()
	clock := sunset.NewFixedClock(time.Date(2027, 1, 5, 10, 0, 0, 0, time.UTC))
	var posts []Post
	f := &Fleet{
		Consumers: NewConsumers([]Consumer{{ID: "acme", Email: "ops@acme.example", Locale: "en"}, {ID: "globex", Email: "dev@globex.example", Locale: "en"}}, nil),
		Gateway:   srv.URL, Alternative: srv.URL + AlternativePrefix,
		Identify: plan.Identify{Header: "X-API-Key"}, Calls: []Call{{"GET", "/v1/orders/42"}},
		Clock: clock, Every: 5 * time.Millisecond,
		Feedback: func(_ context.Context, p Post) error { posts = append(posts, p); return nil },
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.Run(ctx)
	waitFor(t, "four requests upstream", func() bool { return up.Requests() >= 4 })
	f.Notice(ctx, "dev@globex.example") // globex is the early one
	clock.Advance(4 * 24 * time.Hour)
	waitFor(t, "one consumer migrated", func() bool { n, _ := f.Migrated(); return n == 1 })
	before := up.Requests()
	waitFor(t, "three calls to the alternative", func() bool { return f.AlternativeCalls() >= 3 }) // the migrated one calls the alternative
	// The one that did not migrate keeps calling the old API (a wait, not a look: the two
	// consumers call on their own schedules, and the migrated one may have made its three calls
	// before the other called again).
	waitFor(t, "the consumer that did not migrate to call the old API again", func() bool { return up.Requests() > before })
	cancel()
	f.Wait()
	if len(posts) != 1 || posts[0].Consumer != "globex" || posts[0].Mood != "positive" {
		t.Errorf("posts: %+v", posts)
	}
	if !strings.Contains(strings.Join(seen, ","), "acme") || !strings.Contains(strings.Join(seen, ","), "globex") {
		t.Errorf("identities sent: %v", seen)
	}
	_, counts := f.Answers()
	if counts["active"].OK == 0 {
		t.Errorf("answers: %+v", counts)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, what, func() error {
		if !cond() {
			return errors.New("not yet")
		}
		return nil
	})
}
