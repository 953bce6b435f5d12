package api

import (
	"context"
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/runbook/runs"
	"github.com/sunsetops/sunset/web/httpx"
)

// Retention is what the server needs of the deletion of a sunset's data after its delete_data
// action. Errors are *sunset.Error values: ENOTFOUND for an unknown sunset, ECONFLICT for a second
// approval by the same person, and for a deletion refused (before delete_data, after a
// deletion, or while the retention rules forbid it: the detail says why).
type Retention interface {
	// ApproveDelete records person's approval of the deletion of the sunset's data.
	ApproveDelete(ctx context.Context, name, person string) (*client.DeleteApprovals, error)
	// DeleteData deletes the sunset's data now and records data.deleted by actor.
	DeleteData(ctx context.Context, name, actor string) (*runs.Deletion, error)
}

func (s *Server) retentionEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Retention == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Data deletion is not handled by this server."))
		return false
	}
	return true
}

// handleDeleteApprove serves POST /api/v1/sunsets/{name}/data/delete-approvals: the caller (the
// actor) approves the deletion of the sunset's data, recorded as data.delete_approved.
func (s *Server) handleDeleteApprove(w http.ResponseWriter, r *http.Request) {
	retentionAction(s, w, r, http.StatusCreated, func(ctx context.Context, name, actor string) (*client.DeleteApprovals, error) {
		return s.Retention.ApproveDelete(ctx, name, actor)
	})
}

// handleDataDelete serves POST /api/v1/sunsets/{name}/data/delete: the deletion of the sunset's
// data that its delete_data action could not perform, under the same rules, recorded as
// data.deleted.
func (s *Server) handleDataDelete(w http.ResponseWriter, r *http.Request) {
	retentionAction(s, w, r, http.StatusOK, func(ctx context.Context, name, actor string) (*runs.Deletion, error) {
		return s.Retention.DeleteData(ctx, name, actor)
	})
}

// retentionAction runs one of the retention routes: an empty JSON body, the retention service
// on, the caller named; then do for the sunset, answered with status.
func retentionAction[T any](s *Server, w http.ResponseWriter, r *http.Request, status int, do func(ctx context.Context, name, actor string) (T, error)) {
	var req struct{}
	if err := httpx.ReadJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.retentionEnabled(w, r) {
		return
	}
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := do(r.Context(), r.PathValue("name"), actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, status, res)
}
