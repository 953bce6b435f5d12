package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/examples"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
)

// scheduled anew (first apply, re-plan, shift, cancel), and queues those of the sunsets already
// stored (applied before reminders existed). Call it before the first Apply, the example plan's
// included.
func scheduleReminders(ctx context.Context, eng *engine.Engine, st *store.DB) error {
	eng.OnSchedule(&notify.Handler{Outbox: st.Outbox(), OpenContacts: openContacts})
	if _, err := eng.Reschedule(ctx); err != nil {
		return fmt.Errorf("schedule owners' task reminders: %w", err)
	}
	return nil
}

// unsubscribeKeyName names the database's key that signs unsubscribe links: the worker signs
// with it and the web server checks with it, on every replica.
const unsubscribeKeyName = "unsubscribe"

// openContacts opens a plan's contacts file relative to the server's working directory, or from
// the bundled examples when it is not there (the example plan `sunset serve` loads).
func openContacts(p *plan.Plan) (io.ReadCloser, error) {
	rc, err := notify.OpenContactsFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		if f, ferr := examples.Files.Open(p.Consumers.Contacts); ferr == nil {
			return f, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return rc, nil
}
