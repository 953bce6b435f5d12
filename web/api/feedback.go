package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/web/httpx"
	"github.com/sunsetops/sunset/web/intake"
)

// FeedbackStore keeps users' feedback (store.Feedback implements it).
type FeedbackStore interface {
	// Add stores items, all for one sunset, and sets their IDs; sunset.ENOTFOUND for an
	// unknown sunset.
	Add(ctx context.Context, items []feedback.Feedback) error
	// List returns the sunset's feedback since an instant, oldest first.
	List(ctx context.Context, sunsetName string, since time.Time) ([]feedback.Feedback, error)
}

// maxFeedbackCSV bounds a CSV import, in bytes.
const maxFeedbackCSV = 10 << 20

// feedbackEnabled answers 404 problem when the server has no feedback store.
func (s *Server) feedbackEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Feedback == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Feedback is not kept by this server."))
		return false
	}
	return true
}

// now tells the time of the server's clock: Now, else the wall clock (sunset.Runtime).
func (s *Server) now() time.Time { return s.Runtime.Now() }

// handleFeedbackCreate serves POST /api/v1/sunsets/{name}/feedback.
// It takes application/json only and refuses a browser's post from another site (package web/intake).
func (s *Server) handleFeedbackCreate(w http.ResponseWriter, r *http.Request) {
	if !s.feedbackEnabled(w, r) {
		return
	}
	if err := s.intakes().CheckAPI(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.allowFeedback(w, r) {
		return
	}
	name := r.PathValue("name")
	var in feedback.Input
	if err := httpx.ReadJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.intakes().AllowSunset(name) {
		s.writeError(w, r, intake.TooManyForSunset(w))
		return
	}
	f, err := feedback.New(name, in, s.now(), "api")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f.Sender = s.intakes().SenderOf(r)
	items := []feedback.Feedback{f}
	if err := s.Feedback.Add(r.Context(), items); err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, items[0])
}

// handleFeedbackImport serves POST /api/v1/sunsets/{name}/feedback/import: a CSV export from a
// support tool. Valid rows are stored; the others are listed with their line.
func (s *Server) handleFeedbackImport(w http.ResponseWriter, r *http.Request) {
	if !s.feedbackEnabled(w, r) {
		return
	}
	name := r.PathValue("name")
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.Engine.Status(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFeedbackCSV))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, r, httpx.TooLarge("the CSV file", maxFeedbackCSV))
			return
		}
		s.writeError(w, r, err)
		return
	}
	items, problems, err := feedback.ImportCSV(name, bytes.NewReader(body), loc, s.now())
	if err != nil {
		s.writeError(w, r, &sunset.Error{Code: sunset.EINVALID, Message: err.Error()})
		return
	}
	if err := s.Feedback.Add(r.Context(), items); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Audit(r, name, "feedback.imported", actor, map[string]any{"imported": len(items), "problems": len(problems)}); err != nil {
		s.writeError(w, r, err)
		return
	}
	if problems == nil {
		problems = []feedback.ImportProblem{}
	}
	httpx.WriteJSON(w, http.StatusOK, client.ImportResult{Imported: len(items), Problems: problems})
}

// handleFeedbackSummary serves GET /api/v1/sunsets/{name}/feedback/summary.
func (s *Server) handleFeedbackSummary(w http.ResponseWriter, r *http.Request) {
	if !s.feedbackEnabled(w, r) {
		return
	}
	sum, err := s.feedbackSummary(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, sum)
}

func (s *Server) feedbackSummary(ctx context.Context, name string) (*feedback.Summary, error) {
	st, err := s.Engine.Status(ctx, name)
	if err != nil {
		return nil, err
	}
	items, err := s.Feedback.List(ctx, name, time.Time{})
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	sum := feedback.Summarize(name, items, loc, s.Themer)
	return &sum, nil
}

// --- The public form ---

// allowFeedback applies the per-client rate limit to feedback API posts, answering 429 when
// over. The forms apply it in screenPublicForm.
func (s *Server) allowFeedback(w http.ResponseWriter, r *http.Request) bool {
	if s.intakes().AllowAddress(r) {
		return true
	}
	w.Header().Set("Retry-After", "60")
	s.writeError(w, r, &sunset.Error{Code: problem.CodeTooMany, Message: "Too many messages from your address; try again in a minute."})
	return false
}
