package backup

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// openKinds opens one destination of each kind: a directory, mem:// and S3 (gofakes3 on
// 127.0.0.1).
func openKinds(t *testing.T) map[string]*Dest {
	t.Helper()
	out := map[string]*Dest{}
	for name, to := range map[string]string{
		"dir": filepath.Join(t.TempDir(), "backups"),
		"mem": "mem://",
		"s3":  "s3://backups/kinds?endpoint=" + startS3(t) + "&region=us-east-1",
	} {
		d, err := OpenDest(context.Background(), to)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { d.Close() })
		out[name] = d
	}
	return out
}

func keysOf(t *testing.T, b *Bucket) []string {
	t.Helper()
	var keys []string
	for k, err := range b.List(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Every kind of destination keeps, lists, reads and deletes objects alike, reports a missing
// one as fs.ErrNotExist, and keeps nothing of a write that was aborted.
func TestEveryKindOfDestinationBehavesAlike(t *testing.T) {
	// Serial: openKinds starts S3, which sets the AWS variables of the process's environment (t.Setenv).
	ctx := context.Background()
	for name, d := range openKinds(t) {
		t.Run(name, func(t *testing.T) {
			b := d.Bucket
			if err := b.WriteAll(ctx, "a.manifest.json", []byte(`{}`), "application/json"); err != nil {
				t.Fatal(err)
			}
			if err := b.WriteAll(ctx, "exports/s/u.zip", []byte("zip"), "application/zip"); err != nil {
				t.Fatal(err)
			}
			w, err := d.create(ctx, "half.tar.zst", "application/zstd")
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("half an archive"))
			w.Abort()
			if got, want := keysOf(t, b), []string{"a.manifest.json", "exports/s/u.zip"}; !slices.Equal(got, want) {
				t.Errorf("keys = %q, want %q (the aborted write left out)", got, want)
			}
			if got, err := b.ReadAll(ctx, "exports/s/u.zip"); err != nil || string(got) != "zip" {
				t.Errorf("ReadAll = %q, %v", got, err)
			}
			for _, key := range []string{"missing.zip", "exports", "half.tar.zst"} {
				if _, err := b.ReadAll(ctx, key); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("ReadAll(%s) = %v, want fs.ErrNotExist", key, err)
				}
			}
			if _, err := d.ReadEnvelope(ctx, "missing"); err == nil || !strings.Contains(err.Error(), "no archive missing at") {
				t.Errorf("ReadEnvelope(missing) = %v", err)
			}
			if err := b.Delete(ctx, "exports/s/u.zip"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.ReadAll(ctx, "exports/s/u.zip"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after Delete: %v, want fs.ErrNotExist", err)
			}
			for _, key := range []string{"", "../x", "/x", "a//b", "a/./b"} {
				if err := b.WriteAll(ctx, key, []byte("x"), ""); err == nil {
					t.Errorf("WriteAll(%q) wrote", key)
				}
			}
		})
	}
}

// A local destination is an os.Root: no key reads or writes outside its folder, through ".."
// or a symbolic link.
func TestALocalDestinationKeepsToItsFolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte("secret"), 0o600)
	d, err := OpenDest(ctx, filepath.Join(dir, "backups"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := os.Symlink(filepath.Join(dir, "secret"), filepath.Join(dir, "backups", "link.zip")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "backups", "out")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"link.zip", "../secret", "out/secret"} {
		if b, err := d.Bucket.ReadAll(ctx, key); err == nil {
			t.Errorf("ReadAll(%s) = %q, read outside the folder", key, b)
		}
	}
	if err := d.Bucket.WriteAll(ctx, "out/new", []byte("x"), ""); err == nil {
		t.Errorf("wrote through a link out of the folder")
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Errorf("a file appeared outside the folder")
	}
}

func TestDestinationURLsThatCannotBeOpenedSayWhy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct{ in, wantErr string }{
		{"gs://bucket", `unknown kind of destination "gs://"`},
		{"file://host/var/backups", "three slashes"},
		{"file://" + dir + "?mode=fast", `unknown query parameter "mode"`},
		{"mem://?x=1", `unknown query parameter "x"`},
		{"s3://b?endpoint=h", "endpoint"},
		{"", "no destination"},
	}
	for _, tt := range tests {
		if d, err := OpenDest(context.Background(), tt.in); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			if d != nil {
				d.Close()
			}
			t.Errorf("OpenDest(%q) = %v, want an error saying %q", tt.in, err, tt.wantErr)
		}
	}
	// The former driver's parameters of file:// URLs are still accepted.
	d, err := OpenDest(context.Background(), "file://"+dir+"/b?create_dir=1&metadata=skip&no_tmp_dir=1")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.URL != "file://"+dir+"/b" {
		t.Errorf("URL = %s", d.URL)
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); err != nil {
		t.Errorf("the folder was not created: %v", err)
	}
}
