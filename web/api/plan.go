package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/web/httpx"
)

// maxPlanBody is the largest plan accepted, the same limit the plan decoder enforces on files.
const maxPlanBody = plan.MaxPlanSize

// DefaultMaxBundle is the largest plan bundle POST /api/v1/plans accepts unless
// Server.MaxBundle says otherwise: the plan and every file it references together (a contacts
// file of a million rows is about 60 MB). Beyond it the answer is 413 and nothing is stored.
const DefaultMaxBundle = 256 << 20

// bundleRoute is the route that takes plan bundles, whose body may be larger than other routes'.
const bundleRoute = "POST /api/v1/plans"

// maxBundle is the largest bundle the server accepts.
func (s *Server) maxBundle() int64 {
	if s.MaxBundle > 0 {
		return s.MaxBundle
	}
	return DefaultMaxBundle
}

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
	if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		s.applyBundle(w, r, file, params["boundary"], actor)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPlanBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.writeError(w, r, sunset.Errorf(problem.CodeTooLarge, "The plan is larger than %d bytes (1 MB).", tooLarge.Limit))
			return
		}
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "Cannot read the plan: %v.", err))
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "The request body is empty: send the plan's YAML, e.g. curl --data-binary @sunset.yaml."))
		return
	}
	s.withPlanSlot(w, r, func() {
		res, err := s.Engine.Apply(r.Context(), file, data, actor)
		s.writeApplied(w, r, res, err)
	})
}

// applyBundle applies a multipart/form-data bundle: the part named plan first (its filename
// names the plan in problems), then one part per file the plan references, named as the plan
// writes it. Parts are read as they arrive; a contacts part goes to the store in batches.
func (s *Server) applyBundle(w http.ResponseWriter, r *http.Request, file, boundary, actor string) {
	if boundary == "" {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "The multipart body has no boundary."))
		return
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, s.maxBundle()), boundary)
	part, err := mr.NextPart()
	if err != nil {
		s.writeError(w, r, bundleReadError(err, "the plan part"))
		return
	}
	if part.FormName() != "plan" {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "The first part of a plan bundle must be named plan (the plan's YAML), not %q.", part.FormName()))
		return
	}
	if _, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		if file, err = planFileName(url.Values{"file": {params["filename"]}}); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	data, err := io.ReadAll(io.LimitReader(part, maxPlanBody+1))
	if err != nil {
		s.writeError(w, r, bundleReadError(err, "the plan part"))
		return
	}
	if len(data) > maxPlanBody {
		s.writeError(w, r, sunset.Errorf(problem.CodeTooLarge, "The plan is larger than %d bytes (1 MB).", maxPlanBody))
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "The plan part is empty: send the plan's YAML."))
		return
	}
	files := func(refs []plan.Reference, fn func(name string, body io.Reader) error) error {
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return bundleReadError(err, "the bundle")
			}
			if err := fn(part.FormName(), &partReader{name: part.FormName(), r: part}); err != nil {
				return err
			}
		}
	}
	s.withPlanSlot(w, r, func() {
		res, err := s.Engine.ApplyBundle(r.Context(), file, data, files, actor)
		s.writeApplied(w, r, res, err)
	})
}

// bundleReadError is a failure to read the request body of a bundle: 413 beyond MaxBundle,
// 400 for a malformed body.
func bundleReadError(err error, what string) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return sunset.Errorf(problem.CodeTooLarge, "The plan bundle is larger than %d bytes; nothing was stored.", tooLarge.Limit)
	}
	return sunset.Errorf(sunset.EINVALID, "Cannot read %s of the plan bundle: %v; nothing was stored.", what, err)
}

// bodyError is a failure to read a bundle part's bytes, as opposed to a failure to store them.
type bodyError struct {
	what string
	err  error
}

func (e *bodyError) Error() string { return e.what + ": " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// partReader marks the errors of reading a part as the request's, not the server's.
type partReader struct {
	name string
	r    io.Reader
}

func (p *partReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &bodyError{what: fmt.Sprintf("part %q", p.name), err: err}
	}
	return n, err
}

// writeApplied answers an apply: 201 when it created the sunset, 200 otherwise.
func (s *Server) writeApplied(w http.ResponseWriter, r *http.Request, res *engine.ApplyResult, err error) {
	if be := (*bodyError)(nil); errors.As(err, &be) {
		err = bundleReadError(be.err, be.what)
	}
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
	httpx.WriteJSON(w, status, res)
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
