// Package testenv is what Sunset's tests share about their surroundings: where the shared real
// data is, how to wait for something that happens in the background, and a record of every suite a
// run skipped and why, printed when the package's tests end (Main).
//
// `go test ./...` shows nothing of a package that passes, so a skipped suite is easy to miss. Main
// prints the skips to standard error (seen with -v, or when the package fails) and, when
// SUNSET_TEST_SKIPS names a file, appends them there too: .ci/run sets it and prints the file
// after the run, so CI's log says what was not tested.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// SkipsEnv names the file Main appends its skip lines to.
const SkipsEnv = "SUNSET_TEST_SKIPS"

// DataEnv names the folder of the shared real data (access logs, contact lists) when it is not
// at ../shared/data beside the module.
const DataEnv = "SUNSET_TEST_DATA"

var skips struct {
	sync.Mutex
	// reason and count per suite.
	reason map[string]string
	count  map[string]int
}

// Skip skips t because the suite it belongs to cannot run here, and records the suite and the
// reason for Main's summary.
func Skip(t testing.TB, suite, reason string) {
	t.Helper()
	skips.Lock()
	if skips.reason == nil {
		skips.reason, skips.count = map[string]string{}, map[string]int{}
	}
	skips.reason[suite] = reason
	skips.count[suite]++
	skips.Unlock()
	t.Skipf("%s suite skipped: %s", suite, reason)
}

// Main runs the package's tests, then reports the suites that were skipped; use it as the
// package's TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Report(os.Stderr)
	os.Exit(code)
}

// Report writes one line per skipped suite to w and, when SUNSET_TEST_SKIPS is set, appends the
// same lines to that file.
func Report(w interface{ Write([]byte) (int, error) }) {
	lines := skipLines()
	if len(lines) == 0 {
		return
	}
	text := strings.Join(lines, "\n") + "\n"
	fmt.Fprint(w, text)
	if path := os.Getenv(SkipsEnv); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintf(w, "testenv: %s: %v\n", SkipsEnv, err)
			return
		}
		// One write of the whole text: packages run in parallel and O_APPEND keeps each write whole.
		if _, err := f.WriteString(text); err != nil {
			fmt.Fprintf(w, "testenv: %s: %v\n", SkipsEnv, err)
		}
		f.Close()
	}
}

func skipLines() []string {
	skips.Lock()
	defer skips.Unlock()
	pkg := packageName()
	var lines []string
	for suite, reason := range skips.reason {
		lines = append(lines, fmt.Sprintf("SKIPPED %s: %s suite (%d tests): %s", pkg, suite, skips.count[suite], reason))
	}
	sort.Strings(lines)
	return lines
}

// packageName is the directory of the test binary's package, relative to the module.
func packageName() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	if root, err := ModuleRoot(); err == nil {
		if rel, err := filepath.Rel(root, wd); err == nil {
			return "./" + filepath.ToSlash(rel)
		}
	}
	return wd
}

// ModuleRoot returns the folder of the module's go.mod, found from the working directory (a
// test's working directory is its package's folder).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// SharedData returns the path of rel in the shared real data (see DataPath). It skips t, saying
// where it looked, when the file is not there.
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	path, err := DataPath(rel)
	if err != nil {
		Skip(t, "shared data", err.Error())
	}
	return path
}

// DataPath returns the path of rel in the shared real data: under $SUNSET_TEST_DATA when it is
// set, else under shared/data beside the module's folder (the workplace's layout), or an error
// saying where it looked when the file is not there.
func DataPath(rel string) (string, error) {
	dir := os.Getenv(DataEnv)
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "data")
	}
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s is absent (set %s to the folder of the shared data)", path, DataEnv)
	}
	return path, nil
}

// Poll is how often Eventually looks.
const Poll = 20 * time.Millisecond

// Eventually calls check every Poll until it returns nil, and fails t when limit passes first,
// naming what it waited for and the last thing check saw (its error). check may call t.Fatal to
// stop at a state that can no longer change.
func Eventually(t testing.TB, limit time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s: %v", limit, what, err)
		}
		time.Sleep(Poll)
	}
}
