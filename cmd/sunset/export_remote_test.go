package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestExportRunOnTheServerFromTheCommandLine asks a running server to export every user and
// follows the job from the CLI: progress on stderr, the summary on stdout; a second run finds
// the job done and fetches nobody again.
func TestExportRunOnTheServerFromTheCommandLine(t *testing.T) {
	t.Parallel()
	var fetches atomic.Int64
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"notes":[{"text":"hello"}]}`, strings.TrimPrefix(r.URL.Path, "/export/"))
	}))
	defer src.Close()
	dir := t.TempDir()
	var contacts strings.Builder
	contacts.WriteString("id,email,locale\n")
	for i := range 40 {
		fmt.Fprintf(&contacts, "u%02d,u%02d@example.com,%s\n", i, i, map[bool]string{true: "zh", false: "en"}[i%2 == 0])
	}
	planPath := writeNotesPlan(t, dir, contacts.String(), src.URL, "")

	// The server holds the key that signs download links; the CLI does not need it.
	env := map[string]string{"SUNSET_EXPORT_KEY": "0123456789abcdef-server"}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var serveErr bytes.Buffer
	sm := &Main{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &serveErr, Getenv: func(k string) string { return env[k] }, ready: ready}
	done := make(chan int, 1)
	go func() {
		done <- sm.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(dir, "sunset.db"), "--log-level", "warn", "--example=false"})
	}()
	var api string
	select {
	case addr := <-ready:
		api = "http://" + addr
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, serveErr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start in 30s")
	}
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, serveErr.String())
		}
	}()
	if code, out, errs := run(t, ctx, "apply", planPath, "--server", api); code != 0 {
		t.Fatalf("apply: exit %d %s%s", code, out, errs)
	}

	code, out, errs := run(t, ctx, "export", "run", "notes-v1", "--server", api, "--batch", "5", "--workers", "2")
	if code != 0 || !strings.Contains(out, "Export of notes-v1: done, 40 users handled (40 done, 0 failed)") {
		t.Fatalf("export run --server: exit %d\nstdout: %s\nstderr: %s\nserver: %s", code, out, errs, serveErr.String())
	}
	if !strings.Contains(errs, "export notes-v1: running on "+api) || !strings.Contains(errs, "40 users handled (40 done, 0 failed), job done") {
		t.Errorf("no progress on stderr:\n%s", errs)
	}
	if n := fetches.Load(); n != 40 {
		t.Errorf("%d fetches, want 40 (one per user)", n)
	}
	// Run again: the job is done; nobody is fetched twice.
	code, out, errs = run(t, ctx, "export", "run", "notes-v1", "--server", api)
	if code != 0 || !strings.Contains(out, "40 users handled") || fetches.Load() != 40 {
		t.Fatalf("second run: exit %d, %d fetches\n%s%s", code, fetches.Load(), out, errs)
	}
	// A sunset without data.export, and a server that is not there, are plain errors.
	if code, _, errs := run(t, ctx, "export", "run", "nope", "--server", api); code == 0 || errs == "" {
		t.Errorf("unknown sunset: exit %d %s", code, errs)
	}
}
