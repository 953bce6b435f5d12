package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/examples"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/channels"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/web"
)

// startNotify registers the notice handler, the re-plan hook and the guardrail trip hook on eng
// and starts the delivery
// worker; the returned function stops it. publicURL is where the server's public pages are.
func (m *Main) startNotify(ctx context.Context, eng *engine.Engine, st *store.DB, clock sunset.Clock, logger *slog.Logger, publicURL string, exportURL func(sunset, userID string) string) (func(), error) {
	key, err := st.SigningKey(ctx, unsubscribeKeyName)
	if err != nil {
		return nil, err
	}
	h := &notify.Handler{Outbox: st.Outbox(), OpenContacts: openContacts}
	eng.Register(plan.KindNotice, h)
	eng.OnReplan(h)
	eng.OnTrip(h) // owners hear when a guardrail pauses the sunset
	w := &notify.Worker{
		Outbox: st.Outbox(), Channels: channels.Factory(channels.Options{Getenv: m.Getenv}),
		Clock: clock, Logger: logger.With("component", "notify"), PublicURL: publicURL, UnsubscribeKey: key,
		ExportURL: exportURL, Lease: m.workLease,
	}
	if err := w.Start(ctx); err != nil {
		return nil, err
	}
	return w.Stop, nil
}

// scheduleReminders makes eng queue the owners' task reminders whenever a sunset's actions are
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

// servePublicPages gives srv the ledger, the announcements of the public pages and the
// unsubscribe links' key. publicURL is where the public pages are reached.
func servePublicPages(ctx context.Context, srv *web.Server, st *store.DB, publicURL string) error {
	key, err := st.SigningKey(ctx, unsubscribeKeyName)
	if err != nil {
		return err
	}
	srv.Notices, srv.UnsubscribeKey, srv.PublicURL = st.Outbox(), key, publicURL
	return nil
}

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
