package api

import (
	"context"
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/web/httpx"
)

// Limits of an ExportRunRequest.
const (
	maxExportBatch   = 100000
	maxExportWorkers = 256
)

// ExportRunner is what Exports may also do: run the export job of a sunset on the server, in the
// background, resuming where the last run stopped. Its answer is the export status (with
// "running": true); a run already going on is not started twice. When the Server's Exports
// does not implement it, the run route answers 404.
type ExportRunner interface {
	RunExport(ctx context.Context, name string, req client.ExportRunRequest) (*client.ExportStatus, error)
}

// handleExportRun serves POST /api/v1/sunsets/{name}/exports/run: it starts the export job on
// the server and answers 202 with the export status; GET …/exports follows it.
func (s *Server) handleExportRun(w http.ResponseWriter, r *http.Request) {
	var req client.ExportRunRequest
	if err := httpx.DecodeJSON(http.MaxBytesReader(w, r.Body, 4096), &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkExportRun(req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.exportsEnabled(w, r) {
		return
	}
	er, ok := s.Exports.(ExportRunner)
	if !ok {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "This server does not run exports."))
		return
	}
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := er.RunExport(r.Context(), r.PathValue("name"), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Audit(r, r.PathValue("name"), "export.run_started", actor, map[string]any{"batch": req.Batch, "workers": req.Workers, "retry_failed": req.RetryFailed}); err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, st)
}

// checkExportRun refuses out-of-range settings.
func checkExportRun(req client.ExportRunRequest) error {
	if req.Batch < 0 || req.Batch > maxExportBatch {
		return sunset.Errorf(sunset.EINVALID, "batch must be between 1 and %d (0 for the default).", maxExportBatch)
	}
	if req.Workers < 0 || req.Workers > maxExportWorkers {
		return sunset.Errorf(sunset.EINVALID, "workers must be between 1 and %d (0 for the default).", maxExportWorkers)
	}
	return nil
}
