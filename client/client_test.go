package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/internal/testplan"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/web"
)

func TestClientAgainstARealServer(t *testing.T) {
	c := setup(t)
	ctx := t.Context()

	res, err := c.Apply(ctx, "billing.yaml", []byte(testPlan))
	if err != nil || !res.Created || res.Sunset.Name != "billing-v1" {
		t.Fatalf("Apply: %+v, %v", res, err)
	}
	if res, err := c.Apply(ctx, "billing.yaml", []byte(testPlanMoved)); err != nil || res.Created || len(res.Moved) == 0 {
		t.Fatalf("re-Apply: %+v, %v", res, err)
	}
	list, err := c.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "billing-v1" || list[0].State != engine.StateDraft {
		t.Fatalf("List: %+v, %v", list, err)
	}
	st, err := c.Get(ctx, "billing-v1")
	if err != nil || st.Service != "billing-v1" || st.Title.EN != "Billing API v1" || st.Revision != 2 {
		t.Fatalf("Get: %+v, %v", st, err)
	}
	tl, err := c.Timeline(ctx, "billing-v1")
	if err != nil || tl.TimeZone != "Europe/Berlin" || len(tl.Actions) == 0 {
		t.Fatalf("Timeline: %+v, %v", tl, err)
	}
	if _, off := tl.Actions[0].At.Zone(); off != 3600 {
		t.Fatalf("timeline instant %v is not in the plan's zone", tl.Actions[0].At)
	}
	s, err := c.Signoff(ctx, "billing-v1", "legal")
	if err != nil || s.State != engine.StateScheduled {
		t.Fatalf("Signoff: %+v, %v", s, err)
	}
	if s, err = c.Pause(ctx, "billing-v1", "holiday freeze"); err != nil || s.State != engine.StatePaused {
		t.Fatalf("Pause: %+v, %v", s, err)
	}
	if s, err = c.Resume(ctx, "billing-v1", "freeze over"); err != nil || s.State != engine.StateScheduled {
		t.Fatalf("Resume: %+v, %v", s, err)
	}
	if s, err = c.Cancel(ctx, "billing-v1", ""); err != nil || s.State != engine.StateCancelled {
		t.Fatalf("Cancel: %+v, %v", s, err)
	}
	events, err := c.Events(ctx, "billing-v1")
	if err != nil || len(events) < 5 {
		t.Fatalf("Events: %d, %v", len(events), err)
	}
	for _, ev := range events[1:] {
		if ev.Actor != "tester" {
			t.Fatalf("event %s recorded actor %q, want the client's", ev.Type, ev.Actor)
		}
	}
	v, err := c.VerifyEvents(ctx, "billing-v1")
	if err != nil || !v.OK || v.Events != len(events) {
		t.Fatalf("VerifyEvents: %+v, %v", v, err)
	}
}

func TestClientErrors(t *testing.T) {
	c := setup(t)
	ctx := t.Context()
	if _, err := c.Apply(ctx, "billing.yaml", []byte(testPlan)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		call     func() error
		wantCode string
		// wantIn are substrings of err.Error().
		wantIn []string
	}{
		{"an invalid plan carries every problem line", func() error {
			_, err := c.Apply(ctx, "broken.yaml", []byte(invalidPlan))
			return err
		}, sunset.EINVALID, []string{"broken.yaml:4:", "broken.yaml:5:", "Mars/Olympus", "colour"}},
		{"an unknown sunset is not_found", func() error {
			_, err := c.Get(ctx, "nope")
			return err
		}, sunset.ENOTFOUND, []string{"nope"}},
		{"a wrong state is a conflict", func() error {
			_, err := c.Resume(ctx, "billing-v1", "not paused")
			return err
		}, sunset.ECONFLICT, []string{"not paused"}},
		{"a missing reason is invalid", func() error {
			if _, err := c.Pause(ctx, "billing-v1", "holiday freeze"); err != nil {
				return err
			}
			_, err := c.Resume(ctx, "billing-v1", "")
			return err
		}, sunset.EINVALID, []string{"reason"}},
		{"names are escaped in paths", func() error {
			_, err := c.Get(ctx, "../../healthz")
			return err
		}, sunset.ENOTFOUND, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			var p *client.Problem
			if !errors.As(err, &p) {
				t.Fatalf("%T is not a *client.Problem: %v", err, err)
			}
			if got := sunset.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code %s, want %s (%v)", got, tt.wantCode, err)
			}
			for _, w := range tt.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}

	t.Run("the sunset error keeps the problem lines as details", func(t *testing.T) {
		_, err := c.Apply(ctx, "broken.yaml", []byte(invalidPlan))
		var se *sunset.Error
		if !errors.As(err, &se) || len(se.Details) < 3 || strings.Contains(se.Message, "\n") {
			t.Fatalf("%+v", se)
		}
	})
}

func TestClientCannotReachServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens there any more

	c := &client.Client{BaseURL: url + "/"}
	_, err = c.List(t.Context())
	want := "cannot reach the Sunset server at " + url + ": is `sunset serve` running? (use --server to point elsewhere)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatal("the connection error is not kept")
	}
	if sunset.ErrorMessage(err) != want {
		t.Fatalf("sunset.ErrorMessage = %q", sunset.ErrorMessage(err))
	}
}

func TestClientReadsNonProblemErrors(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream connect error", http.StatusBadGateway)
	}))
	defer ts.Close()
	c := &client.Client{BaseURL: ts.URL}
	_, err := c.Get(t.Context(), "x")
	if err == nil || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "upstream connect error") {
		t.Fatalf("got %v", err)
	}
	if sunset.ErrorCode(err) != sunset.EINTERNAL {
		t.Fatalf("code %s", sunset.ErrorCode(err))
	}
}

func TestClientHonoursTheContext(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer ts.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := (&client.Client{BaseURL: ts.URL}).List(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

// testPlan is a small valid plan with one stakeholder, so it starts in draft.
const testPlan = testplan.Billing

// testPlanMoved is testPlan with its shutdown a week later.
var testPlanMoved = testplan.BillingMoved

// invalidPlan has several problems in one file.
const invalidPlan = `
service:
  name: broken
  timezone: Mars/Olympus
  colour: red
milestones:
  announce: 2027-03-01T10:00
  shutdown: 2027-01-01T10:00
`

// startServer starts a real server on a real engine and a fresh SQLite store, and returns its
// URL and HTTP client.
func startServer(t testing.TB) (string, *http.Client) {
	t.Helper()
	st := storetest.OpenSQLite(t)
	eng, err := engine.New(engine.Config{Store: st, Clock: sunset.NewFixedClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	srv := &web.Server{Engine: eng, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL, ts.Client()
}

// setup returns a client of a real server that names its actor "tester".
func setup(t *testing.T) *client.Client {
	t.Helper()
	url, hc := startServer(t)
	return &client.Client{BaseURL: url, HTTP: hc, Actor: "tester"}
}
