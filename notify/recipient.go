package notify

import (
	"context"
	"database/sql"

	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/notify/channel"
)

// Recipient is someone a notice is for: a contact of the plan's consumers, an owner or a
// stakeholder (channel.Recipient). ID is unique within its sunset; owners and stakeholders get
// "owner:EMAIL" and "stakeholder:NAME" so they never collide with consumer ids.
type Recipient = channel.Recipient

// FromContact is the recipient a contact of the plan's contacts file is.
func FromContact(c contacts.Contact) Recipient {
	return Recipient{ID: c.ID, Email: c.Email, Name: c.Name, Locale: c.Locale, Tier: c.Tier, TimeZone: c.TimeZone}
}

// ContactSource pages, in a transaction, through the contacts stored with a sunset's current
// plan revision (its bundle), in file order. The store's Outbox implements it; without one the
// consumers' audiences are empty.
type ContactSource interface {
	// ContactsPage returns up to limit contacts after position after (0 for the first page)
	// and the position of the last one returned.
	ContactsPage(ctx context.Context, tx *sql.Tx, sunset string, after int64, limit int) ([]Recipient, int64, error)
}
