package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/sunsetops/sunset/backup/export/progress"
	"github.com/sunsetops/sunset/runbook/runs"
)

// RunExport starts the export job of the sunset called name on the server.
func (c *Client) RunExport(ctx context.Context, name string, req ExportRunRequest) (*ExportStatus, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var p ExportStatus
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/exports/run"), nil, "application/json", body, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ExportStatus returns where the exports of the sunset called name stand.
func (c *Client) ExportStatus(ctx context.Context, name string) (*ExportStatus, error) {
	var p ExportStatus
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/exports"), nil, "", nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ExportCheck says whether every export of the sunset called name was downloaded or is kept in
// a backup, and what is missing.
func (c *Client) ExportCheck(ctx context.Context, name string) (*progress.CheckReport, error) {
	var rep progress.CheckReport
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/exports/check"), nil, "", nil, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// KeepExports makes the server archive the exports no one downloaded into a verified backup.
func (c *Client) KeepExports(ctx context.Context, name string) (*ExportKept, error) {
	var k ExportKept
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/exports/keep"), nil, "application/json", []byte("{}"), &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// ExportLink returns the download link of user's export.
func (c *Client) ExportLink(ctx context.Context, name, user string) (*ExportLink, error) {
	var l ExportLink
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/exports/links/"+url.PathEscape(user)), nil, "", nil, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// ApproveDelete records the client's actor's approval of the deletion of the sunset's data.
func (c *Client) ApproveDelete(ctx context.Context, name string) (*DeleteApprovals, error) {
	var a DeleteApprovals
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/data/delete-approvals"), nil, "application/json", []byte("{}"), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteData asks the server to delete the sunset's data now, under the retention rules.
func (c *Client) DeleteData(ctx context.Context, name string) (*runs.Deletion, error) {
	var d runs.Deletion
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/data/delete"), nil, "application/json", []byte("{}"), &d); err != nil {
		return nil, err
	}
	return &d, nil
}
