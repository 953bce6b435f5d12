package runbook

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook/runs"
)

// BackupJobs keeps the latest backup job of each sunset, so that every replica of a server sees
// how a backup goes and none starts a second one. store.DB implements it.
type BackupJobs interface {
	// StartBackupJob stores job as the sunset's job, taken by owner, unless a job is running
	// whose heartbeat is at or after staleBefore; ok is false then.
	StartBackupJob(ctx context.Context, job *BackupJob, owner string, now, staleBefore time.Time) (ok bool, err error)
	// SaveBackupJob writes owner's job with a new heartbeat; ok is false when another owner took
	// the sunset's job over.
	SaveBackupJob(ctx context.Context, job *BackupJob, owner string, now time.Time) (ok bool, err error)
	// BackupJob returns the sunset's latest job and its last heartbeat; nil when it has none.
	BackupJob(ctx context.Context, sunset string) (*BackupJob, time.Time, error)
}

// defaultBackupStale is how long a running backup job may go without a heartbeat before it
// counts as abandoned (its server stopped).
const defaultBackupStale = time.Minute

// backupJobs are the backup jobs this Control runs.
type backupJobs struct {
	mu     sync.Mutex
	jobs   map[string]*BackupJob
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// saving orders the saves of one process: each takes its copy and writes it under it.
	saving sync.Mutex
	saved  map[*BackupJob]time.Time
}

// savedAt is when job was last stored; the caller holds mu.
func (j *backupJobs) savedAt(job *BackupJob) time.Time { return j.saved[job] }

// setSavedAt records when job was stored; the caller holds mu.
func (j *backupJobs) setSavedAt(job *BackupJob, at time.Time) {
	if j.saved == nil {
		j.saved = map[*BackupJob]time.Time{}
	}
	j.saved[job] = at
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

// stale is how long a running job may go without a heartbeat.
func (c *Control) stale() time.Duration {
	if c.BackupStale > 0 {
		return c.BackupStale
	}
	return defaultBackupStale
}

// job returns a copy of the sunset's latest job in this process, or nil.
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

// latestJob returns the sunset's latest job: from the store when there is one (any replica's),
// a running job without a recent heartbeat shown as failed; otherwise this process's.
func (c *Control) latestJob(ctx context.Context, name string) (*BackupJob, error) {
	if c.Jobs == nil {
		return c.backups.job(name), nil
	}
	job, beat, err := c.Jobs.BackupJob(ctx, name)
	if err != nil || job == nil {
		return nil, err
	}
	if job.State == BackupRunning && time.Since(beat) > c.stale() {
		job.State = BackupFailed
		job.Error = fmt.Sprintf("abandoned: the server taking it has not been heard of since %s; start the backup again", beat.UTC().Format(time.RFC3339))
	}
	return job, nil
}

// update changes the job under the lock, then stores it when the store keeps jobs; progress
// alone is stored at most once a second.
func (c *Control) update(job *BackupJob, progressOnly bool, fn func(*BackupJob)) {
	j := &c.backups
	j.mu.Lock()
	fn(job)
	j.mu.Unlock()
	c.persist(job, progressOnly)
}

// persist stores a copy of job with a new heartbeat.
func (c *Control) persist(job *BackupJob, progressOnly bool) {
	if c.Jobs == nil {
		return
	}
	j := &c.backups
	j.saving.Lock()
	defer j.saving.Unlock()
	now := time.Now()
	j.mu.Lock()
	if progressOnly && now.Sub(j.savedAt(job)) < time.Second {
		j.mu.Unlock()
		return
	}
	cp := *job
	cp.Backups = slices.Clone(job.Backups)
	j.mu.Unlock()
	// A save that fails is retried with the next one; the heartbeat says the job lives.
	_, _ = c.Jobs.SaveBackupJob(context.Background(), &cp, c.Owner, now)
	j.mu.Lock()
	j.setSavedAt(job, now)
	j.mu.Unlock()
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
	if j.ctx == nil {
		j.ctx, j.cancel = context.WithCancel(context.Background())
	}
	stopping := j.ctx.Err() != nil
	cur := j.jobs[name]
	j.mu.Unlock()
	if stopping {
		return nil, sunset.Errorf(sunset.ECONFLICT, "The server is stopping; start the backup again once it is back.")
	}
	running := func(cur *BackupJob) error {
		return sunset.Errorf(sunset.ECONFLICT, "A backup of %s started by %s at %s is still running; follow it with: sunset backup list %s",
			name, cur.StartedBy, cur.Started.UTC().Format(time.RFC3339), name)
	}
	if c.Jobs != nil {
		now := time.Now()
		ok, err := c.Jobs.StartBackupJob(ctx, job, c.Owner, now, now.Add(-c.stale()))
		if err != nil {
			return nil, err
		}
		if !ok {
			if cur, err := c.latestJob(ctx, name); err == nil && cur != nil {
				return nil, running(cur)
			}
			return nil, sunset.Errorf(sunset.ECONFLICT, "A backup of %s is still running; follow it with: sunset backup list %s", name, name)
		}
	} else if cur != nil && cur.State == BackupRunning {
		return nil, running(cur)
	}
	j.mu.Lock()
	if j.jobs == nil {
		j.jobs = map[string]*BackupJob{}
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
	// The heartbeat tells the other replicas that the job lives while a long backup writes no
	// progress.
	beat, stopBeat := context.WithCancel(ctx)
	defer stopBeat()
	go func() {
		t := time.NewTicker(c.stale() / 4)
		defer t.Stop()
		for {
			select {
			case <-beat.Done():
				return
			case <-t.C:
				c.persist(job, false)
			}
		}
	}()
	failed := 0
	for i, b := range todo {
		c.update(job, false, func(job *BackupJob) { job.Backups[i].State, job.Progress = BackupRunning, "" })
		progress := &progressLine{set: func(line string) { c.update(job, true, func(job *BackupJob) { job.Progress = line }) }}
		var archive string
		var err error
		if c.Runner.Backups == nil {
			err = fmt.Errorf("this server cannot take backups")
		} else {
			archive, err = c.Runner.Backups.Backup(ctx, b, verify, progress)
		}
		c.update(job, false, func(job *BackupJob) {
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
				c.update(job, false, func(job *BackupJob) { job.Error = "record the event: " + rerr.Error() })
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	stopBeat()
	c.update(job, false, func(job *BackupJob) {
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
	c.backups.mu.Lock()
	delete(c.backups.saved, job)
	c.backups.mu.Unlock()
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
	job, err := c.latestJob(ctx, name)
	if err != nil {
		return nil, err
	}
	l := &BackupList{Sunset: name, Backups: []BackupArchives{}, Job: job}
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
