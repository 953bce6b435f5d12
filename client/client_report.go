package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/sunsetops/sunset/report"
)

// ReportRequest says which document Client.Report asks for.
type ReportRequest struct {
	// Format is json, md or html; empty means json.
	Format string
	// Lang is en or zh (md and html); empty means en.
	Lang string
	// Assessment asks for the impact assessment instead of the report.
	Assessment bool
	// Accounts, when not nil, is an accounts CSV sent for the business impact.
	Accounts []byte
}

// Report returns the sunset's report (or assessment) as the server renders it. Asking for the
// report of a shut-down sunset moves it to evaluated, with the client's Actor recorded.
func (c *Client) Report(ctx context.Context, name string, req ReportRequest) ([]byte, error) {
	q := url.Values{}
	if req.Format != "" {
		q.Set("format", req.Format)
	}
	if req.Lang != "" {
		q.Set("lang", req.Lang)
	}
	if req.Assessment {
		q.Set("assessment", "1")
	}
	u := c.baseURL() + sunsetPath(name, "/report") + "?" + q.Encode()
	method := http.MethodGet
	var body io.Reader
	if req.Accounts != nil {
		method, body = http.MethodPost, bytes.NewReader(req.Accounts)
	}
	hr, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("bad server URL %q: %w", c.baseURL(), err)
	}
	if req.Accounts != nil {
		hr.Header.Set("Content-Type", "text/csv")
	}
	if c.Actor != "" {
		// The report of a shut-down sunset records who evaluated it, even on GET.
		hr.Header.Set(ActorHeader, c.Actor)
	}
	return c.send(hr)
}

// PutLessons replaces the sunset's lessons learned and returns them as kept.
func (c *Client) PutLessons(ctx context.Context, name, text string) (*report.Lessons, error) {
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return nil, err
	}
	var l report.Lessons
	if err := c.do(ctx, http.MethodPut, sunsetPath(name, "/lessons"), nil, "application/json", body, &l); err != nil {
		return nil, err
	}
	return &l, nil
}
