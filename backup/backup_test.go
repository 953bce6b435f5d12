package backup

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/internal/testenv"
)

var testKey = Key("0123456789abcdef-test-key")

type testBundle struct {
	ctx  context.Context
	dest *Dest
	dir  string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	dir := t.TempDir()
	d, err := OpenDest(context.Background(), filepath.Join(dir, "backups"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &testBundle{ctx: context.Background(), dest: d, dir: dir}
}

func (b *testBundle) create(t *testing.T, src Source) *Archive {
	t.Helper()
	a, err := Create(b.ctx, Options{Name: "t", Source: src, Dest: b.dest, Key: testKey, Tool: "sunset test",
		Runtime: sunset.Runtime{Clock: sunset.NewFixedClock(time.Date(2027, 3, 15, 2, 0, 0, 0, time.UTC))}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// writeTree makes a directory with nested files, an empty file, a large file that spans several
// zstd frames, and a symlink.
func writeTree(t *testing.T, root string) {
	t.Helper()
	files := map[string][]byte{
		"a.txt":           []byte("hello"),
		"empty":           nil,
		"sub/b.json":      []byte(`{"x":1}`),
		"sub/deep/c.bin":  bytes.Repeat([]byte{1, 2, 3, 250}, 1000),
		"big/large.dat":   pseudoRandom(20 << 20),
		"big/z-after.txt": []byte("after the large file"),
		"名字/unicode.txt":  []byte("你好"),
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.txt", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
}

// pseudoRandom returns n bytes that compress somewhat, like real data.
func pseudoRandom(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x % 64)
	}
	return b
}

func TestDirectoryBackupVerifiesAndRestoresByteForByte(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := filepath.Join(b.dir, "src")
	writeTree(t, src)
	a := b.create(t, Dir{Path: src})
	if !strings.HasPrefix(a.ID, "t-20270315T020000Z-") || !strings.HasSuffix(a.Location, a.ID+".tar.zst") {
		t.Errorf("id %s location %s", a.ID, a.Location)
	}
	rep, err := Verify(b.ctx, b.dest, a.ID, VerifyOptions{Key: testKey})
	if err != nil || rep.Err() != nil {
		t.Fatalf("verify: %v %v", err, rep.Err())
	}
	if rep.Entries != len(a.Manifest.Entries) {
		t.Errorf("verified %d entries, manifest has %d", rep.Entries, len(a.Manifest.Entries))
	}
	out := filepath.Join(b.dir, "restored")
	if _, err := Restore(b.ctx, b.dest, a.ID, out, VerifyOptions{Key: testKey}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.txt", "sub/deep/c.bin", "big/large.dat", "名字/unicode.txt", "empty"} {
		want, _ := os.ReadFile(filepath.Join(src, name))
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s restored differently: %v", name, err)
		}
	}
	if l, err := os.Readlink(filepath.Join(out, "link")); err != nil || l != "a.txt" {
		t.Errorf("symlink restored as %q, %v", l, err)
	}
	if _, err := Restore(b.ctx, b.dest, a.ID, out, VerifyOptions{Key: testKey}); err == nil {
		t.Error("restore into a non-empty directory did not fail")
	}
	list, err := b.dest.List(b.ctx)
	if err != nil || len(list) != 1 || list[0].ID != a.ID || list[0].Kind != "dir" {
		t.Errorf("list = %+v, %v", list, err)
	}
}

func TestArchiveOpensWithStandardTools(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := filepath.Join(b.dir, "src")
	writeTree(t, src)
	a := b.create(t, Dir{Path: src})
	if _, err := execLook("zstd"); err != nil {
		testenv.Skip(t, "zstd command", "zstd is not installed (apt-get install zstd)")
	}
	out, err := runShell(fmt.Sprintf("zstd -dc %q | tar -tf - | sort | head -3", filepath.Join(b.dir, "backups", a.ID+ArchiveSuffix)))
	if err != nil || !strings.Contains(out, "data/a.txt") {
		t.Errorf("zstd | tar listed %q, %v", out, err)
	}
}

func makeSQLite(t *testing.T, path string, rows int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"PRAGMA journal_mode=WAL",
		"CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, locale TEXT)",
		"CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	tx, _ := db.Begin()
	for i := range rows {
		tx.Exec("INSERT INTO users (email, locale) VALUES (?, ?)", fmt.Sprintf("u%d@example.com", i), "zh")
		tx.Exec("INSERT INTO orders (user_id, total) VALUES (?, ?)", i, float64(i)*1.5)
		tx.Exec("INSERT INTO orders (user_id, total) VALUES (?, ?)", i, 3.0)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestSQLiteBackupIsAConsistentOnlineCopyCheckedByRowCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dbPath := filepath.Join(b.dir, "orders.db")
	makeSQLite(t, dbPath, 500)
	// A writer keeps its connection open (and its WAL) during the backup.
	live, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if _, err := live.Exec("INSERT INTO users (email) VALUES ('late@example.com')"); err != nil {
		t.Fatal(err)
	}
	a := b.create(t, SQLite{Path: dbPath})
	if got := a.Manifest.Source.Tables; got["users"] != 501 || got["orders"] != 1000 {
		t.Errorf("row counts at backup = %v", got)
	}
	rep, err := Verify(b.ctx, b.dest, a.ID, VerifyOptions{Key: testKey})
	if err != nil || rep.Err() != nil {
		t.Fatalf("verify: %v %v", err, rep.Err())
	}
	if !strings.Contains(strings.Join(rep.Checks, "; "), "integrity_check ok") {
		t.Errorf("checks = %q", rep.Checks)
	}
	out := filepath.Join(b.dir, "restored.db")
	if _, err := Restore(b.ctx, b.dest, a.ID, out, VerifyOptions{Key: testKey}); err != nil {
		t.Fatal(err)
	}
	counts, err := sqliteCounts(b.ctx, out)
	if err != nil || counts["users"] != 501 {
		t.Errorf("restored counts %v, %v", counts, err)
	}
}

// TestAFlippedByteAnywhereIsDetectedAndNamed flips one byte at several places of the archive and
// of its manifest and expects Verify to fail each time, naming where.
func TestAFlippedByteAnywhereIsDetectedAndNamed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := filepath.Join(b.dir, "src")
	writeTree(t, src)
	a := b.create(t, Dir{Path: src})
	arch := filepath.Join(b.dir, "backups", a.ID+ArchiveSuffix)
	man := filepath.Join(b.dir, "backups", a.ID+ManifestSuffix)
	orig, _ := os.ReadFile(arch)
	origMan, _ := os.ReadFile(man)
	var large, after Entry
	for _, e := range a.Manifest.Entries {
		switch e.Path {
		case "data/big/large.dat":
			large = e
		case "data/big/z-after.txt":
			after = e
		}
	}
	cases := []struct {
		name   string
		file   string
		at     int64
		wantIn string // the problem must name this
	}{
		{"first byte (zstd magic)", arch, 0, "data/"},
		{"inside the large file's frame", arch, large.Offset + 5000, "data/big/large.dat"},
		{"inside the frame after the large file", arch, after.Offset + 20, "data/big/z-after.txt"},
		{"last byte (frame checksum)", arch, int64(len(orig)) - 1, ManifestEntry},
		{"the manifest's entry list", man, int64(bytes.Index(origMan, []byte("sha256")) + 200), a.ID + ManifestSuffix},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, _ := os.ReadFile(tc.file)
			data[tc.at] ^= 0x01
			os.WriteFile(tc.file, data, 0o644)
			defer os.WriteFile(arch, orig, 0o644)
			defer os.WriteFile(man, origMan, 0o644)
			rep, err := Verify(b.ctx, b.dest, a.ID, VerifyOptions{Key: testKey})
			if err != nil {
				t.Fatalf("verify failed to run: %v", err)
			}
			verr := rep.Err()
			if verr == nil {
				t.Fatalf("a flipped byte at %d went unnoticed", tc.at)
			}
			if !strings.Contains(verr.Error(), tc.wantIn) {
				t.Errorf("problem does not name %q:\n%v", tc.wantIn, verr)
			}
			t.Log(verr)
		})
	}
	// And the restored original verifies again.
	if rep, err := Verify(b.ctx, b.dest, a.ID, VerifyOptions{Key: testKey}); err != nil || rep.Err() != nil {
		t.Fatalf("original: %v %v", err, rep.Err())
	}
}

func TestVerifyWithAnotherKeyFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := filepath.Join(b.dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644)
	a := b.create(t, Dir{Path: src})
	rep, err := Verify(b.ctx, b.dest, a.ID, VerifyOptions{Key: Key("another-key-of-16-bytes")})
	if err != nil || rep.Err() == nil || !strings.Contains(rep.Err().Error(), "signature") {
		t.Errorf("verify with the wrong key: %v %v", err, rep.Err())
	}
}

func TestHTTPSourceKeepsTheAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"users":[1,2,3]}`)
	}))
	defer srv.Close()
	b := setup(t)
	a := b.create(t, HTTP{URL: srv.URL + "/export/all.json?token=secret"})
	if a.Manifest.Source.ContentType != "application/json" || strings.Contains(a.Manifest.Source.Location, "secret") {
		t.Errorf("metadata %+v", a.Manifest.Source)
	}
	if rep, err := Verify(b.ctx, b.dest, a.ID, VerifyOptions{Key: testKey}); err != nil || rep.Err() != nil {
		t.Fatalf("verify: %v %v", err, rep.Err())
	}
}

func TestPostgresBackupRestoresIntoAScratchDatabase(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("SUNSET_TEST_POSTGRES_URL")
	if dsn == "" {
		testenv.Skip(t, "PostgreSQL", "SUNSET_TEST_POSTGRES_URL is not set; e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("sunset_backup_src_%d", time.Now().UnixNano()%1e9)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	srcDSN := strings.Replace(dsn, "/test?", "/"+name+"?", 1)
	src, err := sql.Open("pgx", srcDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, q := range []string{
		"CREATE TABLE users (id serial PRIMARY KEY, email text)",
		"CREATE SCHEMA billing",
		"CREATE TABLE billing.invoices (id serial PRIMARY KEY, amount numeric)",
		"INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 1234) g",
		"INSERT INTO billing.invoices (amount) SELECT g FROM generate_series(1, 77) g",
	} {
		if _, err := src.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	b := setup(t)
	a := b.create(t, Postgres{DSN: srcDSN})
	if got := a.Manifest.Source.Tables; got["public.users"] != 1234 || got["billing.invoices"] != 77 {
		t.Errorf("row counts %v", got)
	}
	if strings.Contains(a.Manifest.Source.Location, "postgres@") {
		t.Errorf("location leaks the DSN: %s", a.Manifest.Source.Location)
	}
	rep, err := Verify(ctx, b.dest, a.ID, VerifyOptions{Key: testKey, PostgresScratch: dsn})
	if err != nil || rep.Err() != nil {
		t.Fatalf("verify: %v %v", err, rep.Err())
	}
	t.Log(rep.Checks)
	rep, err = Verify(ctx, b.dest, a.ID, VerifyOptions{Key: testKey})
	if err != nil || rep.Err() == nil {
		t.Errorf("verify without a scratch server passed: %v", err)
	}
}

// A backup that fails half way leaves neither a half archive under its final name nor a
// temporary file in a local destination; the next one is listed alone.
func TestAnInterruptedBackupLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := filepath.Join(b.dir, "src")
	writeTree(t, src)
	ctx, cancel := context.WithCancel(b.ctx)
	prog := &cancelAfter{n: 1 << 20, cancel: cancel}
	_, err := Create(ctx, Options{Name: "t", Source: Dir{Path: src}, Dest: b.dest, Key: testKey, Tool: "sunset test", Progress: prog,
		Runtime: sunset.Runtime{Clock: sunset.NewFixedClock(time.Date(2027, 3, 15, 2, 0, 0, 0, time.UTC))}})
	if err == nil {
		t.Skip("the backup finished before it could be interrupted")
	}
	left, _ := os.ReadDir(filepath.Join(b.dir, "backups"))
	for _, e := range left {
		t.Errorf("left behind in the destination: %s", e.Name())
	}
	a := b.create(t, Dir{Path: src})
	list, err := b.dest.List(b.ctx)
	if err != nil || len(list) != 1 || list[0].ID != a.ID {
		t.Errorf("list = %+v, %v; want the finished archive alone", list, err)
	}
}

// cancelAfter cancels once n bytes of progress text were written, a way to stop a backup
// mid-way.
type cancelAfter struct {
	n      int
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.cancel()
	return len(p), nil
}
