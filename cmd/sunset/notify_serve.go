package main

import (
	"context"
	"errors"
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
)

// startNotify registers the notice handler and re-plan hook on eng and starts the delivery
// worker; the returned function stops it. publicURL is where the server's public pages are.
func (m *Main) startNotify(ctx context.Context, eng *engine.Engine, st *store.DB, clock sunset.Clock, logger *slog.Logger, publicURL string) (func(), error) {
	h := &notify.Handler{Outbox: st.Outbox(), OpenContacts: openContacts}
	eng.Register(plan.KindNotice, h)
	eng.OnReplan(h)
	w := &notify.Worker{
		Outbox: st.Outbox(), Channels: channels.Factory(channels.Options{Getenv: m.Getenv}),
		Clock: clock, Logger: logger.With("component", "notify"), PublicURL: publicURL,
	}
	if err := w.Start(ctx); err != nil {
		return nil, err
	}
	return w.Stop, nil
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
