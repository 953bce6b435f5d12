package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
)

// maxPlanBody is the largest plan accepted, the same limit the plan decoder enforces on files.
const maxPlanBody = 10 << 20

// defaultPlanFile is the file name used in plan problems when the request names none.
const defaultPlanFile = "plan.yaml"

// handlePlanApply serves POST /api/v1/plans: the body is a plan's YAML, in any content type.
// It answers 201 with the ApplyResult when the sunset was created, 200 when it already existed.
func (s *Server) handlePlanApply(w http.ResponseWriter, r *http.Request) {
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	file, err := planFileName(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPlanBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.writeError(w, r, sunset.Errorf(codeTooLarge, "The plan is larger than %d bytes (10 MB).", tooLarge.Limit))
			return
		}
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "Cannot read the plan: %v.", err))
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "The request body is empty: send the plan's YAML, e.g. curl --data-binary @sunset.yaml."))
		return
	}
	res, err := s.Engine.Apply(r.Context(), file, data, actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.NoticeLinksWarning != "" && res.Sunset != nil {
		if p, _, err := s.Engine.Plan(r.Context(), res.Sunset.Name); err == nil && deliversNotices(p) {
			res.Warnings = append(res.Warnings, s.NoticeLinksWarning)
		}
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
		if res.Sunset != nil {
			w.Header().Set("Location", "/api/v1/sunsets/"+url.PathEscape(res.Sunset.Name))
		}
	}
	writeJSON(w, status, res)
}

// planFileName returns the ?file= query parameter, the name used in plan problems, or
// defaultPlanFile. It must be printable and at most 200 characters.
func planFileName(q url.Values) (string, error) {
	file := strings.TrimSpace(q.Get("file"))
	if file == "" {
		return defaultPlanFile, nil
	}
	if len([]rune(file)) > 200 {
		return "", sunset.Errorf(sunset.EINVALID, "The file parameter is longer than 200 characters.")
	}
	for _, c := range file {
		if !unicode.IsPrint(c) {
			return "", sunset.Errorf(sunset.EINVALID, "The file parameter holds a character that is not printable.")
		}
	}
	return file, nil
}

// deliversNotices reports whether plan p sends messages to people or endpoints: a notice over a
// channel other than the public pages (banner, feed, status page), or owners with an address
// (their task reminders).
func deliversNotices(p *plan.Plan) bool {
	for _, n := range p.Notices {
		for _, c := range n.Channels {
			if !slices.Contains(notify.Publications, c) {
				return true
			}
		}
	}
	for _, o := range p.Service.Owners {
		if o.Email != "" {
			return true
		}
	}
	return false
}
