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
	attempts := m.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	backoff := o.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	client := s.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	rep := &MigrateReport{}
	var mu sync.Mutex
	post := func(u User) {
		zip, err := dest.Bucket.ReadAll(ctx, u.Key)
		n := 0
		if err == nil {
			target := strings.ReplaceAll(m.URL, "{id}", url.PathEscape(u.ID))
			delay := backoff
			for n = 1; ; n++ {
				err = postOne(ctx, client, target, sunset, u, zip)
				if err == nil || Permanent(err) || n >= attempts || ctx.Err() != nil {
					break
				}
				select {
				case <-ctx.Done():
				case <-time.After(delay):
				}
				delay *= 2
			}
		}
		u.MigrateAttempts += n
		u.MigratedAt = s.now()
		if err != nil {
			u.MigrateState, u.MigrateError = "failed", err.Error()
		} else {
			u.MigrateState, u.MigrateError = "done", ""
		}
		if ctx.Err() != nil {
			return // interrupted: leave the user for the next run
		}
		serr := s.Store.SaveMigration(ctx, &u)
		mu.Lock()
		defer mu.Unlock()
		if serr != nil && err == nil {
			err = serr
		}
		if err != nil {
			rep.Failed++
			if len(rep.Failures) < MaxReportedFailures {
				rep.Failures = append(rep.Failures, MigrateFailure{User: u.ID, Error: err.Error(), Attempts: n})
			}
		} else {
			rep.Sent++
		}
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
				post(u)
			}
		})
	}
	var after int64
	var lerr error
	for ctx.Err() == nil {
		page, err := s.Store.ExportUsers(ctx, sunset, after, 500)
		if err != nil {
			lerr = err
			break
		}
		for _, u := range page {
			after = u.Seq
			switch {
			case u.MigrateState == "done":
				rep.Already++
			case u.State != UserDone:
				rep.Skipped++
			default:
				jobs <- u
			}
		}
		if o.Out != nil && len(page) > 0 {
			mu.Lock()
			o.Out("migration: %d sent, %d failed so far", rep.Sent, rep.Failed)
			mu.Unlock()
		}
		if len(page) < 500 {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if lerr != nil {
		return rep, lerr
	}
	return rep, ctx.Err()
}

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
