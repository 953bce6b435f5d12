package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Suffixes of the two objects that make an archive at its destination.
const (
	ArchiveSuffix  = ".tar.zst"
	ManifestSuffix = ".manifest.json"
)

// Dest is where archives are kept: a local directory (a path or file://), an S3 bucket
// (AWS S3 or an S3-compatible store; see OpenDest), or memory (mem://, for tests).
type Dest struct {
	// URL names the bucket as the user gave it, without its query (driver options).
	URL    string
	Bucket *Bucket
	// query is the query the user gave (s3's endpoint and region), kept in locations so that
	// a printed location opens the same bucket again.
	query string
}

// OpenDest opens a destination: a local directory path, a file:// URL, an s3:// URL, or mem://
// (a new, empty bucket in memory, for tests). Local directories are created when missing; files
// are written to a temporary name and renamed, so an interrupted backup never leaves a half
// archive under the final name, and no key leads out of the directory.
//
// An S3 destination is s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION]: PREFIX is a folder in
// the bucket; endpoint names an S3-compatible store (MinIO, Ceph, …; path-style addressing is
// then the default, use_path_style=false turns it off, and checksums are sent and checked only
// where S3 requires them: request_checksum_calculation and response_checksum_validation set to
// when_supported turn them on); region defaults to AWS_REGION, then AWS_DEFAULT_REGION, then
// the bucket's own. Credentials come from the usual AWS places: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, ~/.aws (profile= or AWS_PROFILE picks the profile), or the instance's
// or container's role; anonymous=true sends none. An S3 upload is complete or absent.
func OpenDest(ctx context.Context, dest string) (*Dest, error) {
	if dest == "" {
		return nil, errors.New("no destination: give --to file:///path or a directory")
	}
	if !strings.Contains(dest, "://") {
		abs, err := filepath.Abs(dest)
		if err != nil {
			return nil, err
		}
		s, err := openDir(abs)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", abs, err)
		}
		return &Dest{URL: "file://" + abs, Bucket: &Bucket{s}}, nil
	}
	u, err := url.Parse(dest)
	if err != nil {
		return nil, fmt.Errorf("destination %q: %w", dest, err)
	}
	clean := *u
	clean.RawQuery = ""
	s, err := openStore(u)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", clean.String(), err)
	}
	return &Dest{URL: strings.TrimSuffix(clean.String(), "/"), Bucket: &Bucket{s}, query: u.RawQuery}, nil
}

// openStore opens the store a destination URL names.
func openStore(u *url.URL) (objectStore, error) {
	switch u.Scheme {
	case "file":
		// Parameters of the former driver (gocloud's fileblob) are accepted and do nothing:
		// the directory is always created and written without side files.
		for k := range u.Query() {
			if k != "create_dir" && k != "no_tmp_dir" && k != "metadata" {
				return nil, fmt.Errorf("unknown query parameter %q", k)
			}
		}
		path := u.Path
		if u.Host == "." { // file://./backups is relative
			path = strings.TrimPrefix(path, "/")
		} else if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("a file URL names a folder of this machine: file:///PATH (three slashes), not host %q", u.Host)
		}
		if path == "" {
			return nil, errors.New("no folder: write file:///PATH")
		}
		return openDir(filepath.FromSlash(path))
	case "mem":
		for k := range u.Query() {
			if k != "nomd5" {
				return nil, fmt.Errorf("unknown query parameter %q", k)
			}
		}
		return &memStore{}, nil
	case "s3":
		o, err := parseS3URL(u, os.Getenv)
		if err != nil {
			return nil, err
		}
		return openS3(o, os.Getenv)
	}
	return nil, fmt.Errorf("unknown kind of destination %q: give a directory, file:///PATH or s3://BUCKET/PREFIX", u.Scheme+"://")
}

// create opens key for writing (see objectWriter): on a local destination, a temporary file
// synced to disk and renamed into place, then its folder synced, so that a backup reported done
// survives a power cut; on S3, a multipart upload that appears only once it completes.
func (d *Dest) create(ctx context.Context, key, contentType string) (objectWriter, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return d.Bucket.store.create(ctx, key, contentType)
}

// writeFile writes b as key, durably on a local destination (see create).
func (d *Dest) writeFile(ctx context.Context, key string, b []byte, contentType string) error {
	return d.Bucket.WriteAll(ctx, key, b, contentType)
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
		if errors.Is(err, fs.ErrNotExist) {
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
	for key, err := range d.Bucket.List(ctx) {
		if err != nil {
			return nil, err
		}
		if !strings.HasSuffix(key, ManifestSuffix) {
			continue
		}
		id := strings.TrimSuffix(key, ManifestSuffix)
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
