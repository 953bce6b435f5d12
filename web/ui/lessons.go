package ui

import (
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/web/httpx"
)

// handleUILessons serves POST /s/{name}/lessons: the lessons-learned form. It does what
// PUT /api/v1/sunsets/{name}/lessons does.
func (s *Server) handleUILessons(w http.ResponseWriter, r *http.Request) {
	if s.Reports == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Reports are not kept by this server."))
		return
	}
	actor, ok := s.uiForm(w, r, 4*httpx.MaxLessons+4096)
	if !ok {
		return
	}
	// Browsers send CRLF line ends from a textarea; keep LF like the API's text.
	text := strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("text"), "\r\n", "\n"))
	if len([]rune(text)) > httpx.MaxLessons {
		s.formProblem(w, r, sunset.Errorf(sunset.EINVALID, "The lessons are longer than %d characters.", httpx.MaxLessons))
		return
	}
	l := report.Lessons{UpdatedBy: actor, UpdatedAt: s.now().UTC()}
	if text != "" {
		l.Text = text + "\n"
	}
	if err := s.Reports.PutLessons(r.Context(), r.PathValue("name"), l); err != nil {
		s.formProblem(w, r, err)
		return
	}
	if err := s.Audit(r, r.PathValue("name"), "lessons.updated", actor, map[string]any{"characters": len([]rune(l.Text))}); err != nil {
		s.formProblem(w, r, err)
		return
	}
	redirectDone(w, r, "lessons", "lessons")
}
