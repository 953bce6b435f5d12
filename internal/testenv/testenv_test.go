package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSharedDataIsFoundThroughTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "access"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "access", "x.log"), []byte("line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(DataEnv, dir)
	if got := SharedData(t, "access/x.log"); got != filepath.Join(dir, "access", "x.log") {
		t.Errorf("SharedData = %q", got)
	}
}

func TestAMissingFileSkipsAndIsReported(t *testing.T) {
	t.Setenv(DataEnv, t.TempDir())
	report := filepath.Join(t.TempDir(), "skips.txt")
	t.Setenv(SkipsEnv, report)
	t.Run("inner", func(t *testing.T) {
		SharedData(t, "access/absent.log")
		t.Error("SharedData returned for an absent file")
	})
	var out strings.Builder
	Report(&out)
	got, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{out.String(), string(got)} {
		if !strings.Contains(text, "SKIPPED ./internal/testenv: shared data suite (1 tests): ") || !strings.Contains(text, "absent.log is absent (set SUNSET_TEST_DATA") {
			t.Errorf("report = %q", text)
		}
	}
	skips.Lock()
	skips.reason, skips.count = nil, nil
	skips.Unlock()
}

func TestEventuallyWaitsUntilTheConditionHolds(t *testing.T) {
	n := 0
	Eventually(t, 5*time.Second, "the third look", func() error {
		if n++; n < 3 {
			return fmt.Errorf("look %d", n)
		}
		return nil
	})
	if n != 3 {
		t.Errorf("looked %d times, want 3", n)
	}
}
