package store_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
)

func TestABackupJobIsTakenByOneReplicaAndAnAbandonedOneCanBeTakenOver(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC)
		job := func(by string) *runbook.BackupJob {
			return &runbook.BackupJob{Sunset: "orders", State: runbook.BackupRunning, StartedBy: by, Started: now,
				Backups: []runbook.BackupOutcome{{Name: "main-db", State: "pending"}}}
		}
		if got, _, err := db.BackupJob(ctx, "orders"); err != nil || got != nil {
			t.Fatalf("no job yet: %+v %v", got, err)
		}
		if ok, err := db.StartBackupJob(ctx, job("li.wei"), "replica-1", now, now.Add(-time.Minute)); err != nil || !ok {
			t.Fatalf("the first job: %v %v", ok, err)
		}
		if ok, err := db.StartBackupJob(ctx, job("zhang.min"), "replica-2", now.Add(10*time.Second), now.Add(-50*time.Second)); err != nil || ok {
			t.Fatalf("a second job while the first runs: %v %v, want refused", ok, err)
		}
		j := job("li.wei")
		j.Backups[0].State, j.Progress = runbook.BackupRunning, "main-db: 1 MiB / 4 MiB (25%)"
		if ok, err := db.SaveBackupJob(ctx, j, "replica-1", now.Add(20*time.Second)); err != nil || !ok {
			t.Fatalf("the owner's save: %v %v", ok, err)
		}
		if ok, err := db.SaveBackupJob(ctx, j, "replica-2", now.Add(20*time.Second)); err != nil || ok {
			t.Fatalf("another replica's save: %v %v, want refused", ok, err)
		}
		got, beat, err := db.BackupJob(ctx, "orders")
		if err != nil || got.StartedBy != "li.wei" || got.Progress != j.Progress || !beat.Equal(now.Add(20*time.Second)) {
			t.Fatalf("stored job %+v at %v, %v", got, beat, err)
		}
		// replica-1 stops: no heartbeat for two minutes, and replica-2 may take the sunset's job.
		later := now.Add(2 * time.Minute)
		if ok, err := db.StartBackupJob(ctx, job("zhang.min"), "replica-2", later, later.Add(-time.Minute)); err != nil || !ok {
			t.Fatalf("taking over an abandoned job: %v %v", ok, err)
		}
		if ok, err := db.SaveBackupJob(ctx, j, "replica-1", later); err != nil || ok {
			t.Errorf("the old owner's save after the takeover: %v %v, want refused", ok, err)
		}
		// A job that ended does not hold the next one back.
		done := job("zhang.min")
		done.State = runbook.BackupDone
		if ok, err := db.SaveBackupJob(ctx, done, "replica-2", later); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if ok, err := db.StartBackupJob(ctx, job("li.wei"), "replica-1", later, later.Add(-time.Minute)); err != nil || !ok {
			t.Errorf("a job after one that ended: %v %v", ok, err)
		}
	})
}

// TestBackupJobsAreSeenByEveryReplica: a backup one replica's control takes is seen by another
// replica's (the same database), which refuses to start a second one while it runs.
func TestBackupJobsAreSeenByEveryReplica(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		src := filepath.Join(dir, "src")
		os.MkdirAll(src, 0o700)
		os.WriteFile(filepath.Join(src, "orders.csv"), []byte("id,total\n1,20\n"), 0o600)
		p, problems := plan.Parse("plan.yaml", []byte(`service: {name: orders}
milestones: {announce: 2027-01-04T10:00, shutdown: 2027-03-01T02:00}
data:
  backups: [{name: main-db, source: {dir: `+src+`}, to: "file://`+dir+`/backups"}]
`))
		if err := problems.Err(); err != nil {
			t.Fatal(err)
		}
		plans := func(_ context.Context, name string) (*plan.Plan, error) {
			if name != "orders" {
				return nil, sunset.Errorf(sunset.ENOTFOUND, "No sunset %s.", name)
			}
			return p, nil
		}
		// replica-1's backups wait until the test lets them finish.
		release := make(chan struct{})
		slow := backupFunc(func(ctx context.Context, b plan.Backup, verify bool) (string, error) {
			<-release
			return (&runbook.BackupService{Key: backup.Key("0123456789abcdef-jobs-test")}).Backup(ctx, b, verify, nil)
		})
		one := &runbook.Control{Runner: &runbook.Runner{Store: db, Backups: slow}, Plan: plans, Jobs: db, Owner: "replica-1"}
		two := &runbook.Control{Runner: &runbook.Runner{Store: db}, Plan: plans, Jobs: db, Owner: "replica-2"}
		defer one.Stop()
		if _, err := one.StartBackup(ctx, "orders", "li.wei", runbook.BackupRequest{Verify: true}); err != nil {
			t.Fatal(err)
		}
		l, err := two.Backups(ctx, "orders")
		if err != nil || l.Job == nil || l.Job.State != runbook.BackupRunning || l.Job.StartedBy != "li.wei" {
			t.Fatalf("the other replica sees %+v, %v; want li.wei's running job", l, err)
		}
		if _, err := two.StartBackup(ctx, "orders", "zhang.min", runbook.BackupRequest{}); sunset.ErrorCode(err) != sunset.ECONFLICT {
			t.Fatalf("a second backup on the other replica: %v, want conflict", err)
		}
		close(release)
		deadline := time.After(10 * time.Second)
		for {
			l, err = two.Backups(ctx, "orders")
			if err != nil {
				t.Fatal(err)
			}
			if l.Job.State != runbook.BackupRunning {
				break
			}
			select {
			case <-deadline:
				t.Fatalf("the job still runs after 10s: %+v", l.Job)
			case <-time.After(10 * time.Millisecond):
			}
		}
		if l.Job.State != runbook.BackupDone || !l.Job.Backups[0].Verified || len(l.Backups) != 1 || len(l.Backups[0].Archives) != 1 ||
			l.Backups[0].Archives[0].ID != l.Job.Backups[0].Archive {
			t.Errorf("after the backup the other replica sees %+v with archives %+v", l.Job, l.Backups)
		}
	})
}

// backupFunc adapts a function to runbook.Backuper.
type backupFunc func(ctx context.Context, b plan.Backup, verify bool) (string, error)

func (f backupFunc) Backup(ctx context.Context, b plan.Backup, verify bool, _ io.Writer) (string, error) {
	return f(ctx, b, verify)
}
