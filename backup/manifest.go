package backup

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// FormatVersion is the version of the archive layout written by this package.
const FormatVersion = 1

// ManifestEntry is the name of the manifest's copy inside an archive (its last entry).
const ManifestEntry = "sunset-manifest.json"

// Manifest describes an archive: every entry, the source, who made it and when.
type Manifest struct {
	Format  int       `json:"format"`
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Tool    string    `json:"tool"`
	Created time.Time `json:"created"`
	Source  Metadata  `json:"source"`
	Entries []Entry   `json:"entries"`
	// Bytes is the total size of the entries' contents.
	Bytes int64 `json:"bytes"`
}

// Metadata says what was backed up. It never holds a secret: a PostgreSQL source is described by
// host and database name, not by its DSN.
type Metadata struct {
	// Kind is dir, sqlite, postgres or http.
	Kind string `json:"kind"`
	// Location is the directory, file, host/database or URL that was read.
	Location string `json:"location"`
	// Tables holds the row count of every table at the instant of the copy (sqlite, postgres).
	Tables map[string]int64 `json:"tables,omitempty"`
	// ContentType is the HTTP source's answer type.
	ContentType string `json:"content_type,omitempty"`
}

// Entry is one file, directory or link in an archive.
type Entry struct {
	Path   string `json:"path"`
	Type   string `json:"type"` // file, dir or symlink
	Mode   uint32 `json:"mode"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Link   string `json:"link,omitempty"`
	// Offset is where, in the compressed archive, the zstd frame holding the entry's header starts.
	Offset int64 `json:"offset"`
}

// Envelope is the signed manifest as stored next to an archive. Signature is hex HMAC-SHA256 of
// the manifest's JSON bytes, followed by "\n" and the archive's hash when Archive is set.
type Envelope struct {
	Manifest  json.RawMessage `json:"manifest"`
	Archive   *ArchiveSum     `json:"archive,omitempty"`
	Signature string          `json:"signature"`
}

// ArchiveSum is the size and SHA-256 of the compressed archive.
type ArchiveSum struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Key is the secret that signs manifests.
type Key []byte

// LoadKey reads a key from a reference: env:NAME or file:PATH. The key is at least 16 bytes.
func LoadKey(ref string, getenv func(string) string) (Key, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var raw string
	switch {
	case strings.HasPrefix(ref, "env:"):
		name := strings.TrimPrefix(ref, "env:")
		raw = getenv(name)
		if raw == "" {
			return nil, fmt.Errorf("signing key: environment variable %s is empty; set it to a secret of at least 16 characters", name)
		}
	case strings.HasPrefix(ref, "file:"):
		b, err := os.ReadFile(strings.TrimPrefix(ref, "file:"))
		if err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
		raw = strings.TrimSpace(string(b))
	default:
		return nil, fmt.Errorf("signing key %q: use env:NAME or file:PATH", ref)
	}
	if len(raw) < 16 {
		return nil, errors.New("signing key: shorter than 16 bytes")
	}
	return Key(raw), nil
}

func (k Key) sign(manifest []byte, archive *ArchiveSum) string {
	// Sign the compact form, so that re-indenting the stored JSON does not break the signature.
	var compact bytes.Buffer
	if json.Compact(&compact, manifest) != nil {
		compact.Reset()
		compact.Write(manifest)
	}
	m := hmac.New(sha256.New, k)
	m.Write(compact.Bytes())
	if archive != nil {
		fmt.Fprintf(m, "\n%d:%s", archive.Size, archive.SHA256)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Seal signs m (and the archive's sum, when given) into an Envelope.
func (k Key) Seal(m *Manifest, archive *ArchiveSum) (*Envelope, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &Envelope{Manifest: b, Archive: archive, Signature: k.sign(b, archive)}, nil
}

// ErrSignature means a manifest's signature does not match: the manifest or the archive's
// recorded hash was altered, or the key is not the one that made it.
var ErrSignature = errors.New("the manifest's signature does not match: the manifest was altered or was signed with another key")

// Open checks the envelope's signature and decodes its manifest.
func (k Key) Open(e *Envelope) (*Manifest, error) {
	want := k.sign(e.Manifest, e.Archive)
	if !hmac.Equal([]byte(want), []byte(e.Signature)) {
		return nil, ErrSignature
	}
	var m Manifest
	if err := json.Unmarshal(e.Manifest, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}
