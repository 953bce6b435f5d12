package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/web/httpx"
)

// readyTimeout bounds how long /readyz waits for Ready.
const readyTimeout = 5 * time.Second

// healthBody is the body of a passing probe.
type healthBody struct {
	Status string `json:"status"`
}

// handleHealth serves GET /healthz: the process is up. It always answers 200.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, healthBody{Status: "ok"})
}

// handleReady serves GET /readyz: 200 while Ready passes, a 503 problem otherwise. The detail is
// Ready's message when it returned a *sunset.Error, a generic sentence otherwise (logged). When
// the database cannot be written (sunset.ErrUnwritable: a full disk, a read-only database) the
// problem's code says so (storage_full or storage_unwritable) and its detail says why, still
// under 503: a load balancer takes the replica out until writes work again.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			detail := "The server is not ready to serve yet."
			code := problem.CodeUnavailable
			var se *sunset.Error
			if errors.As(err, &se) {
				detail = se.Message
			} else {
				s.logger().LogAttrs(r.Context(), slog.LevelWarn, "not ready", slog.Any("err", err))
			}
			if errors.Is(err, sunset.ErrUnwritable) {
				code = sunset.ErrorCode(err)
				s.logger().LogAttrs(r.Context(), slog.LevelWarn, "not ready: the database cannot be written", slog.Any("err", err))
			}
			p := problem.NewProblem(code, detail, nil)
			p.Status = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", "5")
			httpx.WriteProblem(w, p)
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, healthBody{Status: "ok"})
}
