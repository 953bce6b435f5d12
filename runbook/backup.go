package runbook

import (
	"context"
	"fmt"
	"io"

	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/plan"
)

// Interface guard.
var _ Backuper = (*BackupService)(nil)

// BackupService makes backup steps with the backup package: it archives a data.backups entry to
// its destination and verifies it by restoring it to a scratch place.
type BackupService struct {
	Key  backup.Key
	Tool string
	// Getenv resolves the env: reference of a PostgreSQL source's DSN.
	Getenv func(string) string
}

// Backup creates (and when verify is set, verifies) an archive of b.
func (s *BackupService) Backup(ctx context.Context, b plan.Backup, verify bool, progress io.Writer) (string, error) {
	var src backup.Source
	scratchPG := ""
	switch {
	case b.Source.Dir != "":
		src = backup.Dir{Path: b.Source.Dir}
	case b.Source.SQLite != "":
		src = backup.SQLite{Path: b.Source.SQLite}
	case b.Source.Postgres != "":
		dsn, err := resolve(string(b.Source.Postgres), s.getenv)
		if err != nil || dsn == "" {
			return "", fmt.Errorf("backup %s: the PostgreSQL DSN reference %s is empty or unreadable", b.Name, b.Source.Postgres)
		}
		src, scratchPG = backup.Postgres{DSN: dsn}, dsn
	case b.Source.HTTP != "":
		src = backup.HTTP{URL: b.Source.HTTP}
	default:
		return "", fmt.Errorf("backup %s has no source", b.Name)
	}
	dest, err := backup.OpenDest(ctx, b.To)
	if err != nil {
		return "", err
	}
	defer dest.Close()
	a, err := backup.Create(ctx, backup.Options{Name: b.Name, Source: src, Dest: dest, Key: s.Key, Tool: s.Tool, Progress: progress})
	if err != nil {
		return "", err
	}
	if verify {
		rep, err := backup.Verify(ctx, dest, a.ID, backup.VerifyOptions{Key: s.Key, PostgresScratch: scratchPG})
		if err != nil {
			return a.ID, err
		}
		if err := rep.Err(); err != nil {
			return a.ID, err
		}
	}
	return a.ID, nil
}

func (s *BackupService) getenv(k string) string {
	if s.Getenv != nil {
		return s.Getenv(k)
	}
	return ""
}
