package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/sunsetops/sunset/runbook/runs"
)

// RunbookStatus returns the latest runbook run of the sunset called name, with its approvals and
// log.
func (c *Client) RunbookStatus(ctx context.Context, name string) (*runs.RunView, error) {
	var v runs.RunView
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/runbook"), nil, "", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// RunbookDryRun describes the runbook a run of the sunset would carry out; nothing runs.
func (c *Client) RunbookDryRun(ctx context.Context, name string) (*runs.DryRun, error) {
	var d runs.DryRun
	if err := c.postJSON(ctx, sunsetPath(name, "/runbook/runs"), RunStartRequest{DryRun: true}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// StartRunbook starts a run of the sunset's runbook; the server drives it.
func (c *Client) StartRunbook(ctx context.Context, name string) (*runs.RunView, error) {
	return c.runbookCall(ctx, name, "/runbook/runs", RunStartRequest{})
}

// ApproveRunbook approves step of the latest run, in role (empty means approver), as the
// client's actor (or the token's name).
func (c *Client) ApproveRunbook(ctx context.Context, name, step, role string) (*runs.RunView, error) {
	return c.runbookCall(ctx, name, "/runbook/approvals", ApprovalRequest{Step: step, Role: role})
}

// ResumeRunbook sends an operator's decision about the latest run.
func (c *Client) ResumeRunbook(ctx context.Context, name string, req runs.ResumeRequest) (*runs.RunView, error) {
	return c.runbookCall(ctx, name, "/runbook/resume", req)
}

// AbortRunbook ends the latest run; reason is required.
func (c *Client) AbortRunbook(ctx context.Context, name, reason string) (*runs.RunView, error) {
	return c.runbookCall(ctx, name, "/runbook/abort", TransitionRequest{Reason: reason})
}

// StartBackup asks the server to take the sunset's declared backups (req.Backup, or all).
func (c *Client) StartBackup(ctx context.Context, name string, req runs.BackupRequest) (*runs.BackupJob, error) {
	var job runs.BackupJob
	if err := c.postJSON(ctx, sunsetPath(name, "/backups"), req, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// Backups lists the archives of the sunset's declared backups and the server's latest backup job.
func (c *Client) Backups(ctx context.Context, name string) (*runs.BackupList, error) {
	var l runs.BackupList
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/backups"), nil, "", nil, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// runbookCall posts body to one of the sunset's runbook routes and decodes the run.
func (c *Client) runbookCall(ctx context.Context, name, sub string, body any) (*runs.RunView, error) {
	var v runs.RunView
	if err := c.postJSON(ctx, sunsetPath(name, sub), body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// postJSON posts body as JSON to path and decodes the answer into out.
func (c *Client) postJSON(ctx context.Context, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, nil, "application/json", data, out)
}
