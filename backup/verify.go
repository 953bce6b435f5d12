package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"database/sql"

	"github.com/klauspost/compress/zstd"
)

// Problem is one thing wrong with an archive, named by the entry it concerns ("" for the archive
// as a whole).
type Problem struct {
	Entry   string `json:"entry,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Entry == "" {
		return p.Message
	}
	return p.Entry + ": " + p.Message
}

// Report is what Verify found.
type Report struct {
	ID       string     `json:"id"`
	Manifest *Manifest  `json:"-"`
	Entries  int        `json:"entries"`
	Bytes    int64      `json:"bytes"`
	Checks   []string   `json:"checks"`
	Problems []Problem  `json:"problems,omitempty"`
	Archive  ArchiveSum `json:"archive"`
}

// Err returns nil when the archive verified, or an error naming every problem.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	lines := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		lines[i] = "  " + p.String()
	}
	return fmt.Errorf("archive %s is damaged (%d problems):\n%s", r.ID, len(r.Problems), strings.Join(lines, "\n"))
}

// VerifyOptions configure Verify and Restore.
type VerifyOptions struct {
	Key      Key
	Progress io.Writer
	// TempDir holds the scratch restore; os.TempDir() when empty.
	TempDir string
	// PostgresScratch is a DSN of a PostgreSQL server where Verify may create (and drop) a
	// scratch database to pg_restore a postgres archive into. Without it a postgres archive's
	// restore check is a problem: it was not shown to restore.
	PostgresScratch string
	// PgRestore is the pg_restore binary; "pg_restore" on PATH by default.
	PgRestore string
}

// Verify re-reads the archive id and its manifest: it checks the manifest's signature, the
// archive's size and SHA-256, every entry's size and SHA-256; then it restores the archive into
// a scratch place and checks the result (the tree against the manifest; a SQLite database with
// integrity_check and the row count of every table; a PostgreSQL dump by pg_restore into a
// scratch database and row counts). Damage is reported as Problems naming the entry; the error
// is for failures to read at all.
func Verify(ctx context.Context, d *Dest, id string, o VerifyOptions) (*Report, error) {
	scratch, err := os.MkdirTemp(o.TempDir, "sunset-verify-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	r, err := extract(ctx, d, id, scratch, o)
	if err != nil || len(r.Problems) > 0 {
		return r, err
	}
	checkRestored(ctx, r, scratch, o)
	return r, nil
}

// Restore extracts the archive id, verified entry by entry, to its target: a directory (dir,
// http), a database file path (sqlite) or a PostgreSQL DSN (postgres). It refuses to overwrite
// an existing file or a non-empty directory.
func Restore(ctx context.Context, d *Dest, id, to string, o VerifyOptions) (*Report, error) {
	env, err := d.ReadEnvelope(ctx, id)
	if err != nil {
		return nil, err
	}
	m, err := o.Key.Open(env)
	if err != nil {
		return nil, err
	}
	switch m.Source.Kind {
	case "dir", "http":
		if ents, err := os.ReadDir(to); err == nil && len(ents) > 0 {
			return nil, fmt.Errorf("restore: %s is not empty; restore into a new directory", to)
		}
		if err := os.MkdirAll(to, 0o755); err != nil {
			return nil, err
		}
		return extractVerified(ctx, d, id, to, o)
	case "sqlite":
		if _, err := os.Stat(to); err == nil {
			return nil, fmt.Errorf("restore: %s exists; restore to a new path", to)
		}
		// Next to the target, so that the rename into place stays on one file system.
		r, db, dir, err := extractSingle(ctx, d, id, filepath.Dir(to), o)
		defer os.RemoveAll(dir)
		if err != nil {
			return r, err
		}
		return r, os.Rename(db, to)
	case "postgres":
		r, dump, dir, err := extractSingle(ctx, d, id, o.TempDir, o)
		defer os.RemoveAll(dir)
		if err != nil {
			return r, err
		}
		return r, pgRestore(ctx, o.PgRestore, dump, to)
	}
	return nil, fmt.Errorf("restore: unknown source kind %q", m.Source.Kind)
}

// extractVerified extracts the archive into dir and fails when any entry did not verify.
func extractVerified(ctx context.Context, d *Dest, id, dir string, o VerifyOptions) (*Report, error) {
	r, err := extract(ctx, d, id, dir, o)
	if err == nil {
		err = r.Err()
	}
	return r, err
}

// extractSingle extracts an archive of one file (a database copy or dump) into a new folder
// under parent and returns the file and the folder, which the caller removes ("" when none was
// made).
func extractSingle(ctx context.Context, d *Dest, id, parent string, o VerifyOptions) (r *Report, file, dir string, err error) {
	dir, err = os.MkdirTemp(parent, ".sunset-restore-")
	if err != nil {
		return nil, "", "", err
	}
	if r, err = extractVerified(ctx, d, id, dir, o); err != nil {
		return r, "", dir, err
	}
	file, err = onlyFile(dir)
	return r, file, dir, err
}

// onlyFile returns the one regular file under dir (a database archive holds exactly one).
func onlyFile(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err == nil && de.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	if len(files) != 1 {
		return "", fmt.Errorf("a database archive holds %d files, want 1", len(files))
	}
	return files[0], nil
}

// hashReader hashes and counts what is read through it.
type hashReader struct {
	r io.Reader
	n int64
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.n += int64(n)
	h.h.Write(p[:n])
	return n, err
}

// extract streams the archive once: it checks the signature, hashes the compressed bytes, and
// writes each entry listed in the manifest under dst while hashing it.
func extract(ctx context.Context, d *Dest, id, dst string, o VerifyOptions) (*Report, error) {
	r := &Report{ID: id}
	env, m, err := openManifest(ctx, d, id, o.Key, r)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return r, nil
	}
	br, err := d.Bucket.NewReader(ctx, id+ArchiveSuffix)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", d.Location(id), err)
	}
	defer br.Close()
	hr := &hashReader{r: br, h: sha256.New()}
	dec, err := zstd.NewReader(hr, zstd.WithDecoderConcurrency(2))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	prog := startProgress(o.Progress, "verify "+id, m.Bytes)
	defer prog.finish()
	x := &extraction{r: r, env: env, m: m, key: o.Key, dst: dst, hr: hr, prog: prog, seen: map[string]bool{}, buf: make([]byte, 1<<20)}
	if err := x.entries(ctx, tar.NewReader(dec)); err != nil {
		return nil, err
	}
	// Decode to the end, so the last frame's checksum is checked too, then read to the end so
	// the archive's hash covers every byte.
	if len(r.Problems) == 0 {
		if _, err := io.Copy(io.Discard, dec); err != nil {
			r.Problems = append(r.Problems, damaged(ManifestEntry, hr.n, err))
		}
	}
	if _, err := io.Copy(io.Discard, hr); err != nil {
		return nil, err
	}
	x.missing()
	if !x.sawManifest && len(r.Problems) == 0 {
		r.Problems = append(r.Problems, Problem{Entry: ManifestEntry, Message: "the archive's copy of the manifest is missing"})
	}
	r.Archive = ArchiveSum{Size: hr.n, SHA256: hex.EncodeToString(hr.h.Sum(nil))}
	if env.Archive != nil && (env.Archive.Size != r.Archive.Size || env.Archive.SHA256 != r.Archive.SHA256) {
		msg := fmt.Sprintf("the archive's bytes differ from the manifest (size %d, sha256 %s…; recorded %d, %s…)",
			r.Archive.Size, r.Archive.SHA256[:16], env.Archive.Size, env.Archive.SHA256[:16])
		r.Problems = append(r.Problems, Problem{Entry: id + ArchiveSuffix, Message: msg})
	}
	r.Checks = append(r.Checks, fmt.Sprintf("archive sha256 (%s)", FormatSize(r.Archive.Size)), fmt.Sprintf("%d entries, %s, each sha256", r.Entries, FormatSize(r.Bytes)))
	return r, nil
}

// openManifest reads the archive's manifest and checks its signature. A manifest that is
// damaged or not signed by key is a problem in r, and then the manifest returned is nil.
func openManifest(ctx context.Context, d *Dest, id string, key Key, r *Report) (*Envelope, *Manifest, error) {
	env, err := d.ReadEnvelope(ctx, id)
	var dm *DamagedManifestError
	if errors.As(err, &dm) {
		r.Problems = append(r.Problems, Problem{Entry: id + ManifestSuffix, Message: dm.Error()})
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := key.Open(env)
	if err != nil {
		r.Problems = append(r.Problems, Problem{Entry: id + ManifestSuffix, Message: err.Error()})
		return nil, nil, nil
	}
	r.Manifest = m
	r.Checks = append(r.Checks, "manifest signature")
	return env, m, nil
}

// extraction is one pass of extract over an archive's entries.
type extraction struct {
	r    *Report
	env  *Envelope // the manifest as stored beside the archive
	m    *Manifest
	key  Key
	dst  string
	hr   *hashReader // the compressed bytes
	prog *progress
	buf  []byte
	// seen are the entries extracted; current is the last entry whose header was read.
	seen        map[string]bool
	current     string
	sawManifest bool
}

// entries reads every entry of tr: the archive's copy of the manifest is compared with the
// stored one, the others are written under dst and checked against the manifest. Damage stops
// the reading with a problem in the report; the error returned is for what stops extract
// (a cancelled context, a file that cannot be written).
func (x *extraction) entries(ctx context.Context, tr *tar.Reader) error {
	r := x.r
	want := make(map[string]*Entry, len(x.m.Entries))
	for i := range x.m.Entries {
		want[x.m.Entries[i].Path] = &x.m.Entries[i]
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// The header that failed is the one after current, in manifest order.
			r.Problems = append(r.Problems, damaged(nextEntry(x.m, x.current), x.hr.n, err))
			return nil
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		x.current = name
		if name == ManifestEntry {
			x.sawManifest = true
			if !x.manifestCopy(tr, name) {
				return nil
			}
			continue
		}
		e, ok := want[name]
		if !ok {
			r.Problems = append(r.Problems, Problem{Entry: name, Message: "is in the archive but not in the manifest"})
			continue
		}
		if x.seen[name] {
			r.Problems = append(r.Problems, Problem{Entry: name, Message: "appears twice in the archive"})
			continue
		}
		x.seen[name] = true
		r.Entries++
		stop, err := x.entry(tr, hdr, name, e)
		if err != nil || stop {
			return err
		}
	}
}

// manifestCopy checks the archive's copy of the manifest against the stored one. It returns
// false when the stream is damaged there.
func (x *extraction) manifestCopy(tr *tar.Reader, name string) bool {
	r := x.r
	b, err := io.ReadAll(tr)
	if err != nil {
		r.Problems = append(r.Problems, damaged(name, x.hr.n, err))
		return false
	}
	var inner Envelope
	if json.Unmarshal(b, &inner) != nil {
		r.Problems = append(r.Problems, Problem{Entry: name, Message: "the archive's copy of the manifest is not valid JSON"})
	} else if _, err := x.key.Open(&inner); err != nil {
		r.Problems = append(r.Problems, Problem{Entry: name, Message: "the archive's copy of the manifest: " + err.Error()})
	} else if !sameJSON(inner.Manifest, x.env.Manifest) {
		r.Problems = append(r.Problems, Problem{Entry: name, Message: "the archive's copy of the manifest differs from " + r.ID + ManifestSuffix})
	}
	return true
}

// entry writes one entry of the manifest (e) under dst: a directory, a symbolic link, or a file
// whose size and hash are checked. It returns stop when the stream is damaged in it.
func (x *extraction) entry(tr *tar.Reader, hdr *tar.Header, name string, e *Entry) (stop bool, err error) {
	r := x.r
	target := filepath.Join(x.dst, filepath.FromSlash(strings.TrimPrefix(name, "data/")))
	switch e.Type {
	case "dir":
		return false, os.MkdirAll(target, 0o755)
	case "symlink":
		if hdr.Linkname != e.Link {
			r.Problems = append(r.Problems, Problem{Entry: name, Message: fmt.Sprintf("links to %q, the manifest says %q", hdr.Linkname, e.Link)})
		}
		_ = os.MkdirAll(filepath.Dir(target), 0o755)
		return false, os.Symlink(e.Link, target)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return false, err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, os.FileMode(e.Mode)|0o200)
	if err != nil {
		return false, err
	}
	h := sha256.New()
	n, err := io.CopyBuffer(f, io.TeeReader(&progressReader{tr, x.prog}, h), x.buf)
	if cerr := f.Close(); cerr != nil && err == nil {
		return false, cerr
	}
	if err != nil {
		r.Problems = append(r.Problems, damaged(name, x.hr.n, err))
		return true, nil
	}
	r.Bytes += n
	switch got := hex.EncodeToString(h.Sum(nil)); {
	case n != e.Size:
		r.Problems = append(r.Problems, Problem{Entry: name, Message: fmt.Sprintf("holds %d bytes, the manifest says %d", n, e.Size)})
	case got != e.SHA256:
		r.Problems = append(r.Problems, Problem{Entry: name, Message: fmt.Sprintf("content differs from the manifest (sha256 %s, want %s)", got[:16], e.SHA256[:16])})
	}
	return false, nil
}

// missing reports the manifest's entries that were neither extracted nor named by a problem
// already (at most 20 of them, then how many more).
func (x *extraction) missing() {
	r := x.r
	named := map[string]bool{}
	for _, p := range r.Problems {
		named[p.Entry] = true
	}
	var missing []string
	for _, e := range x.m.Entries {
		if !x.seen[e.Path] && !named[e.Path] {
			missing = append(missing, e.Path)
		}
	}
	sort.Strings(missing)
	for i, p := range missing {
		if i == 20 {
			r.Problems = append(r.Problems, Problem{Message: fmt.Sprintf("and %d more entries could not be read", len(missing)-20)})
			break
		}
		r.Problems = append(r.Problems, Problem{Entry: p, Message: "is in the manifest but could not be read from the archive"})
	}
}

// damaged describes a failure to decode the stream while reading entry (the entry just before,
// when the failure is in a tar header).
func damaged(entry string, at int64, err error) Problem {
	var msg string
	switch {
	case errors.Is(err, zstd.ErrCRCMismatch), errors.Is(err, zstd.ErrMagicMismatch), strings.Contains(err.Error(), "zstd"), strings.Contains(err.Error(), "block"):
		msg = fmt.Sprintf("the compressed stream is damaged in this entry (near compressed byte %d): %v", at, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = fmt.Sprintf("the archive ends in this entry (at compressed byte %d): truncated", at)
	default:
		msg = fmt.Sprintf("cannot be read (near compressed byte %d): %v", at, err)
	}
	if entry == "" {
		entry = "(first entry)"
	}
	return Problem{Entry: entry, Message: msg}
}

// checkRestored checks what extract wrote into scratch, by kind.
func checkRestored(ctx context.Context, r *Report, scratch string, o VerifyOptions) {
	m := r.Manifest
	switch m.Source.Kind {
	case "sqlite":
		db, err := onlyFile(scratch)
		if err != nil {
			r.Problems = append(r.Problems, Problem{Message: err.Error()})
			return
		}
		counts, err := sqliteCounts(ctx, db)
		if err != nil {
			r.Problems = append(r.Problems, Problem{Entry: "data/" + filepath.Base(db), Message: "restored database: " + err.Error()})
			return
		}
		compareCounts(r, "data/"+filepath.Base(db), m.Source.Tables, counts)
		r.Checks = append(r.Checks, fmt.Sprintf("restored SQLite: integrity_check ok, %d tables' row counts match", len(counts)))
	case "postgres":
		dump, err := onlyFile(scratch)
		if err != nil {
			r.Problems = append(r.Problems, Problem{Message: err.Error()})
			return
		}
		entry := "data/" + filepath.Base(dump)
		if o.PostgresScratch == "" {
			r.Problems = append(r.Problems, Problem{Entry: entry, Message: "not restored: give a PostgreSQL server for a scratch database (--scratch-postgres DSN)"})
			return
		}
		counts, err := pgScratchRestore(ctx, o, dump)
		if err != nil {
			r.Problems = append(r.Problems, Problem{Entry: entry, Message: err.Error()})
			return
		}
		compareCounts(r, entry, m.Source.Tables, counts)
		r.Checks = append(r.Checks, fmt.Sprintf("pg_restore into a scratch database, %d tables' row counts match", len(counts)))
	default:
		var files int
		for _, e := range m.Entries {
			target := filepath.Join(scratch, filepath.FromSlash(strings.TrimPrefix(e.Path, "data/")))
			fi, err := os.Lstat(target)
			switch {
			case err != nil:
				r.Problems = append(r.Problems, Problem{Entry: e.Path, Message: "missing after restore"})
			case e.Type == "file" && fi.Size() != e.Size:
				r.Problems = append(r.Problems, Problem{Entry: e.Path, Message: fmt.Sprintf("restored with %d bytes, want %d", fi.Size(), e.Size)})
			default:
				files++
			}
		}
		r.Checks = append(r.Checks, fmt.Sprintf("restored tree matches the manifest (%d entries)", files))
	}
}

func compareCounts(r *Report, entry string, want, got map[string]int64) {
	for t, n := range want {
		if g, ok := got[t]; !ok {
			r.Problems = append(r.Problems, Problem{Entry: entry, Message: fmt.Sprintf("table %s is missing after restore", t)})
		} else if g != n {
			r.Problems = append(r.Problems, Problem{Entry: entry, Message: fmt.Sprintf("table %s has %d rows after restore, %d when backed up", t, g, n)})
		}
	}
	for t := range got {
		if _, ok := want[t]; !ok {
			r.Problems = append(r.Problems, Problem{Entry: entry, Message: fmt.Sprintf("table %s appears after restore but was not backed up", t)})
		}
	}
}

// pgScratchRestore creates a scratch database on o.PostgresScratch's server, restores dump into
// it, counts rows, and drops it.
func pgScratchRestore(ctx context.Context, o VerifyOptions, dump string) (map[string]int64, error) {
	u, err := url.Parse(o.PostgresScratch)
	if err != nil {
		return nil, errors.New("the scratch PostgreSQL DSN is not a URL")
	}
	admin, err := sql.Open("pgx", o.PostgresScratch)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := "sunset_verify_" + hex.EncodeToString(rnd[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create scratch database: %w", err)
	}
	defer func() {
		_, _ = admin.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}()
	su := *u
	su.Path = "/" + name
	if err := pgRestore(ctx, o.PgRestore, dump, su.String()); err != nil {
		return nil, err
	}
	db, err := sql.Open("pgx", su.String())
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return pgCounts(ctx, db)
}

func pgRestore(ctx context.Context, bin, dump, dsn string) error {
	if bin == "" {
		bin = "pg_restore"
	}
	cmd := exec.CommandContext(ctx, bin, "--no-owner", "--no-privileges", "--exit-on-error", "--no-password", "--dbname="+dsn, dump)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_restore: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// sameJSON reports whether a and b are the same JSON text up to insignificant white space.
func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// nextEntry returns the entry written after current ("" for the first): the archive holds the
// manifest's entries in order, then the manifest's copy.
func nextEntry(m *Manifest, current string) string {
	if current == "" {
		if len(m.Entries) > 0 {
			return m.Entries[0].Path
		}
		return ManifestEntry
	}
	for i, e := range m.Entries {
		if e.Path == current {
			if i+1 < len(m.Entries) {
				return m.Entries[i+1].Path
			}
			return ManifestEntry
		}
	}
	return "the entry after " + current
}
