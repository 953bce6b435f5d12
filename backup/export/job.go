package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup"
)

// Users streams the users to export in a stable order, skipping the first skip of them, and
// calls fn for each; it stops at fn's first error and returns it.
type Users func(ctx context.Context, skip int64, fn func(Recipient) error) error

// Exporter runs export jobs.
type Exporter struct {
	Store  Store
	Fetch  Fetcher
	Bucket *backup.Bucket
	// Service names the service in READMEs.
	Service string
	// Runtime tells the time jobs and users are stamped with.
	Runtime sunset.Runtime
	// Batch is how many users are handled between two saves of the job (default 200); Workers
	// how many of them at once (default 8); Attempts how often a user's fetch is tried (default 3).
	Batch    int
	Workers  int
	Attempts int
	// RetryDelay is the pause before the first retry of a user (default 200ms, doubling).
	RetryDelay time.Duration
	// Progress, when set, receives a line per saved batch.
	Progress io.Writer
}

func (x *Exporter) now() time.Time { return x.Runtime.Now().UTC() }

// Run exports every user of users for sunset, from where the job stopped last time. source
// names the stream (it is kept in the job; a job restarted on another stream starts over).
// Users whose export fails are recorded as failed with the reason, and the job goes on; a
// failure to save stops the job, which resumes on the next Run.
func (x *Exporter) Run(ctx context.Context, sunset, source string, expires time.Time, users Users) (*Job, error) {
	job, err := x.Store.GetExportJob(ctx, sunset)
	switch {
	case errors.Is(err, ErrNoJob), err == nil && job.Source != source:
		job = &Job{Sunset: sunset, Source: source, Started: x.now()}
	case err != nil:
		return nil, err
	}
	job.State, job.Expires, job.Updated = JobRunning, expires, x.now()
	if err := x.Store.SaveExportBatch(ctx, job, nil); err != nil {
		return nil, err
	}
	batch := max(x.Batch, 1)
	if x.Batch == 0 {
		batch = 200
	}
	pending := make([]Recipient, 0, batch)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		out := x.handle(ctx, sunset, job.Position, pending)
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, u := range out {
			if u.State == UserDone {
				job.Done++
			} else {
				job.Failed++
			}
		}
		job.Position += int64(len(pending))
		job.Updated = x.now()
		if err := x.Store.SaveExportBatch(ctx, job, out); err != nil {
			return err
		}
		if x.Progress != nil {
			fmt.Fprintf(x.Progress, "export %s: %d users handled (%d done, %d failed)\n", sunset, job.Position, job.Done, job.Failed)
		}
		pending = pending[:0]
		return nil
	}
	err = users(ctx, job.Position, func(r Recipient) error {
		pending = append(pending, r)
		if len(pending) >= batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return job, err
	}
	job.State, job.Updated = JobDone, x.now()
	return job, x.Store.SaveExportBatch(ctx, job, nil)
}

// handle exports a batch of users at once; the users at stream positions first, first+1…
func (x *Exporter) handle(ctx context.Context, sunset string, first int64, rs []Recipient) []User {
	out := make([]User, len(rs))
	workers := x.Workers
	if workers <= 0 {
		workers = 8
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, len(rs)) {
		wg.Go(func() {
			for i := range next {
				out[i] = x.one(ctx, sunset, first+int64(i)+1, rs[i])
			}
		})
	}
	for i := range rs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// one exports one user: fetch (retried unless the failure is permanent), package, store.
func (x *Exporter) one(ctx context.Context, sunset string, seq int64, r Recipient) User {
	u := User{Sunset: sunset, ID: r.ID, Seq: seq, Locale: r.Locale, Created: x.now()}
	attempts := x.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	delay := x.RetryDelay
	if delay <= 0 {
		delay = 200 * time.Millisecond
	}
	var err error
	var d *Data
	for u.Attempts = 1; ; u.Attempts++ {
		d, err = x.Fetch.Fetch(ctx, r.ID)
		if err == nil || Permanent(err) || u.Attempts >= attempts || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay *= 2
	}
	if err == nil {
		var zip []byte
		zip, err = Package(x.Service, r.ID, r.Locale, d, u.Created)
		if err == nil {
			u.Key = BlobKey(sunset, r.ID)
			err = x.Bucket.WriteAll(ctx, u.Key, zip, "application/zip")
			sum := sha256.Sum256(zip)
			u.SHA256, u.Bytes = hex.EncodeToString(sum[:]), int64(len(zip))
		}
	}
	if err != nil {
		u.State, u.Error, u.Key = UserFailed, err.Error(), ""
		return u
	}
	u.State = UserDone
	return u
}

// RetryFailed exports again the users of job whose export failed, keeping their place in the
// stream, and saves the job's new counts with each batch.
func (x *Exporter) RetryFailed(ctx context.Context, job *Job) error {
	var after int64
	for {
		page, err := x.Store.ExportUsers(ctx, job.Sunset, after, 500)
		if err != nil {
			return err
		}
		var again []User
		for _, u := range page {
			after = u.Seq
			if u.State == UserFailed {
				again = append(again, u)
			}
		}
		if len(again) > 0 {
			out := make([]User, len(again))
			var wg sync.WaitGroup
			sem := make(chan struct{}, max(x.Workers, 1))
			for i, u := range again {
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					out[i] = x.one(ctx, job.Sunset, u.Seq, Recipient{ID: u.ID, Locale: u.Locale})
				})
			}
			wg.Wait()
			if err := ctx.Err(); err != nil {
				return err
			}
			for _, u := range out {
				if u.State == UserDone {
					job.Done++
					job.Failed--
				}
			}
			job.Updated = x.now()
			if err := x.Store.SaveExportBatch(ctx, job, out); err != nil {
				return err
			}
		}
		if len(page) < 500 {
			return nil
		}
	}
}
