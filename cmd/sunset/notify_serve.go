package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"time"

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

// contactTierLookup tells the guardrail signals each consumer's tier from the contacts the
// notify handler reads (openContacts). A file is read again only when its size or time
// changes, so a guardrail checked every minute does not re-read a million contacts each time.
func contactTierLookup() store.Tiers {
	type entry struct {
		size  int64
		mod   time.Time
		tiers map[string]string
	}
	var mu sync.Mutex
	cache := map[string]entry{}
	return func(ctx context.Context, tx engine.Tx, s *engine.Sunset) (map[string]string, error) {
		p, problems := plan.ParseStored(s.Name+".yaml", s.Plan)
		if err := problems.Err(); err != nil {
			return nil, err
		}
		if p.Consumers.Contacts == "" {
			return nil, nil
		}
		rc, err := openContacts(p)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		key := s.Name + "\x00" + p.Consumers.Contacts
		var size int64
		var mod time.Time
		if f, ok := rc.(interface{ Stat() (fs.FileInfo, error) }); ok {
			if fi, err := f.Stat(); err == nil {
				size, mod = fi.Size(), fi.ModTime()
			}
		}
		mu.Lock()
		e, ok := cache[key]
		mu.Unlock()
		if ok && !mod.IsZero() && e.size == size && e.mod.Equal(mod) {
			return e.tiers, nil
		}
		tiers, err := notify.ContactTiers(rc)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		cache[key] = entry{size, mod, tiers}
		mu.Unlock()
		return tiers, nil
	}
}
