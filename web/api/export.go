package api

import (
	"context"
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup/export/progress"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/httpx"
)

// Exports is what the server needs of the per-user exports. Errors are *sunset.Error values,
// (the download links are public.Exports).
type Exports interface {
	// ExportStatus returns the export job and counts of a sunset.
	ExportStatus(ctx context.Context, name string) (*client.ExportStatus, error)
	// ExportCheck says whether every export of a sunset was downloaded or is kept in a backup,
	// as the deletion of its data requires.
	ExportCheck(ctx context.Context, name string) (*progress.CheckReport, error)
	// KeepExports archives every export not downloaded into a verified backup (signed with the
	// server's backup key), so that the deletion may proceed.
	KeepExports(ctx context.Context, name string) (*client.ExportKept, error)
	// ExportLink returns the signed download link of one user's export.
	ExportLink(ctx context.Context, name, user string) (*client.ExportLink, error)
}

func (s *Server) exportsEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Exports == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Exports are not served by this server."))
		return false
	}
	return true
}

// handleExportStatus serves GET /api/v1/sunsets/{name}/exports.
func (s *Server) handleExportStatus(w http.ResponseWriter, r *http.Request) {
	if !s.exportsEnabled(w, r) {
		return
	}
	st, err := s.Exports.ExportStatus(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, st)
}

// handleExportCheck serves GET /api/v1/sunsets/{name}/exports/check: whether every export was
// downloaded or is kept in a backup (ok), and what is missing.
func (s *Server) handleExportCheck(w http.ResponseWriter, r *http.Request) {
	if !s.exportsEnabled(w, r) {
		return
	}
	rep, err := s.Exports.ExportCheck(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, rep)
}

// handleExportKeep serves POST /api/v1/sunsets/{name}/exports/keep: the exports no one
// downloaded go into a verified backup archive, recorded as export.kept.
func (s *Server) handleExportKeep(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if err := httpx.ReadJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.exportsEnabled(w, r) {
		return
	}
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name := r.PathValue("name")
	kept, err := s.Exports.KeepExports(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Audit(r, name, "export.kept", actor, map[string]any{"archive": kept.Archive, "kept": kept.Kept}); err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, kept)
}

// handleExportLink serves GET /api/v1/sunsets/{name}/exports/links/{user}: the signed download
// link of one user's export (operator: the link opens the user's data).
func (s *Server) handleExportLink(w http.ResponseWriter, r *http.Request) {
	if !s.exportsEnabled(w, r) {
		return
	}
	user := r.PathValue("user")
	if err := httpx.CheckText("user", user, auth.MaxActorLen); err != nil {
		s.writeError(w, r, err)
		return
	}
	l, err := s.Exports.ExportLink(r.Context(), r.PathValue("name"), user)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, l)
}
