package ui

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/web/httpx"
)

// storagePageText is the storage failure page's words in one language.
type storagePageText struct{ Heading, Back string }

var storagePageTexts = map[string]storagePageText{
	"en": {Heading: "Nothing was saved: try again shortly",
		Back: "Go back with your browser: the form still holds what you typed. Send it again in a few minutes."},
	"zh-Hans": {Heading: "没有保存任何内容：请稍后再试",
		Back: "请用浏览器返回：表单中仍保留您填写的内容。几分钟后再提交一次。"},
}

// wantsPage reports whether r comes from a person's browser outside the API: the answer should
// be a page in their language rather than a problem document.
func wantsPage(r *http.Request) bool {
	return !strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// StoragePage answers a browser's request that met a storage failure with a page in the
// reader's language (the status of the problem, 507 or 503, and its Retry-After): the sentence
// says the database cannot be written, why, and that nothing was lost. It reports false, having
// written nothing, for any other error or request.
func (s *Server) StoragePage(w http.ResponseWriter, r *http.Request, err error) bool {
	var u *sunset.UnwritableError
	if !errors.As(err, &u) || !wantsPage(r) {
		return false
	}
	p := httpx.ProblemFor(err)
	s.logger().LogAttrs(r.Context(), slog.LevelError, "request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	page := s.newUIPage(r, "")
	t := storagePageTexts[page.Lang]
	page.Title = t.Heading
	w.Header().Set("Retry-After", httpx.StorageRetryAfter)
	s.renderUI(w, r, "ui_storage.html", p.Status, page.Lang, struct {
		uiPage
		storagePageText
		Message string
	}{page, t, u.Message(page.Short)})
	return true
}
