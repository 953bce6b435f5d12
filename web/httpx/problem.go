package httpx

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
)

// StorageRetryAfter is the Retry-After of a storage failure's answer, in seconds: about the
// readiness probe's interval, after which the server knows whether writes work again.
const StorageRetryAfter = "10"

// InternalDetail is what a client sees of an internal error; the error itself is logged.
const InternalDetail = "The server hit an internal error; it has been logged. Try again, and report it if it persists."

// ProblemFor translates err into a problem. A *sunset.Error of a known code keeps its code,
// message and details; anything else is internal and shown as a generic sentence.
func ProblemFor(err error) *problem.Problem {
	var se *sunset.Error
	if !errors.As(err, &se) {
		return problem.NewProblem(sunset.EINTERNAL, InternalDetail, nil)
	}
	if !problem.KnownCode(se.Code) || se.Code == sunset.EINTERNAL {
		return problem.NewProblem(sunset.EINTERNAL, InternalDetail, nil)
	}
	return problem.NewProblem(se.Code, se.Message, se.Details)
}

// WriteProblem writes p as application/problem+json. A storage failure's answer says when to
// try again (Retry-After).
func WriteProblem(w http.ResponseWriter, p *problem.Problem) {
	h := w.Header()
	h.Set("Content-Type", problem.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if p.Code == sunset.EFULL || p.Code == sunset.EUNWRITABLE {
		h.Set("Retry-After", StorageRetryAfter)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// WriteError answers err as a problem. Internal errors, including errors of unknown codes, are
// logged to log with the request's method and path; their text never reaches the client.
func WriteError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	p := ProblemFor(err)
	if p.Status >= 500 {
		log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Any("err", err))
	}
	WriteProblem(w, p)
}
