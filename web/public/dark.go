package public

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/web/httpx"
)

// Nothing about a sunset is public before its announcement. Handler wraps every public route
// whose path names a sunset ({name}) in DarkUntilAnnounced, so that a public route added later
// is dark too without anyone remembering to; the rule itself is engine.Sunset.Announced.

// NamesSunset reports whether a route's path names a sunset, so that its public answer depends
// on the sunset's announcement.
func NamesSunset(path string) bool {
	return strings.Contains(path, "{name}")
}

// DarkUntilAnnounced serves next only for a sunset that has been announced. Any other (draft,
// scheduled, cancelled, or unknown) gets the same 404 in the reader's language, so the answer
// does not even tell whether the sunset exists.
func (s *Server) DarkUntilAnnounced(next http.Handler) http.Handler {
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

// publicNotFoundDetail is the detail of the public 404, in each page language, around the name
// asked for.
var publicNotFoundDetail = map[string]string{
	"en":      "Nothing is published about %q.",
	"zh-Hans": "没有关于“%s”的公开信息。",
}

//go:embed templates/public_notfound.html
var publicNotFoundHTML string

var publicNotFoundTemplate = template.Must(template.New("public_notfound").Parse(publicNotFoundHTML))

// publicNotFoundTitle and publicNotFoundLanguage are the HTML page's heading and its language
// menu's label, in each page language.
var (
	publicNotFoundTitle    = map[string]string{"en": "Not found", "zh-Hans": "未找到"}
	publicNotFoundLanguage = map[string]string{"en": "Language", "zh-Hans": "语言"}
)

// publicNotFound answers a public route of an unknown or unannounced sunset in the reader's
// language (?lang= or Accept-Language): a small HTML page for a browser asking for a page, a 404
// problem otherwise.
func (s *Server) publicNotFound(w http.ResponseWriter, r *http.Request) {
	lang := httpx.PageLanguage(r)
	detail := fmt.Sprintf(publicNotFoundDetail[lang], r.PathValue("name"))
	if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
		n := httpx.Nonce()
		var buf bytes.Buffer
		err := publicNotFoundTemplate.Execute(&buf, map[string]string{"Lang": lang, "Nonce": n, "Title": publicNotFoundTitle[lang],
			"Language": publicNotFoundLanguage[lang], "Detail": detail})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		httpx.WriteHTML(w, http.StatusNotFound, lang, "no-store", buf.Bytes(), func(h http.Header) {
			httpx.SetPageSecurity(h, n)
			h.Set("Vary", "Accept, Accept-Language")
		})
		return
	}
	h := w.Header()
	h.Set("Content-Language", lang)
	h.Set("Vary", "Accept, Accept-Language")
	httpx.WriteProblem(w, problem.NewProblem(sunset.ENOTFOUND, detail, nil))
}
