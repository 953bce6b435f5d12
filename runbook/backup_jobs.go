package runbook

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook/runs"
)

// backupJobs are the backup jobs of one Control.
type backupJobs struct {
	mu     sync.Mutex
	jobs   map[string]*BackupJob
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Stop cancels the backups in progress and waits for them to end. It is safe to call more than
// once and before any backup.
func (c *Control) Stop() {
	c.backups.mu.Lock()
	if c.backups.cancel != nil {
		c.backups.cancel()
	}
	c.backups.mu.Unlock()
	c.backups.wg.Wait()
}

// job returns a copy of the sunset's latest job, or nil.
func (j *backupJobs) job(name string) *BackupJob {
	j.mu.Lock()
	defer j.mu.Unlock()
	job := j.jobs[name]
	if job == nil {
		return nil
	}
	cp := *job
	cp.Backups = slices.Clone(job.Backups)
	return &cp
}

// update changes the sunset's job under the lock.
func (j *backupJobs) update(job *BackupJob, fn func(*BackupJob)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	fn(job)
}

// StartBackup starts taking the sunset's declared backups (req.Backup, or all of them) in the
// background and returns the job. The archives go to each backup's declared destination; a
// backup.created Event records each one. A sunset whose backup job is running cannot start
// another (ECONFLICT).
func (c *Control) StartBackup(ctx context.Context, name, actor string, req BackupRequest) (*BackupJob, error) {
	p, err := c.plan(ctx, name)
	if err != nil {
		return nil, err
	}
	var todo []plan.Backup
	var names []string
	for _, b := range p.Data.Backups {
		names = append(names, b.Name)
		if req.Backup == "" || req.Backup == b.Name {
			todo = append(todo, b)
		}
	}
	switch {
	case len(names) == 0:
		return nil, sunset.Errorf(sunset.EINVALID, "The plan of %s declares no backups (data.backups); declare one with its source and destination, then apply the plan.", name)
	case len(todo) == 0:
		return nil, sunset.Errorf(sunset.EINVALID, "The plan of %s declares no backup %q; its backups are: %s.", name, req.Backup, strings.Join(names, ", "))
	}
	job := &BackupJob{Sunset: name, State: BackupRunning, StartedBy: actor, Verify: req.Verify, Started: c.Runner.now()}
	for _, b := range todo {
		job.Backups = append(job.Backups, BackupOutcome{Name: b.Name, State: "pending"})
	}
	j := &c.backups
	j.mu.Lock()
	if cur := j.jobs[name]; cur != nil && cur.State == BackupRunning {
		j.mu.Unlock()
		return nil, sunset.Errorf(sunset.ECONFLICT, "A backup of %s started by %s is still running; follow it with: sunset backup list %s", name, cur.StartedBy, name)
	}
	if j.jobs == nil {
		j.jobs = map[string]*BackupJob{}
	}
	if j.ctx == nil {
		j.ctx, j.cancel = context.WithCancel(context.Background())
	}
	if j.ctx.Err() != nil {
		j.mu.Unlock()
		return nil, sunset.Errorf(sunset.ECONFLICT, "The server is stopping; start the backup again once it is back.")
	}
	j.jobs[name] = job
	bctx := j.ctx
	j.wg.Add(1)
	j.mu.Unlock()
	go func() {
		defer j.wg.Done()
		c.runBackups(bctx, job, todo, req.Verify, actor)
	}()
	return j.job(name), nil
}

// runBackups takes each backup in turn and records the outcome in job and in the sunset's Events.
func (c *Control) runBackups(ctx context.Context, job *BackupJob, todo []plan.Backup, verify bool, actor string) {
	j := &c.backups
	failed := 0
	for i, b := range todo {
		j.update(job, func(job *BackupJob) { job.Backups[i].State, job.Progress = BackupRunning, "" })
		progress := &progressLine{set: func(line string) { j.update(job, func(job *BackupJob) { job.Progress = line }) }}
		var archive string
		var err error
		if c.Runner.Backups == nil {
			err = fmt.Errorf("this server cannot take backups")
		} else {
			archive, err = c.Runner.Backups.Backup(ctx, b, verify, progress)
		}
		j.update(job, func(job *BackupJob) {
			o := &job.Backups[i]
			o.Archive = archive
			if err != nil {
				o.State, o.Error = BackupFailed, err.Error()
				failed++
				return
			}
			o.State, o.Verified = BackupDone, verify
		})
		data := map[string]any{"backup": b.Name, "to": b.To, "archive": archive, "verified": verify && err == nil}
		typ := "backup.created"
		if err != nil {
			typ, data["error"] = "backup.failed", err.Error()
		}
		if c.Runner.Events != nil {
			if rerr := c.Runner.Events.Record(context.WithoutCancel(ctx), job.Sunset, typ, actor, data); rerr != nil && err == nil {
				j.update(job, func(job *BackupJob) { job.Error = "record the event: " + rerr.Error() })
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	j.update(job, func(job *BackupJob) {
		job.Ended, job.Progress = c.Runner.now(), ""
		switch {
		case ctx.Err() != nil:
			job.State, job.Error = BackupFailed, "the server stopped during the backup; start it again"
		case failed > 0:
			job.State, job.Error = BackupFailed, fmt.Sprintf("%d of %d backups failed", failed, len(todo))
		default:
			job.State = BackupDone
		}
	})
}

// progressLine keeps the latest line written to it; backup progress rewrites its line with \r.
type progressLine struct {
	set  func(string)
	mu   sync.Mutex
	part string
}

// Write takes progress output and passes on each completed or rewritten line.
func (p *progressLine) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range string(b) {
		if c == '\r' || c == '\n' {
			if line := strings.TrimSpace(p.part); line != "" {
				p.set(line)
			}
			p.part = ""
			continue
		}
		p.part += string(c)
	}
	if line := strings.TrimSpace(p.part); line != "" {
		p.set(line)
	}
	return len(b), nil
}

// Backups lists the archives of the sunset's declared backups at their destinations, and the
// latest backup job this server ran for it.
func (c *Control) Backups(ctx context.Context, name string) (*BackupList, error) {
	p, err := c.plan(ctx, name)
	if err != nil {
		return nil, err
	}
	l := &BackupList{Sunset: name, Backups: []BackupArchives{}, Job: c.backups.job(name)}
	for _, b := range p.Data.Backups {
		ba := BackupArchives{Name: b.Name, To: b.To, Archives: []runs.Archive{}}
		list, err := listDest(ctx, b.To)
		if err != nil {
			ba.Problem = err.Error()
		}
		for _, s := range list {
			if s.Name == b.Name {
				ba.Archives = append(ba.Archives, runs.Archive{ID: s.ID, Name: s.Name, Kind: s.Kind, Created: s.Created, Entries: s.Entries,
					Bytes: s.Bytes, Archive: s.Archive, Location: s.Location, Problem: s.Problem})
			}
		}
		l.Backups = append(l.Backups, ba)
	}
	return l, nil
}

// listDest lists the archives at a destination.
func listDest(ctx context.Context, to string) ([]backup.Summary, error) {
	dest, err := backup.OpenDest(ctx, to)
	if err != nil {
		return nil, err
	}
	defer dest.Close()
	return dest.List(ctx)
}
