package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/sqlite"
)

// storageBundle is a server on a SQLite store whose writes a test can make fail for real:
// PRAGMA max_page_count (SQLITE_FULL) or PRAGMA query_only (SQLITE_READONLY) on the store's only
// connection. /readyz asks the store (store.DB.Ready), on the test's clock.
type storageBundle struct {
	*testBundle
	st   *store.DB
	path string
}

func setupStorage(t *testing.T) *storageBundle {
	t.Helper()
	clock := sunset.NewFixedClock(t0)
	path := filepath.Join(t.TempDir(), "sunset.db")
	st, err := sqlite.Open(t.Context(), path, store.WithNow(clock.Now), store.WithReplica("cp-test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := setupOn(t, clock, st, nil)
	b.srv.Ready, b.srv.Reports = st.Ready, st
	b.rehandle()
	return &storageBundle{testBundle: b, st: st, path: path}
}

// exec runs statements on the store's connection (SQLite's pool holds one).
func (b *storageBundle) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := b.st.DB().ExecContext(context.WithoutCancel(t.Context()), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// fillDisk makes the database full: compacted, then limited to the pages it has.
func (b *storageBundle) fillDisk(t *testing.T) {
	t.Helper()
	b.exec(t, "VACUUM")
	var pages int
	if err := b.st.DB().QueryRowContext(t.Context(), "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	b.exec(t, fmt.Sprintf("PRAGMA max_page_count = %d", pages))
}

// bigPlan is testPlanNoSignoff with comments large enough to need new pages (in lines under the
// plan's 64 KB line limit).
var bigPlan = testPlanNoSignoff + strings.Repeat("# "+strings.Repeat("notes on the retirement ", 20)+"\n", 400)

// ready asks /readyz and checks its status and, when it fails, its problem's code.
func (b *storageBundle) ready(t *testing.T, status int, code string) *problem.Problem {
	t.Helper()
	r := b.do(t, http.MethodGet, "/readyz", "")
	if r.status != status {
		t.Fatalf("/readyz = %d, want %d: %s", r.status, status, r.body)
	}
	if status == http.StatusOK {
		return nil
	}
	p := r.problem(t)
	if p.Code != code || p.Type != problem.ProblemTypeBase+code {
		t.Errorf("/readyz problem code %q type %q, want %q", p.Code, p.Type, code)
	}
	if h := b.do(t, http.MethodGet, "/healthz", ""); h.status != http.StatusOK {
		t.Errorf("/healthz = %d while not ready; liveness must stay ok", h.status)
	}
	return p
}

// TestStorageFull: with the database's disk full (a real SQLITE_FULL), applying a plan answers
// 507 storage_full saying why and what to do, /readyz fails with the reason while /healthz stays
// ok, the sunset stored before is intact, and once there is room again /readyz recovers by
// itself and the same plan is accepted.
func TestStorageFull(t *testing.T) {
	b := setupStorage(t)
	if r := b.do(t, http.MethodPost, "/api/v1/plans", testPlan); r.status != http.StatusCreated {
		t.Fatalf("apply before: %d %s", r.status, r.body)
	}
	b.ready(t, http.StatusOK, "")

	b.fillDisk(t)
	r := b.do(t, http.MethodPost, "/api/v1/plans", bigPlan)
	if r.status != http.StatusInsufficientStorage {
		t.Fatalf("apply on a full disk: %d %s, want 507", r.status, r.body)
	}
	p := r.problem(t)
	if p.Code != sunset.EFULL || p.Type != problem.ProblemTypeBase+"storage_full" {
		t.Errorf("problem %+v, want code storage_full", p)
	}
	for _, want := range []string{"cannot be written", "disk is full", "SQLITE_FULL", b.path, "Nothing you sent was stored", "no earlier data was lost"} {
		if !strings.Contains(p.Detail, want) {
			t.Errorf("detail %q lacks %q", p.Detail, want)
		}
	}
	if got := r.header.Get("Retry-After"); got == "" {
		t.Error("a storage failure answers without Retry-After")
	}
	if !strings.Contains(b.logs.String(), "SQLITE_FULL") {
		t.Errorf("the driver's error is not logged:\n%s", b.logs)
	}
	// The Go client reports the code.
	if _, err := b.client.Apply(t.Context(), "plan.yaml", []byte(bigPlan)); sunset.ErrorCode(err) != sunset.EFULL {
		t.Errorf("client: %v (code %q), want storage_full", err, sunset.ErrorCode(err))
	}

	rp := b.ready(t, http.StatusServiceUnavailable, sunset.EFULL)
	if !strings.Contains(rp.Detail, "disk is full") {
		t.Errorf("/readyz detail %q does not say why", rp.Detail)
	}

	// Earlier data is intact and readable while the disk is full.
	if st, err := b.client.Get(t.Context(), "billing-v1"); err != nil || st.Name != "billing-v1" {
		t.Fatalf("the sunset stored before: %v %v", st, err)
	}

	// Room again: /readyz recovers on its own once the probe interval has passed.
	b.exec(t, "PRAGMA max_page_count = 1073741823")
	b.ready(t, http.StatusServiceUnavailable, sunset.EFULL) // the failure is still recent
	b.clock.Advance(store.DefaultProbeInterval)
	b.ready(t, http.StatusOK, "")
	if r := b.do(t, http.MethodPost, "/api/v1/plans", bigPlan); r.status != http.StatusCreated {
		t.Fatalf("apply again after freeing space: %d %s", r.status, r.body)
	}
	v, err := b.client.VerifyEvents(t.Context(), "billing-v1")
	if err != nil || !v.OK {
		t.Fatalf("events of the sunset stored before: %+v %v", v, err)
	}
}

// TestStorageReadOnly: with a read-only database (a real SQLITE_READONLY), every write answers
// 503 storage_unwritable, /readyz's own heartbeat fails for as long as it lasts, the operator
// UI's form shows the sentence in the page's language and keeps what was typed; once writable
// again, /readyz recovers by itself and the form is accepted.
func TestStorageReadOnly(t *testing.T) {
	b := setupStorage(t)
	if r := b.do(t, http.MethodPost, "/api/v1/plans", testPlanNoSignoff); r.status != http.StatusCreated {
		t.Fatalf("apply before: %d %s", r.status, r.body)
	}
	b.ready(t, http.StatusOK, "")

	b.exec(t, "PRAGMA query_only = 1")
	r := b.do(t, http.MethodPost, "/api/v1/sunsets/reports-v2/pause", `{"reason":"hold"}`)
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("pause on a read-only database: %d %s, want 503", r.status, r.body)
	}
	if p := r.problem(t); p.Code != sunset.EUNWRITABLE || !strings.Contains(p.Detail, "read-only (SQLITE_READONLY)") {
		t.Errorf("problem %+v", p)
	}

	// The heartbeat fails too, after the interval as much as before it.
	b.ready(t, http.StatusServiceUnavailable, sunset.EUNWRITABLE)
	b.clock.Advance(store.DefaultProbeInterval)
	b.ready(t, http.StatusServiceUnavailable, sunset.EUNWRITABLE)

	// A browser's form, in Chinese: the page says it in Chinese and keeps the typed text.
	typed := "告诉合作伙伴要更早。"
	form := url.Values{"text": {typed}}.Encode()
	r = b.do(t, http.MethodPost, "/s/reports-v2/lessons?lang=zh", form, "Content-Type", "application/x-www-form-urlencoded")
	if r.status != http.StatusServiceUnavailable || !strings.HasPrefix(r.mediaType(), "text/html") {
		t.Fatalf("lessons form: %d %s", r.status, r.header.Get("Content-Type"))
	}
	page := string(r.body)
	for _, want := range []string{"数据库无法写入", "SQLITE_READONLY", "没有丢失", typed} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	form = url.Values{"reason": {"wait for partners"}}.Encode()
	r = b.do(t, http.MethodPost, "/s/reports-v2/pause", form, "Content-Type", "application/x-www-form-urlencoded")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), `value="wait for partners"`) ||
		!strings.Contains(string(r.body), "The database cannot be written") {
		t.Errorf("pause form: %d, the page does not keep the reason or say why", r.status)
	}

	b.exec(t, "PRAGMA query_only = 0")
	b.clock.Advance(store.DefaultProbeInterval)
	b.ready(t, http.StatusOK, "")
	r = b.do(t, http.MethodPost, "/s/reports-v2/lessons?lang=zh", url.Values{"text": {typed}}.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	// The client follows the 303 back to the page, which no longer shows the problem.
	if r.status != http.StatusOK || strings.Contains(string(r.body), "数据库无法写入") || !strings.Contains(string(r.body), typed) {
		t.Fatalf("lessons form once writable: %d %s", r.status, r.body)
	}
	if st, err := b.client.Get(t.Context(), "reports-v2"); err != nil || st.State == "paused" {
		t.Fatalf("the sunset: %+v %v (nothing of the refused pause may be stored)", st, err)
	}
}

// TestStorageFailureReachesABrowserInItsLanguage: a storage failure met by a browser's form post
// outside the API (the public feedback or survey form, unsubscribe, login) is a page in the
// reader's language with the problem's status and Retry-After, telling them their browser kept
// what they typed; the API and non-browser clients get the problem document.
func TestStorageFailureReachesABrowserInItsLanguage(t *testing.T) {
	b := setup(t)
	full := store.ClassifyUnwritable(store.SQLite, "/var/lib/sunset/sunset.db", &fakeSQLiteErr{13})
	ro := store.ClassifyUnwritable(store.Postgres, "", &fakePgErr{"25006"})
	for _, tc := range []struct {
		name, path, accept string
		err                error
		status             int
		want               []string
		page               bool
	}{
		{"a Chinese browser on a full disk", "/feedback/billing-v1?lang=zh", "text/html,application/xhtml+xml", full, 507,
			[]string{`lang="zh-Hans"`, "数据库无法写入", "磁盘已满", "SQLITE_FULL", "表单中仍保留您填写的内容"}, true},
		{"an English browser on a read-only database", "/survey/billing-v1", "text/html", ro, 503,
			[]string{`lang="en"`, "The database cannot be written", "PostgreSQL refuses writes", "the form still holds what you typed"}, true},
		{"the API", "/api/v1/sunsets/billing-v1/feedback", "text/html", full, 507, []string{`"code":"storage_full"`}, false},
		{"a script", "/feedback/billing-v1", "*/*", ro, 503, []string{`"code":"storage_unwritable"`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tc.path, nil)
			req.Header.Set("Accept", tc.accept)
			rec := httptest.NewRecorder()
			b.srv.writeError(rec, req, fmt.Errorf("store: add feedback: %w", tc.err))
			ct := rec.Header().Get("Content-Type")
			if rec.Code != tc.status || strings.HasPrefix(ct, "text/html") != tc.page || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("%d %s Retry-After %q, want %d (page %v)", rec.Code, ct, rec.Header().Get("Retry-After"), tc.status, tc.page)
			}
			for _, w := range tc.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("the answer lacks %q:\n%s", w, rec.Body)
				}
			}
		})
	}
}

// fakeSQLiteErr and fakePgErr stand for the drivers' error types, which the store recognises
// by their Code() int and SQLState() string.
type fakeSQLiteErr struct{ code int }

func (e *fakeSQLiteErr) Error() string { return "sqlite error" }
func (e *fakeSQLiteErr) Code() int     { return e.code }

type fakePgErr struct{ state string }

func (e *fakePgErr) Error() string    { return "ERROR (SQLSTATE " + e.state + ")" }
func (e *fakePgErr) SQLState() string { return e.state }
