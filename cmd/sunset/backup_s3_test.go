package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sunsetops/sunset/runbook"
)

// backupCLI runs `sunset backup …` in-process with a backup key.
func backupCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "SUNSET_BACKUP_KEY" {
			return "0123456789abcdef-s3-cli-test"
		}
		return ""
	}}
	code := m.Run(context.Background(), append([]string{"backup"}, args...))
	return code, out.String(), errb.String()
}

// TestBackupToAnS3CompatibleStoreFromTheCLI: the server takes a plan's backup to an S3-compatible
// store; verify and restore read it from there, offline.
func TestBackupToAnS3CompatibleStoreFromTheCLI(t *testing.T) {
	mem := s3mem.New()
	if err := mem.CreateBucket("archives"); err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(mem).Server())
	defer s3.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "sunset-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sunset-test-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	dir := t.TempDir()
	src := filepath.Join(dir, "uploads")
	os.MkdirAll(filepath.Join(src, "2027"), 0o755)
	os.WriteFile(filepath.Join(src, "2027", "photo.jpg"), bytes.Repeat([]byte("jpeg"), 50000), 0o600)
	os.WriteFile(filepath.Join(src, "readme.txt"), []byte("相册"), 0o600)
	at := "s3://archives/moments/final?endpoint=" + s3.URL + "&region=us-east-1"

	// The server takes the plan's declared backup to the S3 store; the CLI only asks it.
	planPath := filepath.Join(dir, "sunset.yaml")
	os.WriteFile(planPath, fmt.Appendf(nil, `service:
  name: moments
milestones:
  announce: 2030-01-07T10:00
  deprecate: 2030-01-07T10:00
  shutdown: 2030-03-04T02:00
data:
  backups: [{name: photos, source: {dir: %s}, to: %q}]
`, src, at), 0o600)
	api := serveWithEnv(t, dir, map[string]string{"SUNSET_BACKUP_KEY": "0123456789abcdef-s3-cli-test"}, "--example=false")
	if code, out, errs := run(t, context.Background(), "apply", planPath, "--server", api); code != 0 {
		t.Fatalf("apply: exit %d %s%s", code, out, errs)
	}
	code, out, errs := backupCLI(t, "create", "moments", "--server", api)
	if code != 0 || !strings.HasPrefix(out, "photos: photos-") {
		t.Fatalf("create: exit %d\n%s%s", code, out, errs)
	}
	id := strings.Fields(out)[1]

	code, out, errs = backupCLI(t, "list", "moments", "--server", api)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "dir") || !strings.Contains(out, "photos → s3://archives/moments/final?endpoint=") {
		t.Fatalf("list: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = backupCLI(t, "list", "moments", "--server", api, "--format", "json")
	var listed runbook.BackupList
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil || len(listed.Backups) != 1 || len(listed.Backups[0].Archives) != 1 {
		t.Fatalf("list --format json: exit %d %v\n%s%s", code, err, out, errs)
	}
	location := listed.Backups[0].Archives[0].Location
	if !strings.HasPrefix(location, "s3://archives/moments/final/photos-") {
		t.Fatalf("location %q", location)
	}
	// By the printed location, and by id with --at.
	for _, args := range [][]string{{"verify", location}, {"verify", id, "--at", at}} {
		code, out, errs = backupCLI(t, args...)
		if code != 0 || !strings.Contains(out, "ok  ") {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	restored := filepath.Join(dir, "restored")
	code, out, errs = backupCLI(t, "restore", id, "--at", at, "--to", restored)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errs)
	}
	for _, name := range []string{"2027/photo.jpg", "readme.txt"} {
		want, _ := os.ReadFile(filepath.Join(src, name))
		got, err := os.ReadFile(filepath.Join(restored, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s restored from S3 differently: %v", name, err)
		}
	}
	code, out, errs = backupCLI(t, "create", "--help")
	if code != 0 || !strings.Contains(out, "s3://BUCKET/PREFIX?endpoint=") {
		t.Errorf("create --help does not document the s3 URL: exit %d\n%s%s", code, out, errs)
	}
}
