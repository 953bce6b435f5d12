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
	// Serial: startS3 sets the AWS variables of the process's environment (t.Setenv).
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
	for key, err := range dest.Bucket.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		keys[key] = true
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

func TestS3URLsSayBucketFolderStoreAndChecksums(t *testing.T) {
	t.Parallel()
	env := func(k string) string { return map[string]string{"AWS_REGION": "eu-central-1"}[k] }
	aws := s3Options{Host: "s3.amazonaws.com", Secure: true, SendChecksums: true, CheckChecksums: true}
	tests := []struct {
		in   string
		want func(o *s3Options)
	}{
		{"s3://b/orders/final?endpoint=http://127.0.0.1:9000&region=us-east-1", func(o *s3Options) {
			*o = s3Options{Bucket: "b", Prefix: "orders/final/", Host: "127.0.0.1:9000", Compatible: true, PathStyle: true, Region: "us-east-1"}
		}},
		{"s3://b?region=eu-west-1", func(o *s3Options) { o.Bucket, o.Region = "b", "eu-west-1" }},
		{"s3://b/p/", func(o *s3Options) { o.Bucket, o.Prefix, o.Region = "b", "p/", "eu-central-1" }},
		{"s3://b?prefix=p/q/", func(o *s3Options) { o.Bucket, o.Prefix, o.Region = "b", "p/q/", "eu-central-1" }},
		{"s3://b/p/?endpoint=https://h&use_path_style=false", func(o *s3Options) {
			*o = s3Options{Bucket: "b", Prefix: "p/", Host: "h", Secure: true, Compatible: true, Region: "eu-central-1"}
		}},
		{"s3://b?endpoint=http://h:9&s3ForcePathStyle=false&request_checksum_calculation=when_supported", func(o *s3Options) {
			*o = s3Options{Bucket: "b", Host: "h:9", Compatible: true, Region: "eu-central-1", SendChecksums: true}
		}},
		{"s3://b?region=r&anonymous=true&profile=backups&response_checksum_validation=when_required", func(o *s3Options) {
			o.Bucket, o.Region, o.Anonymous, o.Profile, o.CheckChecksums = "b", "r", true, "backups", false
		}},
	}
	for _, tt := range tests {
		got, err := parseS3URL(mustURL(t, tt.in), env)
		want := aws
		tt.want(&want)
		if err != nil || got != want {
			t.Errorf("parseS3URL(%s) = %+v, %v\nwant %+v", tt.in, got, err, want)
		}
	}
}

func TestMalformedS3URLsAreRefusedSayingWhy(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, wantErr string }{
		{"s3:///p", "no bucket"},
		{"s3://b?endpoint=127.0.0.1:9000", "base URL"},
		{"s3://b?endpoint=ftp://h", "base URL"},
		{"s3://b?endpoint=http://h/path", "base URL"},
		{"s3://b?use_path_style=maybe", "want true or false"},
		{"s3://b?anonymous=yes", "want true or false"},
		{"s3://b?request_checksum_calculation=always", "want when_supported or when_required"},
		{"s3://b?awssdk=v1", `unknown query parameter "awssdk"`},
		{"s3://b?region=a&region=b", "given 2 times"},
		{"s3://b/../x", "a folder in the bucket"},
		{"s3://b/p//q", "a folder in the bucket"},
		{"s3://key:secret@b/p", "credentials in the environment"},
		{"s3://b?%zz", "query"},
	}
	for _, tt := range tests {
		_, err := parseS3URL(mustURL(t, tt.in), func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("parseS3URL(%s) = %v, want an error saying %q", tt.in, err, tt.wantErr)
		}
	}
	// Through OpenDest, the error names the destination.
	if _, err := OpenDest(context.Background(), "s3://b?endpoint=h"); err == nil || !strings.HasPrefix(err.Error(), "destination s3://b: endpoint") {
		t.Errorf("OpenDest = %v", err)
	}
}

// FuzzParseS3URL checks that any s3:// URL is read without a panic, and that what is accepted
// names a bucket and a folder that is a clean path.
func FuzzParseS3URL(f *testing.F) {
	for _, s := range []string{"s3://b/orders/final?endpoint=http://127.0.0.1:9000&region=us-east-1", "s3://b?prefix=a/", "s3://b/a/../b", "s3://?", "s3://b?endpoint=http://[::1]:9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		o, err := parseS3URL(u, func(string) string { return "" })
		if err != nil {
			return
		}
		if o.Bucket == "" || o.Host == "" {
			t.Errorf("parseS3URL(%q) = %+v without a bucket or a host", s, o)
		}
		if o.Prefix != "" && (!strings.HasSuffix(o.Prefix, "/") || checkKey(strings.TrimSuffix(o.Prefix, "/")) != nil) {
			t.Errorf("parseS3URL(%q) = prefix %q", s, o.Prefix)
		}
	})
}

func TestResolveArchiveKeepsTheQueryWithTheDestination(t *testing.T) {
	t.Parallel()
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
