package usage

import (
	"io"

	"github.com/sunsetops/sunset/contacts"
)

// Contact is who to tell about a consumer, from the plan's contacts file.
type Contact struct {
	ID     string `json:"id"`
	Email  string `json:"email,omitempty"`
	Name   string `json:"name,omitempty"`
	Locale string `json:"locale,omitempty"`
	Tier   string `json:"tier,omitempty"`
}

// ReadContacts reads a contacts file with contacts.Read (the one reader of that format, with
// opt) into a map by id, for joining consumers with their contacts.
func ReadContacts(r io.Reader, opt contacts.Options) (map[string]Contact, error) {
	out := map[string]Contact{}
	err := contacts.Read(r, opt, func(c contacts.Contact) error {
		out[c.ID] = Contact{ID: c.ID, Email: c.Email, Name: c.Name, Locale: c.Locale, Tier: c.Tier}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
