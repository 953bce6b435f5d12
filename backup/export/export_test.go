package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
)

const linkKey = "0123456789abcdef-export-links"

type testBundle struct {
	dir   string
	store *store.DB
	svc   *export.Service
	plan  *plan.Plan
	now   time.Time
}

// setup writes a plan and a contacts file of n users (every third one speaks zh) under a temp
// directory; planExtra is appended to the plan's data.export block.
func setup(t *testing.T, st *store.DB, n int, perUser string) *testBundle {
	t.Helper()
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("id,email,name,locale\n")
	for i := range n {
		loc := "en"
		if i%3 == 0 {
			loc = "zh-CN"
		}
		fmt.Fprintf(&csv, "u%05d,u%d@example.com,User %d,%s\n", i, i, i, loc)
	}
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`service:
  name: orders-api-v1
  title: {en: Orders API v1, zh: 订单 API v1}
consumers:
  contacts: contacts.csv
milestones:
  announce: 2027-01-04T10:00
  deprecate: 2027-01-04T10:00
  shutdown: 2027-03-01T02:00
  delete_data: 2027-09-01
data:
  backups: [{name: main-db, source: {sqlite: %[1]s/app.db}, to: "file://%[1]s/store"}]
  export:
    per_user: %[2]s
    key: env:TEST_EXPORT_KEY
    public_url: https://sunset.example.com
`, dir, perUser)
	path := filepath.Join(dir, "sunset.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p, problems := plan.ParseFile(path)
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	// The contacts reach the store as the server stores them: with the plan's bundle.
	eng, err := engine.New(engine.Config{Store: st, Clock: sunset.NewFixedClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.ApplyBundle(t.Context(), path, []byte(yaml), plan.LocalFiles(dir), "test"); err != nil {
		t.Fatal(err)
	}
	b := &testBundle{dir: dir, store: st, plan: p, now: time.Date(2027, 3, 2, 10, 0, 0, 0, time.UTC)}
	b.svc = &export.Service{Store: st, Plan: func(context.Context, string) (*plan.Plan, error) { return p, nil },
		Getenv: func(k string) string {
			if k == "TEST_EXPORT_KEY" {
				return linkKey
			}
			return ""
		},
		Runtime: sunset.Runtime{Clock: sunset.NewFixedClock(b.now)}}
	return b
}

func openSQLite(t *testing.T) *store.DB { return storetest.OpenSQLite(t).(*store.DB) }

// exportServer answers /export/{id} with JSON orders of the user; fail(id) may make it fail.
func exportServer(t *testing.T, fail func(id string) int) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		id := strings.TrimPrefix(r.URL.Path, "/export/")
		if fail != nil {
			if code := fail(id); code != 0 {
				http.Error(w, "no", code)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"user":%q,"orders":[{"id":1,"total":"=SUM(A1)","note":"第一单"},{"id":2,"total":12.5}]}`, id)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func readZip(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(data)
	}
	return out
}

func TestHTTPExportPackagesEveryUserWithAReadmeInTheirLanguage(t *testing.T) {
	t.Parallel()
	srv, _ := exportServer(t, nil)
	b := setup(t, openSQLite(t), 30, fmt.Sprintf("{http: %q}", srv.URL+"/export/{id}"))
	job, err := b.svc.Run(t.Context(), "orders-api-v1", export.RunOptions{Batch: 7})
	if err != nil {
		t.Fatal(err)
	}
	if job.State != export.JobDone || job.Done != 30 || job.Failed != 0 || job.Position != 30 {
		t.Fatalf("job = %+v", job)
	}
	dest, err := export.Destination(t.Context(), b.plan)
	if err != nil {
		t.Fatal(err)
	}
	defer dest.Close()
	for id, wantReadme := range map[string]string{"u00000": "您在 Orders API v1 的数据", "u00001": "Your data from Orders API v1"} {
		u, err := b.store.ExportUser(t.Context(), "orders-api-v1", id)
		if err != nil {
			t.Fatal(err)
		}
		data, err := dest.Bucket.ReadAll(t.Context(), u.Key)
		if err != nil {
			t.Fatal(err)
		}
		files := readZip(t, data)
		if !strings.Contains(files["README.txt"], wantReadme) {
			t.Errorf("%s README = %q, want %q", id, files["README.txt"], wantReadme)
		}
		if !strings.Contains(files["data.json"], `"user": "`+id+`"`) {
			t.Errorf("%s data.json = %q", id, files["data.json"])
		}
		if !strings.Contains(files["data.csv"], "id,note,total\n1,第一单,'=SUM(A1)\n2,,12.5\n") {
			t.Errorf("%s data.csv = %q (want the orders as rows, formulas defused)", id, files["data.csv"])
		}
	}
	st, err := b.svc.Status(t.Context(), "orders-api-v1")
	if err != nil || st.Counts.Done != 30 || st.Counts.Outstanding != 30 {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

func TestAnInterruptedJobResumesWhereItStopped(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var once sync.Once
	// resumed counts the users the second run fetches, and refetched those of them the first
	// run had saved. Requests of the first run still in flight when it returned may reach the
	// server afterwards; they are not the second run's.
	var resumed, refetched atomic.Int64
	var second atomic.Bool
	srv, _ := exportServer(t, func(id string) int {
		if id == "u00120" {
			once.Do(cancel) // the process "dies" in the middle of the third batch
		}
		if second.Load() {
			resumed.Add(1)
			if id < "u00100" {
				refetched.Add(1)
			}
		}
		return 0
	})
	b := setup(t, openSQLite(t), 250, fmt.Sprintf("{http: %q}", srv.URL+"/export/{id}"))
	job, err := b.svc.Run(ctx, "orders-api-v1", export.RunOptions{Batch: 50, Workers: 4})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	saved, _ := b.store.GetExportJob(t.Context(), "orders-api-v1")
	if saved.Position != 100 || saved.State != export.JobRunning {
		t.Fatalf("saved job after the interruption = %+v (job %+v), want position 100, running", saved, job)
	}
	second.Store(true)
	job, err = b.svc.Run(t.Context(), "orders-api-v1", export.RunOptions{Batch: 50, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if job.State != export.JobDone || job.Position != 250 || job.Done != 250 {
		t.Fatalf("job = %+v", job)
	}
	if refetched.Load() != 0 || resumed.Load() < 150 {
		t.Errorf("the resumed job fetched %d users, %d of them among the 100 saved; want the 150 others and none of the saved", resumed.Load(), refetched.Load())
	}
	c, _ := b.store.ExportCounts(t.Context(), "orders-api-v1")
	if c.Users != 250 || c.Done != 250 {
		t.Errorf("counts = %+v", c)
	}
}

func TestFailuresAreRecordedWithTheirReason(t *testing.T) {
	t.Parallel()
	var tries atomic.Int64
	srv, _ := exportServer(t, func(id string) int {
		switch id {
		case "u00002":
			return http.StatusNotFound
		case "u00003":
			if tries.Add(1) < 3 {
				return http.StatusServiceUnavailable
			}
		}
		return 0
	})
	b := setup(t, openSQLite(t), 5, fmt.Sprintf("{http: %q}", srv.URL+"/export/{id}"))
	x := b.svc
	job, err := x.Run(t.Context(), "orders-api-v1", export.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job.Done != 4 || job.Failed != 1 {
		t.Fatalf("job = %+v", job)
	}
	u, _ := b.store.ExportUser(t.Context(), "orders-api-v1", "u00002")
	if u.State != export.UserFailed || !strings.Contains(u.Error, "404") || u.Attempts != 1 {
		t.Errorf("u00002 = %+v, want failed with the 404 after one attempt", u)
	}
	u, _ = b.store.ExportUser(t.Context(), "orders-api-v1", "u00003")
	if u.State != export.UserDone || u.Attempts != 3 {
		t.Errorf("u00003 = %+v, want done on the third attempt", u)
	}
	rep, err := x.Check(t.Context(), "orders-api-v1")
	if err != nil || rep.OK || !strings.Contains(rep.Err().Error(), "1 exports failed") {
		t.Errorf("check = %+v, %v", rep, err)
	}
	// The endpoint is fixed; --retry-failed exports the failed user again.
	tries.Store(100)
	srvFixed, _ := exportServer(t, nil)
	b.plan.Data.Export.PerUser.HTTP = srvFixed.URL + "/export/{id}"
	job, err = x.Run(t.Context(), "orders-api-v1", export.RunOptions{RetryFailed: true})
	if err != nil || job.Done != 5 || job.Failed != 0 {
		t.Fatalf("after retry: %+v, %v", job, err)
	}
	if u, _ := b.store.ExportUser(t.Context(), "orders-api-v1", "u00002"); u.State != export.UserDone || u.Seq != 3 {
		t.Errorf("u00002 after retry = %+v", u)
	}
}

func TestSQLExportRunsTheQueryAgainstTheBackedUpDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t, openSQLite(t), 3, `{sql: "SELECT id, item, price FROM orders WHERE user_id = ? ORDER BY id"}`)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.dir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id TEXT, item TEXT, price REAL)`,
		`INSERT INTO orders (user_id, item, price) VALUES ('u00001', 'tea', 3.5), ('u00001', '茶杯', 12), ('u00002', 'pot', 20)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if _, err := b.svc.Run(t.Context(), "orders-api-v1", export.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	dest, _ := export.Destination(t.Context(), b.plan)
	defer dest.Close()
	u, _ := b.store.ExportUser(t.Context(), "orders-api-v1", "u00001")
	data, err := dest.Bucket.ReadAll(t.Context(), u.Key)
	if err != nil {
		t.Fatal(err)
	}
	files := readZip(t, data)
	if files["data.csv"] != "id,item,price\n1,tea,3.5\n2,茶杯,12\n" {
		t.Errorf("data.csv = %q", files["data.csv"])
	}
	if !strings.Contains(files["data.json"], `"item": "茶杯"`) {
		t.Errorf("data.json = %q", files["data.json"])
	}
}

func TestLinksAreSignedSingleUserAndExpire(t *testing.T) {
	t.Parallel()
	l := &export.Links{Key: []byte(linkKey), Base: "https://s.example.com/", Expires: time.Date(2027, 9, 1, 0, 0, 0, 0, time.UTC)}
	now := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	tok := l.Token("orders-api-v1", "u1")
	if got := l.URL("orders-api-v1", "u1"); got != "https://s.example.com/exports/orders-api-v1/"+tok {
		t.Errorf("URL = %s", got)
	}
	if id, err := l.Open("orders-api-v1", tok, now); err != nil || id != "u1" {
		t.Errorf("Open = %q, %v", id, err)
	}
	other := &export.Links{Key: []byte(linkKey), Expires: l.Expires}
	forged := strings.Replace(other.Token("orders-api-v1", "u2"), ".", ".x", 1)
	for name, tc := range map[string]struct {
		sunset, token string
		want          error
	}{
		"another user's payload with u1's signature": {"orders-api-v1", strings.Split(other.Token("orders-api-v1", "u2"), ".")[0] + "." + strings.Split(tok, ".")[1], export.ErrTampered},
		"a changed signature":                        {"orders-api-v1", forged, export.ErrTampered},
		"another sunset":                             {"billing-v1", tok, export.ErrTampered},
		"garbage":                                    {"orders-api-v1", "../../etc/passwd", export.ErrTampered},
		"another key":                                {"orders-api-v1", (&export.Links{Key: []byte("another-key-of-16-bytes"), Expires: l.Expires}).Token("orders-api-v1", "u1"), export.ErrTampered},
	} {
		if _, err := l.Open(tc.sunset, tc.token, now); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	if _, err := l.Open("orders-api-v1", tok, l.Expires); !errors.Is(err, export.ErrExpired) {
		t.Errorf("at expiry: err = %v, want ErrExpired", err)
	}
}

func TestBlobKeysStayInTheSunsetsFolder(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"../../etc/passwd", "/abs", "a/b", "..", "名字", strings.Repeat("x", 500)} {
		k := export.BlobKey("orders-api-v1", id)
		if !strings.HasPrefix(k, "exports/orders-api-v1/") || strings.Count(k, "/") != 2 || strings.Contains(k, "..") {
			t.Errorf("BlobKey(%q) = %q escapes exports/orders-api-v1/", id, k)
		}
	}
	if export.BlobKey("s", "a/b") == export.BlobKey("s", "a_b") {
		t.Error("two ids share a key")
	}
}

func TestCheckPassesWhenEveryExportIsDownloadedOrKept(t *testing.T) {
	t.Parallel()
	srv, _ := exportServer(t, nil)
	b := setup(t, openSQLite(t), 6, fmt.Sprintf("{http: %q}", srv.URL+"/export/{id}"))
	if _, err := b.svc.Run(t.Context(), "orders-api-v1", export.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, _ := b.svc.Check(t.Context(), "orders-api-v1")
	if rep.OK || rep.Counts.Outstanding != 6 || len(rep.Outstanding) != 6 {
		t.Fatalf("check before downloads = %+v", rep)
	}
	for _, id := range []string{"u00000", "u00001"} {
		d, err := b.svc.Open(t.Context(), "orders-api-v1", mustLinks(t, b).Token("orders-api-v1", id))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.svc.RecordDownload(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	id, kept, err := b.svc.Keep(t.Context(), "orders-api-v1", backup.Key(linkKey), "test", nil)
	if err != nil || kept != 4 || id == "" {
		t.Fatalf("Keep = %q, %d, %v", id, kept, err)
	}
	rep, _ = b.svc.Check(t.Context(), "orders-api-v1")
	if !rep.OK || rep.Counts.Downloaded != 2 || rep.Counts.Kept != 4 {
		t.Fatalf("check after downloads and keep = %+v", rep)
	}
}

func mustLinks(t *testing.T, b *testBundle) *export.Links {
	t.Helper()
	l, err := b.svc.Links(t.Context(), "orders-api-v1")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 9, 1, 0, 0, 0, 0, time.UTC); !l.Expires.Equal(want) {
		t.Errorf("links expire %s, want delete_data %s", l.Expires, want)
	}
	return l
}

func TestMigrationRetriesAndReportsWhatFailed(t *testing.T) {
	t.Parallel()
	srv, _ := exportServer(t, nil)
	b := setup(t, openSQLite(t), 5, fmt.Sprintf("{http: %q}", srv.URL+"/export/{id}"))
	if _, err := b.svc.Run(t.Context(), "orders-api-v1", export.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]int{}
	alt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/import/")
		mu.Lock()
		got[id]++
		n := got[id]
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/zip" || r.Header.Get("Idempotency-Key") == "" || len(body) == 0 {
			http.Error(w, "bad upload", http.StatusBadRequest)
			return
		}
		switch {
		case id == "u00001" && n < 3:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case id == "u00002":
			http.Error(w, "account already exists", http.StatusConflict)
		case id == "u00003":
			http.Error(w, "down", http.StatusBadGateway)
		}
	}))
	defer alt.Close()
	m := plan.Migrate{URL: alt.URL + "/import/{id}", Attempts: 3}
	rep, err := b.svc.Migrate(t.Context(), "orders-api-v1", m, export.MigrateOptions{Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 3 || rep.Failed != 2 || len(rep.Failures) != 2 {
		t.Fatalf("report = %+v", rep)
	}
	reasons := map[string]export.MigrateFailure{}
	for _, f := range rep.Failures {
		reasons[f.User] = f
	}
	if f := reasons["u00002"]; f.Attempts != 1 || !strings.Contains(f.Error, "409 Conflict: account already exists") {
		t.Errorf("u00002 failure = %+v, want one attempt and the 409 with its body", f)
	}
	if f := reasons["u00003"]; f.Attempts != 3 || !strings.Contains(f.Error, "502") {
		t.Errorf("u00003 failure = %+v, want 3 attempts and the 502", f)
	}
	if got["u00001"] != 3 {
		t.Errorf("u00001 was posted %d times, want 3 (two 503s, then accepted)", got["u00001"])
	}
	// A second run sends only what failed.
	rep, err = b.svc.Migrate(t.Context(), "orders-api-v1", m, export.MigrateOptions{Backoff: time.Millisecond})
	if err != nil || rep.Already != 3 || rep.Failed != 2 {
		t.Fatalf("second run = %+v, %v", rep, err)
	}
	c, _ := b.store.ExportCounts(t.Context(), "orders-api-v1")
	if c.Migrated != 3 || c.MigrationFailed != 2 {
		t.Errorf("counts = %+v", c)
	}
}

func TestExportStoreOnPostgres(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.PostgresURLEnv) == "" {
		testenv.Skip(t, "PostgreSQL", storetest.PostgresURLEnv+" is not set; e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	srv, _ := exportServer(t, nil)
	b := setup(t, storetest.OpenPostgres(t).(*store.DB), 40, fmt.Sprintf("{http: %q}", srv.URL+"/export/{id}"))
	job, err := b.svc.Run(t.Context(), "orders-api-v1", export.RunOptions{Batch: 16})
	if err != nil || job.Done != 40 {
		t.Fatalf("job = %+v, %v", job, err)
	}
	if _, kept, err := b.svc.Keep(t.Context(), "orders-api-v1", backup.Key(linkKey), "test", nil); err != nil || kept != 40 {
		t.Fatalf("keep = %d, %v", kept, err)
	}
	rep, err := b.svc.Check(t.Context(), "orders-api-v1")
	if err != nil || !rep.OK {
		t.Fatalf("check = %+v, %v", rep, err)
	}
}

// TestExportThroughput measures users per second against a local HTTP endpoint and how long a
// resumed job takes to skip what it did, over SUNSET_EXPORT_BENCH_USERS users (skipped unless
// set; bench figures, not a pass/fail test).
func TestExportThroughput(t *testing.T) {
	t.Parallel()
	n, _ := strconv.Atoi(os.Getenv("SUNSET_EXPORT_BENCH_USERS"))
	if n <= 0 {
		t.Skip("set SUNSET_EXPORT_BENCH_USERS to measure export throughput")
	}
	srv, _ := exportServer(t, nil)
	stores := map[string]func() *store.DB{"sqlite": func() *store.DB { return openSQLite(t) }}
	if os.Getenv(storetest.PostgresURLEnv) != "" {
		stores["postgres"] = func() *store.DB { return storetest.OpenPostgres(t).(*store.DB) }
	}
	for name, open := range stores {
		b := setup(t, open(), n, fmt.Sprintf("{http: %q}", srv.URL+"/export/{id}"))
		start := time.Now()
		job, err := b.svc.Run(t.Context(), "orders-api-v1", export.RunOptions{Batch: 500, Workers: 16})
		if err != nil || job.Done != int64(n) {
			t.Fatalf("%s: %+v %v", name, job, err)
		}
		d := time.Since(start)
		t.Logf("%s: %d users exported in %s: %.0f users/s", name, n, d.Round(time.Millisecond), float64(n)/d.Seconds())
	}
	// Resuming near the end of a million-user contacts file: the job skips the handled rows by
	// streaming the file, without reading their state.
	const million = 1_000_000
	b := setup(t, openSQLite(t), million, fmt.Sprintf("{http: %q}", srv.URL+"/export/{id}"))
	job := &export.Job{Sunset: "orders-api-v1", State: export.JobRunning, Source: "contacts",
		Position: million - 100, Started: b.now, Updated: b.now}
	if err := b.store.SaveExportBatch(t.Context(), job, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	job, err := b.svc.Run(t.Context(), "orders-api-v1", export.RunOptions{})
	if err != nil || job.Position != million || job.Done != 100 {
		t.Fatalf("resume: %+v %v", job, err)
	}
	t.Logf("resume at user %d of %d: %s to skip the handled rows and export the last 100", million-100, million, time.Since(start).Round(time.Millisecond))
}
