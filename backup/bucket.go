package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Bucket holds the objects of a destination: archives, manifests and export zips, each under a
// slash-separated key ("ID.tar.zst", "exports/NAME/USER.zip"). A key that is missing is an error
// for which errors.Is(err, fs.ErrNotExist) holds, whatever the store. A Bucket is safe for
// concurrent use.
type Bucket struct {
	store objectStore
}

// objectStore is what a kind of destination provides: a local directory (dirStore), memory
// (memStore) or an S3 bucket (s3Store).
type objectStore interface {
	open(ctx context.Context, key string) (io.ReadCloser, error)
	put(ctx context.Context, key string, data []byte, contentType string) error
	create(ctx context.Context, key, contentType string) (objectWriter, error)
	remove(ctx context.Context, key string) error
	keys(ctx context.Context) iter.Seq2[string, error]
	close() error
}

// objectWriter writes one object of a destination: it is in place under its key only once
// Close returns nil; Abort drops what was written, leaving nothing under the key.
type objectWriter interface {
	io.Writer
	Close() error
	Abort()
}

// NewReader opens key for reading. The caller closes it.
func (b *Bucket) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	return b.store.open(ctx, key)
}

// ReadAll returns the content of key.
func (b *Bucket) ReadAll(ctx context.Context, key string) ([]byte, error) {
	r, err := b.store.open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// WriteAll puts data under key, replacing what was there; contentType may be empty. The object
// is written whole or not at all.
func (b *Bucket) WriteAll(ctx context.Context, key string, data []byte, contentType string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	return b.store.put(ctx, key, data, contentType)
}

// writeVia writes data as key through a store's writer.
func writeVia(ctx context.Context, s objectStore, key string, data []byte, contentType string) error {
	w, err := s.create(ctx, key, contentType)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// Delete removes key.
func (b *Bucket) Delete(ctx context.Context, key string) error { return b.store.remove(ctx, key) }

// List yields every key of the bucket (under the destination's prefix, which keys do not
// include), in no promised order. It stops at the first error, which it yields.
func (b *Bucket) List(ctx context.Context) iter.Seq2[string, error] { return b.store.keys(ctx) }

// Close releases the bucket.
func (b *Bucket) Close() error { return b.store.close() }

// notFound is the error of a missing key.
func notFound(key string) error {
	return &fs.PathError{Op: "open", Path: key, Err: fs.ErrNotExist}
}

// dirStore is a local directory, written by the os directly through an os.Root (so no key
// leaves the directory, through ".." or a symbolic link): a temporary file in the key's folder,
// synced to disk and renamed into place, then the folder synced — so a backup reported done
// survives a power cut, and a half-written file never sits under its final name.
type dirStore struct {
	root *os.Root
}

var _ objectStore = (*dirStore)(nil)

// openDir opens (creating it when missing) the directory dir.
func openDir(dir string) (*dirStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &dirStore{root: root}, nil
}

// tempMarker is in the name of files being written; listings leave them out.
const tempMarker = ".tmp-"

func (s *dirStore) open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := s.root.Open(filepath.FromSlash(key))
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		if err == nil {
			err = notFound(key) // a folder is not an object
		}
		return nil, err
	}
	return f, nil
}

func (s *dirStore) put(ctx context.Context, key string, data []byte, contentType string) error {
	return writeVia(ctx, s, key, data, contentType)
}

func (s *dirStore) create(ctx context.Context, key, _ string) (objectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	final := filepath.FromSlash(key)
	dir := filepath.Dir(final)
	if err := s.root.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, "."+filepath.Base(final)+tempMarker+hex.EncodeToString(rnd[:]))
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &dirWriter{root: s.root, f: f, tmp: tmp, final: final}, nil
}

func (s *dirStore) remove(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.root.Remove(filepath.FromSlash(key))
}

func (s *dirStore) keys(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		err := fs.WalkDir(s.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") && strings.Contains(d.Name(), tempMarker) {
				return nil
			}
			if !yield(p, nil) {
				return fs.SkipAll
			}
			return nil
		})
		if err != nil {
			yield("", err)
		}
	}
}

func (s *dirStore) close() error { return s.root.Close() }

// dirWriter writes one object of a dirStore.
type dirWriter struct {
	root       *os.Root
	f          *os.File
	tmp, final string
}

func (w *dirWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

// Close syncs the file, renames it into place and syncs its folder.
func (w *dirWriter) Close() error {
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.root.Rename(w.tmp, w.final)
	}
	if err != nil {
		w.root.Remove(w.tmp)
		return err
	}
	dir, err := w.root.Open(filepath.Dir(w.final))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// Abort drops what was written.
func (w *dirWriter) Abort() {
	w.f.Close()
	w.root.Remove(w.tmp)
}

// memStore keeps objects in memory, for tests: each mem:// destination opened is a new, empty
// bucket.
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte
}

var _ objectStore = (*memStore)(nil)

func (s *memStore) open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[key]
	if !ok {
		return nil, notFound(key)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (s *memStore) put(ctx context.Context, key string, data []byte, contentType string) error {
	return writeVia(ctx, s, key, data, contentType)
}

func (s *memStore) create(ctx context.Context, key, _ string) (objectWriter, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return &memWriter{ctx: ctx, s: s, key: key}, nil
}

func (s *memStore) remove(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[key]; !ok {
		return notFound(key)
	}
	delete(s.objects, key)
	return nil
}

func (s *memStore) keys(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		s.mu.Lock()
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range s.objects {
				if !yield(k) {
					return
				}
			}
		})
		s.mu.Unlock()
		for _, k := range keys {
			if err := ctx.Err(); err != nil {
				yield("", err)
				return
			}
			if !yield(k, nil) {
				return
			}
		}
	}
}

func (s *memStore) close() error { return nil }

// memWriter buffers an object of a memStore and puts it in place on Close, unless its context
// ended.
type memWriter struct {
	ctx     context.Context
	s       *memStore
	key     string
	buf     bytes.Buffer
	aborted bool
}

func (w *memWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *memWriter) Close() error {
	if w.aborted {
		return errors.New("backup: write of " + w.key + " was aborted")
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.objects == nil {
		w.s.objects = map[string][]byte{}
	}
	w.s.objects[w.key] = bytes.Clone(w.buf.Bytes())
	return nil
}

func (w *memWriter) Abort() { w.aborted = true }

// checkKey refuses keys that would name no object or step out of a folder: empty, absolute,
// with "." or ".." segments or empty segments.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key || strings.HasPrefix(key, "../") || key == ".." || key == "." {
		return fmt.Errorf("backup: invalid object key %q", key)
	}
	return nil
}
