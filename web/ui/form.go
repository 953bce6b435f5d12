package ui

import (
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/httpx"
)

// The operator UI's forms post here and run the same logic as the API: approving a runbook
// step (approve.go) and editing the lessons learned (lessons.go). A refused form answers
// the sunset's page with the problem shown in it; an accepted one redirects back (303) so that
// reloading does not post again.

// readUIForm reads a posted form of at most limit bytes.
// uiForm reads a form of the operator UI of at most limit bytes and names who sent it
// (formActor). When it cannot, it has answered with the page and the problem, and ok is false:
// a body over limit is 413, one that does not parse 400.
func (s *Server) uiForm(w http.ResponseWriter, r *http.Request, limit int64) (actor string, ok bool) {
	if err := readUIForm(w, r, limit); err != nil {
		var tooBig *http.MaxBytesError
		if !errors.As(err, &tooBig) {
			err = sunset.Errorf(sunset.EINVALID, "The form could not be read.")
		}
		s.formProblem(w, r, err)
		return "", false
	}
	actor, err := s.formActor(r)
	if err != nil {
		s.formProblem(w, r, err)
		return "", false
	}
	return actor, true
}

func readUIForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return r.ParseForm()
}

// formActor names who posted a form: the Identify hook's caller when authentication is on;
// without it, the name typed in the form (checked like the X-Sunset-Actor header), else the
// header, else DefaultActor.
func (s *Server) formActor(r *http.Request) (string, error) {
	if p := auth.PrincipalFrom(r.Context()); p != nil {
		return p.Name, nil // an authenticated caller never names someone else
	}
	actor, err := s.actor(r)
	if err != nil || s.Identify != nil || actor != auth.DefaultActor {
		return actor, err
	}
	typed := strings.TrimSpace(r.PostFormValue("actor"))
	if typed == "" {
		return actor, nil
	}
	return auth.HeaderActor(&http.Request{Header: http.Header{client.ActorHeader: {typed}}})
}

// formProblem answers a refused form: the sunset's page with the problem's sentence in it, under
// the problem's status. Internal errors are logged and shown as a generic sentence.
func (s *Server) formProblem(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = httpx.TooLarge("the form", tooBig.Limit)
	}
	p := httpx.ProblemFor(err)
	if p.Status >= 500 {
		s.logger().LogAttrs(r.Context(), slog.LevelError, "form failed", slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	var u *sunset.UnwritableError
	if errors.As(err, &u) {
		// The page is read in its own language; the API's problem is English.
		msg = u.Message(httpx.ShortLang(httpx.PageLanguage(r)))
	}
	s.renderSunset(w, r, p.Status, "", msg)
}

// redirectDone sends the browser back to the sunset's page, at anchor, saying what was done.
func redirectDone(w http.ResponseWriter, r *http.Request, done, anchor string) {
	q := url.Values{"lang": {httpx.ShortLang(httpx.PageLanguage(r))}, "done": {done}}
	to := "/s/" + url.PathEscape(r.PathValue("name")) + "?" + q.Encode() + "#" + anchor
	// net/http writes no body for a redirected POST; say where to go for clients that show it.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Location", to)
	w.WriteHeader(http.StatusSeeOther)
	fmt.Fprintf(w, "<!doctype html><a href=\"%s\">%s</a>\n", html.EscapeString(to), html.EscapeString(to))
}
