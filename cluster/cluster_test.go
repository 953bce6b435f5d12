// Package cluster_test runs Sunset as a cluster of real processes on one PostgreSQL database —
// several `sunset serve` replicas, several `sunset gateway` processes — kills some of them in the
// middle of their work, and checks that nothing was lost or done twice. Those tests need
// SUNSET_TEST_POSTGRES_URL and skip without it; TestThreeFolders (the deployed path from three
// folders) runs on SQLite everywhere.
package cluster_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sunsetops/sunset/internal/testenv"
)

// binDir holds the sunset binary the tests build; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	testenv.Report(os.Stderr)
	os.Exit(code)
}

// buildSunset builds the sunset binary once per test binary run.
var buildSunset = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "sunset-cluster-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "sunset")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/sunset")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func sunsetBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildSunset()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// freeAddr returns a free 127.0.0.1 address.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is one sunset process of the cluster.
type proc struct {
	name string
	url  string // http://ADDR of its API (serve) or of its client port (gateway)
	cmd  *exec.Cmd
	log  *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
}

// lockedBuffer is a bytes.Buffer safe for the process's output goroutine and the test.
type lockedBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (b lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// start runs the sunset binary with args and env, and waits until url+ready answers 200.
func start(t *testing.T, name, url, ready string, env []string, args ...string) *proc {
	t.Helper()
	return startIn(t, "", name, url, ready, env, args...)
}

// startIn is start with the process's working directory set to dir ("" for the test's).
func startIn(t *testing.T, dir, name, url, ready string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, url: url, log: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	p.cmd = exec.Command(sunsetBinary(t), args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	out := lockedBuffer{p.mu, p.log}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- output of %s ---\n%s", name, p.output())
		}
	})
	waitFor(t, 20*time.Second, name+" ready", func() bool {
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", name, p.output())
		default:
		}
		resp, err := http.Get(url + ready)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// kill sends SIGKILL: the process gets no chance to clean up.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop ends the process gracefully (SIGTERM), or kills it after 10s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// waitFor waits (testenv.Eventually) until cond holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, limit, what, func() error {
		if !cond() {
			return errors.New("not yet")
		}
		return nil
	})
}

// getJSON decodes the JSON answer of GET url into v.
func getJSON(t *testing.T, url string, v any) error {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s %s", url, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// fetch returns the body of GET url ("" on any error).
func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// runCLI runs the sunset binary to completion and returns its output.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, sunsetBinary(t), args...).CombinedOutput()
	return string(out), err
}

// lines returns the lines of the file at path (none when it does not exist).
func lines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}
