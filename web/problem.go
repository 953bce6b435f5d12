package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
)

// storageRetryAfter is the Retry-After of a storage failure's answer, in seconds: about the
// readiness probe's interval, after which the server knows whether writes work again.
const storageRetryAfter = "10"

// internalDetail is what a client sees of an internal error; the error itself is logged.
const internalDetail = "The server hit an internal error; it has been logged. Try again, and report it if it persists."

// problemFor translates err into a problem. A *sunset.Error of a known code keeps its code,
// message and details; anything else is internal and shown as a generic sentence.
func problemFor(err error) *client.Problem {
	var se *sunset.Error
	if !errors.As(err, &se) {
		return client.NewProblem(sunset.EINTERNAL, internalDetail, nil)
	}
	if !client.KnownCode(se.Code) || se.Code == sunset.EINTERNAL {
		return client.NewProblem(sunset.EINTERNAL, internalDetail, nil)
	}
	return client.NewProblem(se.Code, se.Message, se.Details)
}

// writeProblem writes p as application/problem+json. A storage failure's answer says when to
// try again (Retry-After).
func writeProblem(w http.ResponseWriter, p *client.Problem) {
	h := w.Header()
	h.Set("Content-Type", client.ProblemContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if p.Code == sunset.EFULL || p.Code == sunset.EUNWRITABLE {
		h.Set("Retry-After", storageRetryAfter)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeError answers err as a problem. Internal errors, including errors of unknown codes, are
// logged with the request's method and path; their text never reaches the client.
//
// A storage failure met by a browser outside the API is answered with a page in the reader's
// language instead (writeStoragePage).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if s.writeStoragePage(w, r, err) {
		return
	}
	p := problemFor(err)
	if p.Status >= 500 {
		s.logger().LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Any("err", err))
	}
	writeProblem(w, p)
}
