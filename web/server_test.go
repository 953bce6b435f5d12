package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/internal/testplan"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/web/api"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/httpx"
)

// testPlan is a small valid plan with one stakeholder, so it starts in draft.
const testPlan = testplan.Billing

// testPlanMoved is testPlan with its shutdown a week later.
var testPlanMoved = testplan.BillingMoved

// testPlanNoSignoff is a valid plan without stakeholders, so it is scheduled at once.
const testPlanNoSignoff = `
service:
  name: reports-v2
  timezone: Asia/Shanghai
milestones:
  announce: 2027-01-04T10:00
  deprecate: announce
  shutdown: 2027-03-01T10:00
`

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

// t0 is where the test clock starts: before every milestone of the test plans.
var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// syncBuffer is a bytes.Buffer safe for the server's concurrent logging.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testBundle is a real server on a real engine and SQLite store.
type testBundle struct {
	// live serves srv's handler; rehandle makes a new one after a test changes srv's fields.
	live   *liveHandler
	clock  *sunset.FixedClock
	eng    *engine.Engine
	srv    *Server
	ts     *httptest.Server
	client *client.Client
	logs   *syncBuffer
}

// setup starts a server on a fresh SQLite store. The engine is not started: tests that need
// actions to run call start.
func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupWith(t, nil)
}

// setupWith is setup with the engine seen by the server wrapped by wrap (to inject faults).
func setupWith(t *testing.T, wrap func(api.Engine) api.Engine) *testBundle {
	t.Helper()
	return setupOn(t, sunset.NewFixedClock(t0), storetest.OpenSQLite(t), wrap)
}

// setupOn is setupWith on the store st, whose clock is clock.
func setupOn(t *testing.T, clock *sunset.FixedClock, st engine.Store, wrap func(api.Engine) api.Engine) *testBundle {
	t.Helper()
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	logs := &syncBuffer{}
	var e api.Engine = eng
	if wrap != nil {
		e = wrap(eng)
	}
	srv := &Server{
		Engine:  e,
		Logger:  slog.New(slog.NewTextHandler(logs, nil)),
		Version: "test",
		// Feedback on the same database; themes are skipped (their dictionary takes seconds
		// to load) except where a test sets a Themer.
		Feedback: st.(*store.DB).Feedback(),
		Contacts: st.(*store.DB),
		Now:      clock.Now,
	}
	live := newLiveHandler(srv)
	ts := httptest.NewServer(live)
	t.Cleanup(ts.Close)
	return &testBundle{
		live:   live,
		clock:  clock,
		eng:    eng,
		srv:    srv,
		ts:     ts,
		client: &client.Client{BaseURL: ts.URL, HTTP: ts.Client(), Actor: "tester"},
		logs:   logs,
	}
}

// start starts the engine's dispatcher and workers.
func (b *testBundle) start(t *testing.T) {
	t.Helper()
	if err := b.eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// mediaType returns the answer's media type without parameters.
func (r *response) mediaType() string {
	mt, _, _ := strings.Cut(r.header.Get("Content-Type"), ";")
	return strings.TrimSpace(mt)
}

// problem decodes the answer as a problem, failing the test if it is not one.
func (r *response) problem(t *testing.T) *problem.Problem {
	t.Helper()
	if r.mediaType() != problem.ContentType {
		t.Fatalf("Content-Type = %q, want %s; body %s", r.header.Get("Content-Type"), problem.ContentType, r.body)
	}
	var p problem.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body: %v\n%s", err, r.body)
	}
	if p.Status != r.status {
		t.Errorf("problem status %d, HTTP status %d", p.Status, r.status)
	}
	return &p
}

// decode decodes a JSON answer into v.
func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, r.body)
	}
}

// do sends a request to the test server. Pairs of header name and value may follow the body.
func (b *testBundle) do(t *testing.T, method, path, body string, header ...string) *response {
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
	resp, err := b.ts.Client().Do(req)
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

// apply posts a plan and fails the test unless it is accepted.
func (b *testBundle) apply(t *testing.T, yaml string) *engine.ApplyResult {
	t.Helper()
	r := b.do(t, http.MethodPost, "/api/v1/plans", yaml)
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	var res engine.ApplyResult
	r.decode(t, &res)
	return &res
}

// waitDone waits until the action with key has run. It polls; it asserts nothing about time.
func (b *testBundle) waitDone(t *testing.T, name, key string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := b.eng.Dispatch(t.Context()); err != nil {
			t.Fatal(err)
		}
		acts, err := b.eng.Actions(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			if a.Key == key && a.Status == engine.ActionDone {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("action %s of %s not done after 30s: %+v", key, name, acts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// announce makes the sunset name public: every stakeholder signs off, the clock moves to its
// announce milestone and the engine runs it.
func (b *testBundle) announce(t *testing.T, name string) {
	t.Helper()
	announceSunset(t, b.eng, b.clock, name)
}

// announceSunset signs off every stakeholder of name, moves clock to its announce milestone and
// runs the engine's due actions until the announcement is done.
func announceSunset(t *testing.T, eng *engine.Engine, clock *sunset.FixedClock, name string) {
	t.Helper()
	ctx := t.Context()
	// The actions run on the engine's workers; a test that started them already is fine.
	if err := eng.Start(ctx); err != nil && !strings.Contains(err.Error(), "already started") {
		t.Fatal(err)
	}
	st, err := eng.Status(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range st.Awaiting {
		if _, err := eng.Signoff(ctx, name, who, "tester"); err != nil {
			t.Fatal(err)
		}
	}
	p, _, err := eng.Plan(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := p.MilestoneTimes()
	if err != nil {
		t.Fatal(err)
	}
	if at := ms[plan.Announce]; clock.Now().Before(at) {
		clock.Set(at)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := eng.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := eng.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if s.Announced() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not announced after 30s: %s", name, s.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// faultyEngine answers Statuses with err, or panics when panicMsg is set.
type faultyEngine struct {
	api.Engine
	err      error
	panicMsg string
}

func (f *faultyEngine) Statuses(ctx context.Context) ([]*engine.Status, error) {
	if f.panicMsg != "" {
		panic(f.panicMsg)
	}
	return nil, f.err
}

func TestHealthAlwaysAnswersOK(t *testing.T) {
	b := setup(t)
	r := b.do(t, http.MethodGet, "/healthz", "")
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"status":"ok"}` {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func TestReady(t *testing.T) {
	tests := []struct {
		name       string
		ready      func(context.Context) error
		wantStatus int
		wantDetail string
	}{
		{"ready without a Ready func", nil, http.StatusOK, ""},
		{"ready when Ready passes", func(context.Context) error { return nil }, http.StatusOK, ""},
		{"503 problem with a generic detail when Ready fails", func(context.Context) error { return errors.New("dial tcp: secret host") },
			http.StatusServiceUnavailable, "The server is not ready to serve yet."},
		{"503 problem with the message of a sunset error", func(context.Context) error { return sunset.Errorf(sunset.EINTERNAL, "The engine is starting.") },
			http.StatusServiceUnavailable, "The engine is starting."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			b.srv.Ready = tt.ready
			b.rehandle()
			b.ts.Config.Handler = b.srv.Handler()
			r := b.do(t, http.MethodGet, "/readyz", "")
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantStatus == http.StatusOK {
				return
			}
			p := r.problem(t)
			if p.Detail != tt.wantDetail || p.Code != problem.CodeUnavailable || r.header.Get("Retry-After") == "" {
				t.Fatalf("problem %+v, Retry-After %q", p, r.header.Get("Retry-After"))
			}
			if strings.Contains(string(r.body), "secret host") {
				t.Fatal("the internal error leaked to the client")
			}
		})
	}
}

func TestRoutingProblems(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantAllow  string
	}{
		{"unknown API route is a 404 problem", http.MethodGet, "/api/v1/nothing", http.StatusNotFound, ""},
		{"unknown API version is a 404 problem", http.MethodGet, "/api/v2/sunsets", http.StatusNotFound, ""},
		{"unknown page is a 404 problem", http.MethodGet, "/nothing.html", http.StatusNotFound, ""},
		{"unknown sub-resource is a 404 problem", http.MethodGet, "/api/v1/sunsets/x/nothing", http.StatusNotFound, ""},
		{"DELETE on the list is a 405 problem", http.MethodDelete, "/api/v1/sunsets", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"GET on apply is a 405 problem", http.MethodGet, "/api/v1/plans", http.StatusMethodNotAllowed, "POST"},
		{"GET on pause is a 405 problem", http.MethodGet, "/api/v1/sunsets/x/pause", http.StatusMethodNotAllowed, "POST"},
		{"PUT on a sunset is a 405 problem", http.MethodPut, "/api/v1/sunsets/x", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"POST on healthz is a 405 problem", http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "GET, HEAD"},
	}
	b := setup(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(t, tt.method, tt.path, "")
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			p := r.problem(t)
			if p.Detail == "" || p.Title == "" || !strings.HasPrefix(p.Type, problem.ProblemTypeBase) {
				t.Fatalf("incomplete problem %+v", p)
			}
			if got := r.header.Get("Allow"); got != tt.wantAllow {
				t.Fatalf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestInternalErrorsAreLoggedAndHidden(t *testing.T) {
	b := setupWith(t, func(e api.Engine) api.Engine {
		return &faultyEngine{Engine: e, err: errors.New("database is locked: /var/lib/secret.db")}
	})
	r := b.do(t, http.MethodGet, "/api/v1/sunsets", "")
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	p := r.problem(t)
	if p.Detail != httpx.InternalDetail || p.Code != sunset.EINTERNAL {
		t.Fatalf("problem %+v", p)
	}
	if strings.Contains(string(r.body), "secret") {
		t.Fatalf("internal detail leaked: %s", r.body)
	}
	if !strings.Contains(b.logs.String(), "database is locked") {
		t.Fatalf("internal error not logged; logs:\n%s", b.logs)
	}
}

func TestPanicsBecomeA500Problem(t *testing.T) {
	b := setupWith(t, func(e api.Engine) api.Engine { return &faultyEngine{Engine: e, panicMsg: "boom in the engine"} })
	for _, path := range []string{"/api/v1/sunsets", "/"} {
		r := b.do(t, http.MethodGet, path, "")
		if r.status != http.StatusInternalServerError {
			t.Fatalf("%s: status %d: %s", path, r.status, r.body)
		}
		if p := r.problem(t); p.Detail != httpx.InternalDetail {
			t.Fatalf("%s: problem %+v", path, p)
		}
	}
	if logs := b.logs.String(); !strings.Contains(logs, "boom in the engine") || !strings.Contains(logs, "stack=") {
		t.Fatalf("panic not logged with its stack; logs:\n%s", logs)
	}
	// The server still serves after a panic.
	if r := b.do(t, http.MethodGet, "/healthz", ""); r.status != http.StatusOK {
		t.Fatalf("healthz after panic: %d", r.status)
	}
}

func TestActorHeader(t *testing.T) {
	tests := []struct {
		name      string
		header    []string
		wantActor string
		wantErr   bool
	}{
		{"no header records api", nil, auth.DefaultActor, false},
		{"blank header records api", []string{client.ActorHeader, "   "}, auth.DefaultActor, false},
		{"header is trimmed", []string{client.ActorHeader, "  li.wei@example.com "}, "li.wei@example.com", false},
		{"Chinese names are printable", []string{client.ActorHeader, "李伟"}, "李伟", false},
		{"100 characters are accepted", []string{client.ActorHeader, strings.Repeat("界", 100)}, strings.Repeat("界", 100), false},
		{"101 characters are refused", []string{client.ActorHeader, strings.Repeat("a", 101)}, "", true},
		{"control characters are refused", []string{client.ActorHeader, "eve\x7f"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/plans", nil)
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header[tt.header[i]] = []string{tt.header[i+1]}
			}
			got, err := auth.HeaderActor(req)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && sunset.ErrorCode(err) != sunset.EINVALID {
				t.Fatalf("code %s, want invalid", sunset.ErrorCode(err))
			}
			if got != tt.wantActor {
				t.Fatalf("actor %q, want %q", got, tt.wantActor)
			}
		})
	}
}

func TestActorIsRecordedInEvents(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	r := b.do(t, http.MethodPost, "/api/v1/sunsets/billing-v1/pause", `{"reason":"holiday freeze"}`, client.ActorHeader, "li.wei")
	if r.status != http.StatusOK {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	events, err := b.eng.Events(t.Context(), "billing-v1")
	if err != nil {
		t.Fatal(err)
	}
	first, last := events[0], events[len(events)-1]
	if first.Actor != auth.DefaultActor || last.Actor != "li.wei" || last.Type != "sunset.paused" {
		t.Fatalf("first event by %q, last %s by %q", first.Actor, last.Type, last.Actor)
	}
	r = b.do(t, http.MethodPost, "/api/v1/sunsets/billing-v1/cancel", "", client.ActorHeader, strings.Repeat("x", 101))
	if r.status != http.StatusBadRequest {
		t.Fatalf("long actor: %d %s", r.status, r.body)
	}
}

func TestIdentifyIsTheAuthenticationSeam(t *testing.T) {
	b := setup(t)
	b.srv.Identify = func(r *http.Request) (string, error) {
		return "", sunset.Errorf(sunset.EUNAUTHORIZED, "Sign in first.")
	}
	b.ts.Config.Handler = b.srv.Handler()
	r := b.do(t, http.MethodPost, "/api/v1/plans", testPlan)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if p := r.problem(t); p.Detail != "Sign in first." || p.Code != sunset.EUNAUTHORIZED {
		t.Fatalf("problem %+v", p)
	}
	if list, _ := b.eng.Statuses(t.Context()); len(list) != 0 {
		t.Fatalf("a refused apply stored %d sunsets", len(list))
	}
}

// errTest is an internal error whose text must never reach a client.
var errTest = errors.New("connection to the store lost (test)")

// liveHandler serves the latest handler made of a Server, so that a test may change the
// server's fields (a contract Handler's callers keep) and then serve a handler made anew.
type liveHandler struct{ h atomic.Pointer[http.Handler] }

// newLiveHandler serves srv.Handler().
func newLiveHandler(srv *Server) *liveHandler {
	l := &liveHandler{}
	l.reload(srv)
	return l
}

// reload serves a new handler of srv from now on.
func (l *liveHandler) reload(srv *Server) {
	h := srv.Handler()
	l.h.Store(&h)
}

// ServeHTTP serves r with the latest handler.
func (l *liveHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*l.h.Load()).ServeHTTP(w, r)
}

// rehandle serves a handler made anew of b.srv, after the test changed its fields.
func (b *testBundle) rehandle() { b.live.reload(b.srv) }
