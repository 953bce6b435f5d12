package public

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/web/httpx"
)

// Errors of Exports.OpenExport: a link that is not genuine (403) and one past its expiry (410).
var (
	ErrLinkInvalid = errors.New("public: invalid download link")
	ErrLinkExpired = errors.New("public: expired download link")
)

// ExportDownload is one user's export, opened through a valid link.
type ExportDownload struct {
	Service plan.Text
	UserID  string
	// Ready is false while the user's export is not made yet.
	Ready   bool
	Bytes   int64
	Expires time.Time
	// Open reads the zip; Record counts a download.
	Open   func(ctx context.Context) (io.ReadCloser, error)
	Record func(ctx context.Context) error
}

//go:embed templates/export.html
var exportFS embed.FS

var exportTemplate = template.Must(template.ParseFS(exportFS, "templates/export.html"))

// exportPage is what templates/export.html shows.
type exportPage struct {
	Lang, Title, User, Download, Expires, Size string
	Ready, Expired, Invalid                    bool
}

// openExport opens the export a link names, or answers the page that says why not: 403 for a
// link that is not genuine, 410 for an expired one.
func (s *Server) openExport(w http.ResponseWriter, r *http.Request) (*ExportDownload, string, bool) {
	lang := httpx.PageLanguage(r)
	d, err := s.Exports.OpenExport(r.Context(), r.PathValue("name"), r.PathValue("token"))
	switch {
	case errors.Is(err, ErrLinkInvalid):
		s.renderExport(w, http.StatusForbidden, exportPage{Lang: lang, Invalid: true})
		return nil, lang, false
	case errors.Is(err, ErrLinkExpired):
		s.renderExport(w, http.StatusGone, exportPage{Lang: lang, Expired: true})
		return nil, lang, false
	case err != nil:
		s.writeError(w, r, err)
		return nil, lang, false
	}
	return d, lang, true
}

// handleExportPage serves GET /exports/{name}/{token}: the public download page of one user's
// export, in English or Chinese.
func (s *Server) handleExportPage(w http.ResponseWriter, r *http.Request) {
	if !s.exportsEnabled(w, r) {
		return
	}
	d, lang, ok := s.openExport(w, r)
	if !ok {
		return
	}
	s.renderExport(w, http.StatusOK, exportPage{Lang: lang, Title: d.Service.In(lang), User: d.UserID, Ready: d.Ready,
		Download: r.URL.Path + "/download", Expires: d.Expires.UTC().Format("2006-01-02 15:04 UTC"), Size: humanBytes(d.Bytes)})
}

// handleExportDownload serves GET /exports/{name}/{token}/download: the zip, recorded as a
// download.
func (s *Server) handleExportDownload(w http.ResponseWriter, r *http.Request) {
	if !s.exportsEnabled(w, r) {
		return
	}
	d, _, ok := s.openExport(w, r)
	if !ok {
		return
	}
	if !d.Ready {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "This export is not ready yet; try again later."))
		return
	}
	rc, err := d.Open(r.Context())
	if err != nil {
		if sunset.ErrorCode(err) == sunset.ENOTFOUND {
			// A file missing or replaced by a symbolic link (never followed): 404 to the
			// visitor, the reason to the operator.
			s.logger().LogAttrs(r.Context(), slog.LevelWarn, "export download refused",
				slog.String("sunset", r.PathValue("name")), slog.String("user", d.UserID), slog.Any("err", err))
		}
		s.writeError(w, r, err)
		return
	}
	defer rc.Close()
	if err := d.Record(r.Context()); err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="`+r.PathValue("name")+`-export.zip"`)
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
}

func (s *Server) renderExport(w http.ResponseWriter, status int, p exportPage) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = exportTemplate.Execute(w, p)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
