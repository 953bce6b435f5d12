package web

import (
	"net/http"

	"github.com/sunsetops/sunset/web/httpx"
)

// writeError answers err as a problem (httpx.WriteError). A storage failure met by a browser
// outside the API is answered with a page in the reader's language instead (writeStoragePage).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if s.writeStoragePage(w, r, err) {
		return
	}
	httpx.WriteError(s.logger(), w, r, err)
}

// writeStoragePage answers a browser's storage failure with the operator UI's page
// (ui.Server.StoragePage).
func (s *Server) writeStoragePage(w http.ResponseWriter, r *http.Request, err error) bool {
	return s.ui().StoragePage(w, r, err)
}
