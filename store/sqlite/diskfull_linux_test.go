package sqlite_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/sqlite"
)

// TestDiskFull fills a real disk: a small tmpfs holding the database, then a file taking all the
// room left. A write then fails as SQLITE_FULL, classified as a full disk naming the file; Ready
// fails for as long as the disk is full; once the file is removed, Ready recovers by itself, the
// same write succeeds, and what was stored before is intact. It needs to mount a tmpfs (root, or
// CAP_SYS_ADMIN) and skips otherwise.
func TestDiskFull(t *testing.T) {
	disk := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(disk, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", disk, "tmpfs", 0, "size=8m"); err != nil {
		testenv.Skip(t, "tmpfs disk-full", "cannot mount a small tmpfs here ("+err.Error()+"); the injected SQLITE_FULL of web's TestStorageFull still runs")
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(disk, 0); err != nil {
			t.Errorf("unmount the test's tmpfs %s: %v", disk, err)
		}
	})
	clock := sunset.NewFixedClock(time.Date(2027, 3, 15, 2, 0, 0, 0, time.UTC))
	path := filepath.Join(disk, "sunset.db")
	st, err := sqlite.Open(t.Context(), path, store.WithNow(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	create := func(name string, planBytes int) error {
		return st.InTx(ctx, func(tx engine.Tx) error {
			plan := []byte("service:\n  name: " + name + "\n# " + strings.Repeat("x", planBytes) + "\n")
			return tx.CreateSunset(ctx, &engine.Sunset{Name: name, State: engine.StateDraft, Revision: 1, Plan: plan, PlanHash: "h"})
		})
	}
	if err := create("kept", 100); err != nil {
		t.Fatal(err)
	}
	if err := st.Ready(ctx); err != nil {
		t.Fatal(err)
	}

	filler := filepath.Join(disk, "filler")
	fill(t, filler)
	err = create("refused", 512<<10)
	var u *sunset.UnwritableError
	if !errors.As(err, &u) || u.Reason != sunset.ReasonFull || u.Code != "SQLITE_FULL" || u.Where != path {
		t.Fatalf("a write on a full disk: %v (%T), want SQLITE_FULL on %s", err, err, path)
	}
	if !strings.Contains(u.Message("en"), "free space on the disk that holds "+path) {
		t.Errorf("message %q", u.Message("en"))
	}
	if err := st.Ready(ctx); !errors.Is(err, store.ErrUnwritable) {
		t.Fatalf("Ready on a full disk: %v", err)
	}
	clock.Advance(store.DefaultProbeInterval)
	if err := st.Ready(ctx); !errors.As(err, &u) || u.Reason != sunset.ReasonFull {
		t.Fatalf("Ready's own heartbeat on a full disk: %v, want a full disk", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	clock.Advance(store.DefaultProbeInterval)
	if err := st.Ready(ctx); err != nil {
		t.Fatalf("Ready once there is room: %v", err)
	}
	if err := create("refused", 512<<10); err != nil {
		t.Fatalf("the same write once there is room: %v", err)
	}
	for _, name := range []string{"kept", "refused"} {
		if _, err := st.GetSunset(ctx, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// fill writes path until the disk holding it is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{0xAA}, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	// Fill the last partial block too.
	for {
		if _, err := f.Write(chunk[:512]); err != nil {
			break
		}
	}
}
