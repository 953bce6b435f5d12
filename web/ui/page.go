package ui

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/httpx"
)

// The operator UI: server-rendered pages (overview.go, sunset.go), forms that post to the
// same logic as the API (approve.go, lessons.go), inline SVG charts (svg.go), and a
// stylesheet and a small script embedded from static/. Nothing is loaded from elsewhere, and
// every page works without the script.

//go:embed templates/ui_*.html
var uiTemplateFS embed.FS

//go:embed static
var staticFS embed.FS

// uiTemplates are the operator UI's pages; parsed once, read-only afterwards. A text key missing
// from uiTexts is an error when the page is rendered, not an empty string.
var uiTemplates = template.Must(template.New("ui").Option("missingkey=error").Funcs(template.FuncMap{
	"pct": func(v float64) string { return percentText(v) },
}).ParseFS(uiTemplateFS, "templates/ui_*.html"))

// uiCSP is the operator UI's Content-Security-Policy: the embedded stylesheet and script only,
// forms posting back to the server, no framing.
const uiCSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// uiPage is what every operator page shows around its content.
type uiPage struct {
	// Lang is the page's language tag ("en" or "zh-Hans"); Short the ?lang= value of internal
	// links ("en" or "zh").
	Lang, Short string
	T           uiText
	Title       string
	Version     string
	// Path is the page's own path, for the language switch.
	Path string
	// CSRF is the anti-forgery token embedded in the page's forms.
	CSRF string
	// AskName asks who approves in the forms: no authentication names the caller.
	AskName bool
}

// newUIPage starts a page in r's language.
func (s *Server) newUIPage(r *http.Request, title string) uiPage {
	lang := httpx.PageLanguage(r)
	short := "en"
	if lang == "zh-Hans" {
		short = "zh"
	}
	// Without authentication nobody is named: the forms ask (formActor).
	actor, err := s.actor(r)
	askName := err == nil && actor == auth.DefaultActor && s.Identify == nil
	return uiPage{Lang: lang, Short: short, T: uiTexts[lang], Title: title, Version: s.Version, Path: r.URL.Path,
		CSRF: s.CSRFToken(r), AskName: askName}
}

// renderUI executes the named template with data and writes it with the UI's headers. A template
// error is logged and answered as a problem (nothing has been written yet).
func (s *Server) renderUI(w http.ResponseWriter, r *http.Request, name string, status int, lang string, data any) {
	var buf bytes.Buffer
	if err := uiTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		s.logger().LogAttrs(r.Context(), slog.LevelError, "render page", slog.String("page", name), slog.Any("err", err))
		s.writeError(w, r, err)
		return
	}
	httpx.WriteHTML(w, status, lang, "no-store", buf.Bytes(), func(h http.Header) {
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", uiCSP)
	})
}

// staticStarted is the modification time of the embedded assets: the server's start, so that a
// new binary invalidates cached copies.
var staticStarted = time.Now().UTC().Truncate(time.Second)

// handleStatic serves GET /static/{file}: the UI's embedded stylesheet and script.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		s.handleNotFound(w, r)
		return
	}
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		s.handleNotFound(w, r)
		return
	}
	h := w.Header()
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, staticStarted, bytes.NewReader(b))
}
