package backup

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// startS3 runs an S3-compatible server (gofakes3, in memory) on 127.0.0.1 with the bucket
// "backups", points the AWS credentials at test values, and returns its URL.
func startS3(t *testing.T) string {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket("backups"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "sunset-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sunset-test-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return srv.URL
}

func TestS3DestinationKeepsArchivesThatVerifyAndRestore(t *testing.T) {
	endpoint := startS3(t)
	ctx := context.Background()
	dir := t.TempDir()
	to := "s3://backups/orders/final?endpoint=" + endpoint + "&region=us-east-1"
	dest, err := OpenDest(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer dest.Close()
	src := filepath.Join(dir, "src")
	writeTree(t, src)
	b := &testBundle{ctx: ctx, dest: dest, dir: dir}
	a := b.create(t, Dir{Path: src})
	if !strings.HasPrefix(a.Location, "s3://backups/orders/final/"+a.ID+".tar.zst?endpoint=") {
		t.Errorf("location %s, want s3://backups/orders/final/ID.tar.zst?endpoint=…", a.Location)
	}
	// The objects are under the prefix, as another S3 client sees them.
	keys := map[string]bool{}
	it := dest.Bucket.List(nil)
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			break
		}
		keys[obj.Key] = true
	}
	if !keys[a.ID+ArchiveSuffix] || !keys[a.ID+ManifestSuffix] {
		t.Errorf("objects under the prefix: %v", keys)
	}

	// The printed location opens the same bucket again.
	at, id, err := ResolveArchive(a.Location, "")
	if err != nil || id != a.ID {
		t.Fatalf("ResolveArchive(%s) = %s %s %v", a.Location, at, id, err)
	}
	again, err := OpenDest(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	list, err := again.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("list at %s = %+v, %v", at, list, err)
	}
	rep, err := Verify(ctx, again, a.ID, VerifyOptions{Key: testKey})
	if err != nil || rep.Err() != nil {
		t.Fatalf("verify: %v %v", err, rep.Err())
	}
	out := filepath.Join(dir, "restored")
	if _, err := Restore(ctx, again, a.ID, out, VerifyOptions{Key: testKey}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.txt", "big/large.dat", "名字/unicode.txt"} {
		want, _ := os.ReadFile(filepath.Join(src, name))
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s restored differently from S3: %v", name, err)
		}
	}
}

func TestS3URLsBecomeWhatS3blobReads(t *testing.T) {
	tests := []struct{ in, want string }{
		{"s3://b/orders/final?endpoint=http://127.0.0.1:9000&region=us-east-1",
			"s3://b?endpoint=http%3A%2F%2F127.0.0.1%3A9000&prefix=orders%2Ffinal%2F&region=us-east-1&request_checksum_calculation=when_required&response_checksum_validation=when_required&use_path_style=true"},
		{"s3://b?region=eu-west-1", "s3://b?region=eu-west-1"},
		{"s3://b/p/?endpoint=http://h&use_path_style=false", "s3://b?endpoint=http%3A%2F%2Fh&prefix=p%2F&request_checksum_calculation=when_required&response_checksum_validation=when_required&use_path_style=false"},
	}
	for _, tt := range tests {
		u := mustURL(t, tt.in)
		s3URL(u)
		if u.String() != tt.want {
			t.Errorf("s3URL(%s) = %s, want %s", tt.in, u, tt.want)
		}
	}
}

func TestResolveArchiveKeepsTheQueryWithTheDestination(t *testing.T) {
	tests := []struct{ in, dest, id string }{
		{"s3://b/p/a-1.tar.zst?endpoint=http://h:9&region=r", "s3://b/p?endpoint=http://h:9&region=r", "a-1"},
		{"s3://b/a-1.manifest.json?region=r", "s3://b?region=r", "a-1"},
		{"s3://b/p/a-1.tar.zst", "s3://b/p", "a-1"},
	}
	for _, tt := range tests {
		dest, id, err := ResolveArchive(tt.in, "")
		if err != nil || dest != tt.dest || id != tt.id {
			t.Errorf("ResolveArchive(%s) = %q %q %v, want %q %q", tt.in, dest, id, err, tt.dest, tt.id)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// FuzzResolveArchive checks that any ARCHIVE argument is split without a panic, into an id that
// names no folder, and that a URL's query stays with its destination.
func FuzzResolveArchive(f *testing.F) {
	for _, s := range []string{"a-1", "./b/a-1.tar.zst", "s3://b/p/a-1.tar.zst?endpoint=http://h:9", "file:///a-1.manifest.json", "?", "s3://?x", "/x/.tar.zst?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, archive string) {
		dest, id, err := ResolveArchive(archive, "/default")
		if err != nil {
			return
		}
		if strings.Contains(id, "/") {
			t.Errorf("ResolveArchive(%q) = id %q with a folder", archive, id)
		}
		if _, q, ok := strings.Cut(archive, "?"); ok && strings.Contains(archive, "://") && dest != "/default" && !strings.HasSuffix(dest, "?"+q) {
			t.Errorf("ResolveArchive(%q) = dest %q without the query %q", archive, dest, q)
		}
	})
}
