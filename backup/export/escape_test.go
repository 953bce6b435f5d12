package export

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup"
)

// TestDownloadsCannotEscapeTheExportFolder: a key that climbs with "..", encoded or not, finds
// nothing, and a symbolic link inside the folder that points outside it is refused as not found.
func TestDownloadsCannotEscapeTheExportFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("outside secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "exports", "billing-v1")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "good.zip"), []byte("PK good"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(folder, "link.zip")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(dir, "exports", "linked-dir")); err != nil {
		t.Fatal(err)
	}
	open := func(key string) (string, error) {
		d := &Download{Sunset: "billing-v1", User: &User{ID: "u1", State: UserDone, Key: key},
			bucket: func(ctx context.Context) (*backup.Dest, error) { return backup.OpenDest(ctx, dir) }}
		rc, err := d.Open(t.Context())
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}
	if got, err := open("exports/billing-v1/good.zip"); err != nil || got != "PK good" {
		t.Fatalf("a genuine export: %q %v", got, err)
	}
	for _, key := range []string{"exports/billing-v1/link.zip", "exports/linked-dir/secret.txt"} {
		if got, err := open(key); !errors.Is(err, ErrOutside) || sunset.ErrorCode(err) != sunset.ENOTFOUND {
			t.Errorf("%s: %q %v, want ErrOutside, not found", key, got, err)
		}
	}
	for _, key := range []string{"exports/billing-v1/../../../" + filepath.Base(outside), "../secret.txt", "exports/billing-v1/..%2f..%2fsecret.txt", "exports/billing-v1/%2e%2e/%2e%2e/secret.txt"} {
		if got, err := open(key); err == nil || got == "outside secret" {
			t.Errorf("%s: read %q, want an error", key, got)
		}
	}
}
