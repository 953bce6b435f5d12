package backup

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for row counts
	_ "modernc.org/sqlite"             // database/sql driver "sqlite", pure Go
)

// Source takes a consistent copy of one data source.
type Source interface {
	// Snapshot copies the source into scratch, an empty directory it may fill, and returns the
	// directory whose tree is archived (scratch itself, or the source directory when reading it
	// in place is safe) with the source's metadata.
	Snapshot(ctx context.Context, scratch string) (root string, meta Metadata, err error)
}

// ParseSource reads a --source value: dir:PATH, sqlite:PATH, postgres:DSN (or a postgres:// URL)
// or http:URL (or an http:// or https:// URL).
func ParseSource(s string) (Source, error) {
	switch {
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return Postgres{DSN: s}, nil
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		return HTTP{URL: s}, nil
	}
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return nil, fmt.Errorf("source %q: use dir:PATH, sqlite:PATH, postgres:DSN or http:URL", s)
	}
	switch kind {
	case "dir":
		return Dir{Path: rest}, nil
	case "sqlite":
		return SQLite{Path: rest}, nil
	case "postgres":
		return Postgres{DSN: rest}, nil
	case "http":
		return HTTP{URL: rest}, nil
	}
	return nil, fmt.Errorf("source %q: unknown kind %q; use dir, sqlite, postgres or http", s, kind)
}

// Dir backs up a directory tree as it is read. For a live directory, stop the writers first (a
// runbook puts the service in read_only before its final backup).
type Dir struct{ Path string }

// Snapshot returns the directory itself: it is read in place.
func (d Dir) Snapshot(ctx context.Context, scratch string) (string, Metadata, error) {
	abs, err := filepath.Abs(d.Path)
	if err != nil {
		return "", Metadata{}, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", Metadata{}, fmt.Errorf("source dir: %w", err)
	}
	if !fi.IsDir() {
		return "", Metadata{}, fmt.Errorf("source dir: %s is not a directory", abs)
	}
	return abs, Metadata{Kind: "dir", Location: abs}, nil
}

// SQLite backs up a SQLite database with VACUUM INTO: a consistent copy taken online, while
// other connections keep reading and writing.
type SQLite struct{ Path string }

// Snapshot copies the database into scratch and counts the rows of every table in the copy.
func (s SQLite) Snapshot(ctx context.Context, scratch string) (string, Metadata, error) {
	abs, err := filepath.Abs(s.Path)
	if err != nil {
		return "", Metadata{}, err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", Metadata{}, fmt.Errorf("source sqlite: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+abs+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return "", Metadata{}, err
	}
	defer db.Close()
	copyPath := filepath.Join(scratch, filepath.Base(abs))
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", copyPath); err != nil {
		return "", Metadata{}, fmt.Errorf("source sqlite %s: VACUUM INTO: %w", abs, err)
	}
	tables, err := sqliteCounts(ctx, copyPath)
	if err != nil {
		return "", Metadata{}, err
	}
	return scratch, Metadata{Kind: "sqlite", Location: abs, Tables: tables}, nil
}

// sqliteCounts checks the database at path (PRAGMA integrity_check) and counts the rows of each
// of its tables.
func sqliteCounts(ctx context.Context, path string) (map[string]int64, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var ok string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil {
		return nil, fmt.Errorf("sqlite %s: integrity_check: %w", filepath.Base(path), err)
	}
	if ok != "ok" {
		return nil, fmt.Errorf("sqlite %s: integrity_check: %s", filepath.Base(path), ok)
	}
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	counts := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(n, `"`, `""`)+`"`).Scan(&c); err != nil {
			return nil, fmt.Errorf("sqlite %s: count %s: %w", filepath.Base(path), n, err)
		}
		counts[n] = c
	}
	return counts, nil
}

// Postgres backs up a PostgreSQL database with pg_dump's custom format (-Fc). The row counts are
// taken in the very snapshot pg_dump reads (pg_export_snapshot), so they match the dump exactly.
type Postgres struct {
	DSN string
	// PgDump is the pg_dump binary; "pg_dump" on PATH by default.
	PgDump string
}

// Snapshot dumps the database into scratch/DBNAME.pgdump.
func (p Postgres) Snapshot(ctx context.Context, scratch string) (string, Metadata, error) {
	u, err := url.Parse(p.DSN)
	if err != nil {
		return "", Metadata{}, fmt.Errorf("source postgres: the DSN is not a URL")
	}
	dbname := strings.TrimPrefix(u.Path, "/")
	meta := Metadata{Kind: "postgres", Location: u.Hostname() + "/" + dbname}
	db, err := sql.Open("pgx", p.DSN)
	if err != nil {
		return "", Metadata{}, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", Metadata{}, fmt.Errorf("source postgres %s: %w", meta.Location, err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return "", Metadata{}, err
	}
	defer tx.Rollback()
	var snap string
	if err := tx.QueryRowContext(ctx, "SELECT pg_export_snapshot()").Scan(&snap); err != nil {
		return "", Metadata{}, fmt.Errorf("source postgres %s: export snapshot: %w", meta.Location, err)
	}
	meta.Tables, err = pgCounts(ctx, tx)
	if err != nil {
		return "", Metadata{}, err
	}
	bin := p.PgDump
	if bin == "" {
		bin = "pg_dump"
	}
	out := filepath.Join(scratch, safeName(dbname)+".pgdump")
	cmd := exec.CommandContext(ctx, bin, "-Fc", "--snapshot="+snap, "--no-password", "-f", out, "--dbname="+p.DSN)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", Metadata{}, fmt.Errorf("source postgres %s: pg_dump: %v: %s", meta.Location, err, strings.TrimSpace(stderr.String()))
	}
	return scratch, meta, nil
}

type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// pgCounts counts the rows of every ordinary table outside the system schemas.
func pgCounts(ctx context.Context, q queryer) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename), schemaname || '.' || tablename
		FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 2`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tables: %w", err)
	}
	type tbl struct{ quoted, name string }
	var list []tbl
	for rows.Next() {
		var t tbl
		if err := rows.Scan(&t.quoted, &t.name); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, t)
	}
	rows.Close()
	counts := map[string]int64{}
	for _, t := range list {
		var c int64
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+t.quoted).Scan(&c); err != nil {
			return nil, fmt.Errorf("postgres: count %s: %w", t.name, err)
		}
		counts[t.name] = c
	}
	return counts, nil
}

// HTTP backs up what an export endpoint answers to a GET.
type HTTP struct {
	URL    string
	Client *http.Client
}

// Snapshot saves the answer's body as scratch/export (or the URL's last path element).
func (h HTTP) Snapshot(ctx context.Context, scratch string) (string, Metadata, error) {
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", Metadata{}, fmt.Errorf("source http %q: not an http(s) URL", h.URL)
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return "", Metadata{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", Metadata{}, fmt.Errorf("source http: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", Metadata{}, fmt.Errorf("source http %s: answered %s", u.Redacted(), resp.Status)
	}
	name := safeName(filepath.Base(u.Path))
	if name == "" || name == "." || name == "_" {
		name = "export"
	}
	f, err := os.Create(filepath.Join(scratch, name))
	if err != nil {
		return "", Metadata{}, err
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", Metadata{}, fmt.Errorf("source http %s: %w", u.Redacted(), err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return "", Metadata{}, fmt.Errorf("source http %s: got %d of %d bytes", u.Redacted(), n, resp.ContentLength)
	}
	u.RawQuery = "" // a query may carry a token
	return scratch, Metadata{Kind: "http", Location: u.Redacted(), ContentType: resp.Header.Get("Content-Type")}, nil
}

// safeName keeps letters, digits, dot, dash and underscore.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
