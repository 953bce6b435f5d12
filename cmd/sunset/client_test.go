package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// emptyFolder makes the test run in a new empty folder (the working directory of a user who
// runs client commands away from the server) and returns it.
func emptyFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

// assertEmpty fails when a command left a file in dir: client commands create no database, no
// cache, nothing.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("a client command left %s in its working folder", e.Name())
	}
}

// serveWithEnv runs `sunset serve` in-process on a free loopback port, on a database in dir,
// with env as its environment (the keys it holds), and returns its URL; it stops with the test.
func serveWithEnv(t *testing.T, dir string, env map[string]string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out, errb syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, ready: ready}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(dir, "sunset.db"), "--log-level", "warn"}, extra...))
	}()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d: %s", code, errb.String())
			}
		})
		return "http://" + addr
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d before listening:\n%s%s", code, out.String(), errb.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start in 30s")
	}
	return ""
}

// clientOf returns a function that runs a command of the CLI with $SUNSET_SERVER set to api (and
// $SUNSET_ACTOR to tester), as a user's shell would, and returns its exit code, stdout and stderr.
func clientOf(t *testing.T, api string) func(args ...string) (int, string, string) {
	return func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
			switch k {
			case "SUNSET_SERVER":
				return api
			case "SUNSET_ACTOR":
				return "tester"
			}
			return ""
		}}
		code := m.Run(context.Background(), args)
		return code, out.String(), errb.String()
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use: a server logs while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
