package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// ExportProgress is the export status as the client reads it: the job, the counts, and whether
// the server is running the job now.
type ExportProgress struct {
	Job *struct {
		State    string    `json:"state"`
		Source   string    `json:"source"`
		Position int64     `json:"position"`
		Done     int64     `json:"done"`
		Failed   int64     `json:"failed"`
		Expires  time.Time `json:"expires"`
		Message  string    `json:"message"`
	} `json:"job"`
	Counts struct {
		Users  int64 `json:"users"`
		Done   int64 `json:"done"`
		Failed int64 `json:"failed"`
	} `json:"counts"`
	// Running is true while the server runs the job; RunError is why its last run stopped.
	Running  bool   `json:"running"`
	RunError string `json:"run_error"`
}

// RunExport starts the export job of the sunset called name on the server.
func (c *Client) RunExport(ctx context.Context, name string, req ExportRunRequest) (*ExportProgress, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var p ExportProgress
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/exports/run"), nil, "application/json", body, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ExportStatus returns where the exports of the sunset called name stand.
func (c *Client) ExportStatus(ctx context.Context, name string) (*ExportProgress, error) {
	var p ExportProgress
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/exports"), nil, "", nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
