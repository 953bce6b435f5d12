package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
)

// Nothing about a sunset is public before its announcement. Handler wraps every public route
// whose path names a sunset ({name}) in darkUntilAnnounced, so that a public route added later
// is dark too without anyone remembering to; the rule itself is engine.Sunset.Announced.

// namesSunset reports whether a route's path names a sunset, so that its public answer depends
// on the sunset's announcement.
func namesSunset(path string) bool {
	return strings.Contains(path, "{name}")
}

// darkUntilAnnounced serves next only for a sunset that has been announced. Any other (draft,
// scheduled, cancelled, or unknown) gets the same 404 in the reader's language, so the answer
// does not even tell whether the sunset exists.
func (s *Server) darkUntilAnnounced(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, err := s.Engine.Get(r.Context(), r.PathValue("name"))
		switch {
		case sunset.ErrorCode(err) == sunset.ENOTFOUND || err == nil && !ss.Announced():
			s.publicNotFound(w, r)
		case err != nil:
			s.writeError(w, r, err)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// publicNotFoundDetail is the detail of the public 404, in each page language; %q is the name
// asked for.
var publicNotFoundDetail = map[string]string{
	"en":      "Nothing is published about %q.",
	"zh-Hans": "没有关于 %q 的公开信息。",
}

// publicNotFound answers a public route of an unknown or unannounced sunset: a 404 problem whose
// detail is in the reader's language (?lang= or Accept-Language).
func (s *Server) publicNotFound(w http.ResponseWriter, r *http.Request) {
	lang := pageLanguage(r)
	h := w.Header()
	h.Set("Content-Language", lang)
	h.Set("Vary", "Accept-Language")
	writeProblem(w, newProblem(sunset.ENOTFOUND, fmt.Sprintf(publicNotFoundDetail[lang], r.PathValue("name")), nil))
}
