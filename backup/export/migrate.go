package export

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/plan"
)

// MigrateFailure is one user whose export did not reach the alternative, and why.
type MigrateFailure struct {
	User     string `json:"user"`
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
}

// MigrateReport sums up a migration run.
type MigrateReport struct {
	Sent     int64            `json:"sent"`
	Already  int64            `json:"already"`
	Skipped  int64            `json:"skipped"`
	Failed   int64            `json:"failed"`
	Failures []MigrateFailure `json:"failures,omitempty"`
}

// MaxReportedFailures bounds the failures a report lists; the store keeps every one.
const MaxReportedFailures = 100

// MigrateOptions tune Migrate.
type MigrateOptions struct {
	// Workers posts this many users at once (default 8).
	Workers int
	// Backoff is the pause before the first retry (default 500ms, doubling).
	Backoff time.Duration
	// Out receives a progress line now and then.
	Out func(format string, args ...any)
}

// Migrate POSTs every done export of sunset to m.URL ({id} replaced by the user's id), as
// application/zip with an Idempotency-Key, trying each user up to m.Attempts times (default 5)
// with exponential backoff on network errors, 429 and 5xx answers; any other answer fails the
// user at once. Users already migrated are skipped, so a migration resumes after a crash. Every
// user's outcome is saved; the report lists the failures.
func (s *Service) Migrate(ctx context.Context, sunset string, m plan.Migrate, o MigrateOptions) (*MigrateReport, error) {
	p, _, err := s.plan(ctx, sunset)
	if err != nil {
		return nil, err
	}
	dest, err := Destination(ctx, p)
	if err != nil {
		return nil, err
	}
	defer dest.Close()
	mg := &migration{s: s, sunset: sunset, url: m.URL, dest: dest, attempts: m.Attempts, backoff: o.Backoff, client: s.HTTPClient, rep: &MigrateReport{}}
	if mg.attempts <= 0 {
		mg.attempts = 5
	}
	if mg.backoff <= 0 {
		mg.backoff = 500 * time.Millisecond
	}
	if mg.client == nil {
		mg.client = http.DefaultClient
	}
	workers := max(o.Workers, 1)
	if o.Workers == 0 {
		workers = 8
	}
	jobs := make(chan User)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for u := range jobs {
				mg.post(ctx, u)
			}
		})
	}
	lerr := mg.list(ctx, jobs, o.Out)
	close(jobs)
	wg.Wait()
	if lerr != nil {
		return mg.rep, lerr
	}
	return mg.rep, ctx.Err()
}

// migration is one run of Migrate.
type migration struct {
	s        *Service
	sunset   string
	url      string // the alternative's URL, {id} standing for the user's id
	dest     *backup.Dest
	client   *http.Client
	attempts int
	backoff  time.Duration
	mu       sync.Mutex // guards rep
	rep      *MigrateReport
}

// list pages through the sunset's users and hands those to send to jobs, counting those
// already migrated or without a finished export. It returns the error that stopped the listing.
func (mg *migration) list(ctx context.Context, jobs chan<- User, out func(format string, args ...any)) error {
	var after int64
	for ctx.Err() == nil {
		page, err := mg.s.Store.ExportUsers(ctx, mg.sunset, after, 500)
		if err != nil {
			return err
		}
		for _, u := range page {
			after = u.Seq
			switch {
			case u.MigrateState == "done":
				mg.rep.Already++
			case u.State != UserDone:
				mg.rep.Skipped++
			default:
				jobs <- u
			}
		}
		if out != nil && len(page) > 0 {
			mg.mu.Lock()
			out("migration: %d sent, %d failed so far", mg.rep.Sent, mg.rep.Failed)
			mg.mu.Unlock()
		}
		if len(page) < 500 {
			return nil
		}
	}
	return nil
}

// post sends u's export to the alternative and saves and counts the outcome; an interrupted
// run leaves the user for the next one.
func (mg *migration) post(ctx context.Context, u User) {
	zip, err := mg.dest.Bucket.ReadAll(ctx, u.Key)
	n := 0
	if err == nil {
		n, err = mg.send(ctx, u, zip)
	}
	u.MigrateAttempts += n
	u.MigratedAt = mg.s.now()
	if err != nil {
		u.MigrateState, u.MigrateError = "failed", err.Error()
	} else {
		u.MigrateState, u.MigrateError = "done", ""
	}
	if ctx.Err() != nil {
		return // interrupted: leave the user for the next run
	}
	serr := mg.s.Store.SaveMigration(ctx, &u)
	mg.mu.Lock()
	defer mg.mu.Unlock()
	if serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		mg.rep.Failed++
		if len(mg.rep.Failures) < MaxReportedFailures {
			mg.rep.Failures = append(mg.rep.Failures, MigrateFailure{User: u.ID, Error: err.Error(), Attempts: n})
		}
	} else {
		mg.rep.Sent++
	}
}

// send POSTs zip for u, retrying with exponential backoff until it is accepted, fails for good
// or the attempts run out. It returns how many attempts it made and the last error.
func (mg *migration) send(ctx context.Context, u User, zip []byte) (n int, err error) {
	target := strings.ReplaceAll(mg.url, "{id}", url.PathEscape(u.ID))
	delay := mg.backoff
	for n = 1; ; n++ {
		err = postOne(ctx, mg.client, target, mg.sunset, u, zip)
		if err == nil || Permanent(err) || n >= mg.attempts || ctx.Err() != nil {
			return n, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// postOne POSTs one user's export to target once; an error that retrying cannot cure is
// permanent.
func postOne(ctx context.Context, c *http.Client, target, sunset string, u User, zip []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(zip))
	if err != nil {
		return permanentError{err}
	}
	req.Header.Set("Content-Type", "application/zip")
	req.Header.Set("Idempotency-Key", sunset+"/"+u.ID+"/"+u.SHA256)
	req.Header.Set("X-Sunset-User", u.ID)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("POST %s answered %s: %s", redact(target), resp.Status, strings.TrimSpace(string(body)))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout {
		return err
	}
	return permanentError{err}
}
