package api

import (
	"context"
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/web/httpx"
)

// Notices is what the server needs of notify's outbox: the ledger of who was told, the notices
// published on the public pages, and the suppression list. store.Outbox implements it. Errors
// are *sunset.Error values (ENOTFOUND for an unknown sunset).
type Notices interface {
	// Ledger summarises the deliveries of the named sunset, with at most failures failures,
	// and each consumer's awareness.
	Ledger(ctx context.Context, name string, failures int) (*notify.Ledger, error)
}

// ledgerFailures is how many of the latest failures the ledger lists.
const ledgerFailures = 50

// noticesEnabled answers a 404 problem when the server keeps no notices.
func (s *Server) noticesEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Notices == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Notices are not kept by this server."))
		return false
	}
	return true
}

// handleNoticeLedger serves GET /api/v1/sunsets/{name}/notices: per notice and channel, how
// many deliveries are queued, sent, delivered, failed or suppressed; the latest failures with
// their reasons; and each consumer's awareness (the channels that reached it and the gateways'
// in-band record).
func (s *Server) handleNoticeLedger(w http.ResponseWriter, r *http.Request) {
	if !s.noticesEnabled(w, r) {
		return
	}
	l, err := s.Notices.Ledger(r.Context(), r.PathValue("name"), ledgerFailures)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Breakers != nil {
		l.Breakers = s.Breakers()
	}
	httpx.WriteJSON(w, http.StatusOK, l)
}
