package export

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sunsetops/sunset/backup"
)

// Keep archives every done export that was not downloaded (and is not kept yet) into one signed
// backup archive at the exports' destination, verifies it, and marks those exports as kept in
// it. It returns the archive's id and how many exports it keeps.
func (s *Service) Keep(ctx context.Context, sunset string, key backup.Key, tool string, progress io.Writer) (string, int64, error) {
	p, _, err := s.plan(ctx, sunset)
	if err != nil {
		return "", 0, err
	}
	dest, err := Destination(ctx, p)
	if err != nil {
		return "", 0, err
	}
	defer dest.Close()
	scratch, err := os.MkdirTemp("", "sunset-export-keep-")
	if err != nil {
		return "", 0, err
	}
	defer os.RemoveAll(scratch)
	var after, first, last, n int64
	for {
		page, err := s.Store.ExportUsers(ctx, sunset, after, 500)
		if err != nil {
			return "", 0, err
		}
		for _, u := range page {
			after = u.Seq
			if u.State != UserDone || u.Downloads > 0 || u.KeptIn != "" {
				continue
			}
			b, err := dest.Bucket.ReadAll(ctx, u.Key)
			if err != nil {
				return "", 0, fmt.Errorf("export of %s: %w", u.ID, err)
			}
			if err := os.WriteFile(filepath.Join(scratch, filepath.Base(u.Key)), b, 0o600); err != nil {
				return "", 0, err
			}
			if first == 0 {
				first = u.Seq
			}
			last, n = u.Seq, n+1
		}
		if len(page) < 500 {
			break
		}
	}
	if n == 0 {
		return "", 0, nil
	}
	a, err := backup.Create(ctx, backup.Options{Name: sunset + "-exports", Source: backup.Dir{Path: scratch}, Dest: dest, Key: key, Tool: tool, Progress: progress})
	if err != nil {
		return "", 0, err
	}
	rep, err := backup.Verify(ctx, dest, a.ID, backup.VerifyOptions{Key: key})
	if err == nil {
		err = rep.Err()
	}
	if err != nil {
		return a.ID, 0, fmt.Errorf("the archive of exports %s does not verify: %w", a.ID, err)
	}
	kept, err := s.Store.KeepExports(ctx, sunset, first, last, a.ID)
	return a.ID, kept, err
}
