package export

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Fetcher fetches one user's data.
type Fetcher interface {
	Fetch(ctx context.Context, userID string) (*Data, error)
}

// MaxUserBytes is the largest answer accepted for one user.
const MaxUserBytes = 256 << 20

// permanentError is a failure that a retry will not cure.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent reports whether err is a failure that retrying will not cure (a 4xx answer, a bad
// query).
func Permanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// HTTPFetcher fetches a user's data with GET on URL, in which {id} is replaced by the user's id
// (path-escaped).
type HTTPFetcher struct {
	URL    string
	Client *http.Client
}

// Fetch gets the user's data.
func (f *HTTPFetcher) Fetch(ctx context.Context, userID string) (*Data, error) {
	u := strings.ReplaceAll(f.URL, "{id}", url.PathEscape(userID))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, permanentError{err}
	}
	req.Header.Set("Accept", "application/json")
	c := f.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxUserBytes+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("GET %s answered %s", redact(u), resp.Status)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout {
			return nil, permanentError{err}
		}
		return nil, err
	}
	if len(body) > MaxUserBytes {
		return nil, permanentError{fmt.Errorf("the answer for user %s is larger than %d MiB", userID, MaxUserBytes>>20)}
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if (mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "") && json.Valid(body) {
		return &Data{JSON: body}, nil
	}
	return &Data{Raw: body, ContentType: ct}, nil
}

// redact drops the query of a URL, which may hold a token.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// SQLFetcher runs Query, with the user's id as its one parameter, against DB.
type SQLFetcher struct {
	DB    *sql.DB
	Query string
}

// Fetch runs the query for the user.
func (f *SQLFetcher) Fetch(ctx context.Context, userID string) (*Data, error) {
	rows, err := f.DB.QueryContext(ctx, f.Query, userID)
	if err != nil {
		return nil, fmt.Errorf("export query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	d := &Data{Columns: cols, Rows: [][]any{}}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		d.Rows = append(d.Rows, vals)
	}
	return d, rows.Err()
}
