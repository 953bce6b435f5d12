//go:build unix

package backup

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenRefusesSymbolicLinks: a local destination's object is read only when no element of
// its path is a symbolic link, wherever the link points (inside the folder or out of it), and
// only when it is a regular file; keys that climb out or name nothing are ErrNoObject.
func TestOpenRefusesSymbolicLinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.txt")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(outside, []byte("outside secret"), 0o600))
	must(os.MkdirAll(filepath.Join(dir, "exports", "a"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "exports", "a", "good.zip"), []byte("PK good"), 0o600))
	must(os.Symlink(outside, filepath.Join(dir, "exports", "a", "out.zip")))
	must(os.Symlink("good.zip", filepath.Join(dir, "exports", "a", "in.zip")))
	must(os.Symlink(filepath.Join(dir, "exports", "a"), filepath.Join(dir, "exports", "linked-in")))
	must(os.Symlink(filepath.Dir(outside), filepath.Join(dir, "exports", "linked-out")))
	must(syscall.Mkfifo(filepath.Join(dir, "exports", "a", "fifo.zip"), 0o600))
	dest, err := OpenDest(t.Context(), dir)
	must(err)
	defer dest.Close()

	for _, tc := range []struct {
		name, key string
		want      error // nil: read "PK good"
	}{
		{"a regular file", "exports/a/good.zip", nil},
		{"a link to a file outside", "exports/a/out.zip", ErrLink},
		{"a link to a file inside", "exports/a/in.zip", ErrLink},
		{"through a linked folder inside", "exports/linked-in/good.zip", ErrLink},
		{"through a linked folder outside", "exports/linked-out/secret.txt", ErrLink},
		{"a FIFO", "exports/a/fifo.zip", ErrLink},
		{"a folder", "exports/a", ErrLink},
		{"missing", "exports/a/none.zip", ErrNoObject},
		{"under a file", "exports/a/good.zip/x", ErrNoObject},
		{"climbing out", "exports/../../secret.txt", ErrNoObject},
		{"absolute", outside, ErrNoObject},
		{"empty", "", ErrNoObject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := dest.Open(t.Context(), tc.key)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open(%q) = %v, want %v", tc.key, err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if b, _ := io.ReadAll(rc); string(b) != "PK good" {
				t.Fatalf("read %q", b)
			}
		})
	}
}
