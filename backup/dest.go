package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob" // mem:// buckets, for tests
	_ "gocloud.dev/blob/s3blob"  // s3:// buckets: AWS S3 and S3-compatible stores
	"gocloud.dev/gcerrors"
)

// Suffixes of the two objects that make an archive at its destination.
const (
	ArchiveSuffix  = ".tar.zst"
	ManifestSuffix = ".manifest.json"
)

// Dest is where archives are kept: a gocloud.dev/blob bucket — a local path, file://, or s3://
// (AWS S3 or an S3-compatible store; see OpenDest).
type Dest struct {
	// URL names the bucket as the user gave it, without its query (driver options).
	URL    string
	Bucket *blob.Bucket
	// query is the query the user gave (s3's endpoint and region), kept in locations so that
	// a printed location opens the same bucket again.
	query string
	// dir is the directory of a local destination (a path or file://), written by the os
	// directly (see create); empty for other buckets.
	dir string
}

// OpenDest opens a destination: a local directory path, a file:// URL, an s3:// URL or any URL
// blob can open. Local directories are created when missing; files are written to a temporary
// name and renamed, so an interrupted backup never leaves a half archive under the final name.
//
// An S3 destination is s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION]: PREFIX is a folder in
// the bucket; endpoint names an S3-compatible store (MinIO, Ceph, …; path-style addressing is
// then the default, use_path_style=false turns it off, and checksums are sent and checked only
// where S3 requires them); region defaults to AWS_REGION.
// Credentials come from the usual AWS places: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
// ~/.aws, or the instance role; anonymous=true sends none. An S3 upload is complete or absent.
func OpenDest(ctx context.Context, dest string) (*Dest, error) {
	if dest == "" {
		return nil, errors.New("no destination: give --to file:///path or a directory")
	}
	if !strings.Contains(dest, "://") {
		abs, err := filepath.Abs(dest)
		if err != nil {
			return nil, err
		}
		b, err := fileblob.OpenBucket(abs, &fileblob.Options{CreateDir: true, NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", abs, err)
		}
		return &Dest{URL: "file://" + abs, Bucket: b, dir: abs}, nil
	}
	u, err := url.Parse(dest)
	if err != nil {
		return nil, fmt.Errorf("destination %q: %w", dest, err)
	}
	clean := *u
	clean.RawQuery = ""
	query := u.RawQuery
	if u.Scheme == "s3" {
		s3URL(u)
	}
	if u.Scheme == "file" {
		q := u.Query()
		for k, v := range map[string]string{"create_dir": "1", "no_tmp_dir": "1", "metadata": "skip"} {
			if q.Get(k) == "" {
				q.Set(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", clean.String(), err)
	}
	d := &Dest{URL: strings.TrimSuffix(clean.String(), "/"), Bucket: b, query: query}
	if u.Scheme == "file" {
		d.dir = filepath.FromSlash(u.Path)
	}
	return d, nil
}

// objectWriter writes one object of a destination: it is in place under its key only once
// Close returns nil; Abort drops what was written, leaving nothing under the key.
type objectWriter interface {
	io.Writer
	Close() error
	Abort()
}

// create opens key for writing. A local destination is written by the os directly: a
// temporary file in the destination's folder, synced to disk and renamed into place, then the
// folder synced — so a backup reported done survives a power cut, and no one pays fileblob's
// MD5 of every byte (the archive has its own SHA-256). Other buckets get blob's writer, which
// drops a write whose context ended before Close.
func (d *Dest) create(ctx context.Context, key string) (objectWriter, error) {
	if d.dir == "" {
		ctx, cancel := context.WithCancel(ctx)
		w, err := d.Bucket.NewWriter(ctx, key, nil)
		if err != nil {
			cancel()
			return nil, err
		}
		return &blobWriter{Writer: w, cancel: cancel}, nil
	}
	final := filepath.Join(d.dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &localWriter{f: f, final: final}, nil
}

// writeFile writes b as key, durably on a local destination (see create).
func (d *Dest) writeFile(ctx context.Context, key string, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w, err := d.create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// blobWriter is a blob writer whose Abort ends its context, so that blob drops the write.
type blobWriter struct {
	*blob.Writer
	cancel context.CancelFunc
}

// Close puts the object in place.
func (w *blobWriter) Close() error {
	defer w.cancel()
	return w.Writer.Close()
}

// Abort drops the object.
func (w *blobWriter) Abort() {
	w.cancel()
	_ = w.Writer.Close() // fails: its context ended
}

// localWriter writes one archive of a local destination (see Dest.create).
type localWriter struct {
	f     *os.File
	final string
}

func (w *localWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

// Close syncs the file, renames it into place and syncs its folder.
func (w *localWriter) Close() error {
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.final)
	}
	if err != nil {
		os.Remove(w.f.Name())
		return err
	}
	dir, err := os.Open(filepath.Dir(w.final))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// Abort drops what was written.
func (w *localWriter) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// s3URL turns s3://BUCKET/PREFIX?… into the form s3blob reads: the prefix as a query parameter
// (a folder, ending in /), and path-style addressing when an endpoint is named.
func s3URL(u *url.URL) {
	q := u.Query()
	if prefix := strings.Trim(u.Path, "/"); prefix != "" && q.Get("prefix") == "" {
		q.Set("prefix", prefix+"/")
	}
	u.Path, u.RawPath = "", ""
	if q.Get("endpoint") != "" {
		if q.Get("use_path_style") == "" && q.Get("s3ForcePathStyle") == "" {
			q.Set("use_path_style", "true")
		}
		// S3-compatible stores often lack the newer CRC checksums (the SDK then warns on every
		// read); the archive carries its own SHA-256 and manifest anyway.
		for _, k := range []string{"request_checksum_calculation", "response_checksum_validation"} {
			if q.Get(k) == "" {
				q.Set(k, "when_required")
			}
		}
	}
	u.RawQuery = q.Encode()
}

// Close closes the bucket.
func (d *Dest) Close() error { return d.Bucket.Close() }

// Location returns where the archive id is kept, e.g. file:///var/backups/main-db-….tar.zst or
// s3://bucket/orders/main-db-….tar.zst?endpoint=…, with the query the destination was opened
// with, so that it can be given to verify and restore as it is.
func (d *Dest) Location(id string) string {
	loc := d.URL + "/" + id + ArchiveSuffix
	if d.query != "" {
		loc += "?" + d.query
	}
	return loc
}

// ResolveArchive splits ARCHIVE — an id, a local path to ID.tar.zst or ID.manifest.json, or a URL
// to one — into the destination that holds it and its id. A bare id is looked up in defaultDest.
func ResolveArchive(archive, defaultDest string) (dest, id string, err error) {
	if before, query, ok := strings.Cut(archive, "?"); ok && strings.Contains(before, "://") {
		// A URL's query (an s3 endpoint) belongs to the destination.
		dest, id, err := ResolveArchive(before, defaultDest)
		if err != nil || dest == defaultDest {
			return dest, id, err
		}
		return dest + "?" + query, id, nil
	}
	base := archive
	for _, suf := range []string{ArchiveSuffix, ManifestSuffix} {
		if strings.HasSuffix(archive, suf) {
			i := strings.LastIndex(archive, "/")
			if i < 0 {
				return ".", strings.TrimSuffix(archive, suf), nil
			}
			dir := archive[:i]
			if dir == "" || strings.HasSuffix(dir, ":/") || strings.HasSuffix(dir, "://") {
				dir += "/"
			}
			return dir, strings.TrimSuffix(archive[i+1:], suf), nil
		}
	}
	if strings.ContainsAny(base, "/\\") {
		return "", "", fmt.Errorf("archive %q: give an id, or a path ending in %s", archive, ArchiveSuffix)
	}
	if defaultDest == "" {
		return "", "", fmt.Errorf("archive %q is an id: say where it is kept with --at, or give its path", archive)
	}
	return defaultDest, archive, nil
}

// ReadEnvelope reads the signed manifest of archive id.
func (d *Dest) ReadEnvelope(ctx context.Context, id string) (*Envelope, error) {
	b, err := d.Bucket.ReadAll(ctx, id+ManifestSuffix)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("no archive %s at %s (its manifest %s%s is missing)", id, d.URL, id, ManifestSuffix)
		}
		return nil, err
	}
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, &DamagedManifestError{ID: id, Err: err}
	}
	return &e, nil
}

// Summary is one line of a listing.
type Summary struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Created  time.Time `json:"created"`
	Entries  int       `json:"entries"`
	Bytes    int64     `json:"bytes"`
	Archive  int64     `json:"archive_bytes"`
	Location string    `json:"location"`
	// Problem is set when the manifest could not be read.
	Problem string `json:"problem,omitempty"`
}

// List returns the archives at the destination, newest first. It reads manifests without
// checking signatures; Verify checks.
func (d *Dest) List(ctx context.Context) ([]Summary, error) {
	var out []Summary
	it := d.Bucket.List(nil)
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if !strings.HasSuffix(obj.Key, ManifestSuffix) {
			continue
		}
		id := strings.TrimSuffix(obj.Key, ManifestSuffix)
		s := Summary{ID: id, Location: d.Location(id)}
		env, err := d.ReadEnvelope(ctx, id)
		var m Manifest
		if err == nil {
			err = json.Unmarshal(env.Manifest, &m)
		}
		if err != nil {
			s.Problem = err.Error()
		} else {
			s.Name, s.Kind, s.Created, s.Entries, s.Bytes = m.Name, m.Source.Kind, m.Created, len(m.Entries), m.Bytes
			if env.Archive != nil {
				s.Archive = env.Archive.Size
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// DamagedManifestError means an archive's manifest cannot be decoded at all.
type DamagedManifestError struct {
	ID  string
	Err error
}

func (e *DamagedManifestError) Error() string {
	return fmt.Sprintf("the manifest %s%s is not valid JSON (damaged): %v", e.ID, ManifestSuffix, e.Err)
}
