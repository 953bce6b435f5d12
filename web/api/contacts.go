package api

import (
	"io"
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/web/auth"
	"github.com/sunsetops/sunset/web/httpx"
)

// handleContactsGet serves GET /api/v1/sunsets/{name}/contacts: how many contacts the current
// revision's bundle carried, by tier and locale, and which files each revision carried; with
// ?rows=1 the contacts themselves (personal data: operators only).
func (s *Server) handleContactsGet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	revs, err := s.Engine.Revisions(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Contacts == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Contacts are not kept by this server."))
		return
	}
	sum, err := s.Contacts.SummarizeContacts(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ans := client.ContactsAnswer{Summary: *sum, Revisions: revs}
	if ans.Revisions == nil {
		ans.Revisions = []engine.Revision{}
	}
	if r.URL.Query().Get("rows") == "1" {
		if p := auth.PrincipalFrom(r.Context()); s.AuthOn && (p == nil || p.Role < auth.RoleOperator) {
			s.writeError(w, r, sunset.Errorf(problem.CodeForbidden, "The contacts themselves are personal data: this needs the operator role."))
			return
		}
		ans.Rows = []contacts.Contact{}
		err := s.Contacts.EachContact(r.Context(), name, func(c contacts.Contact) error {
			ans.Rows = append(ans.Rows, c)
			return nil
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, ans)
}

// handleContactErase serves DELETE /api/v1/sunsets/{name}/contacts/{id}: the contact is removed
// from every stored revision of the sunset, and an event records only the count.
func (s *Server) handleContactErase(w http.ResponseWriter, r *http.Request) {
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if n, _ := io.ReadFull(r.Body, make([]byte, 1)); n > 0 {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "DELETE of a contact takes no body: the id is in the path."))
		return
	}
	n, err := s.Engine.EraseContacts(r.Context(), r.PathValue("name"), []string{r.PathValue("id")}, actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, client.Erased{Removed: n})
}
