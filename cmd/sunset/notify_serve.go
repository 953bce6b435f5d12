package main

import (
	"context"
	"fmt"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/store"
)

// scheduleReminders makes eng queue the owners' task reminders whenever a sunset's actions are
// scheduled anew (first apply, re-plan, shift, cancel), and queues those of the sunsets already
// stored (applied before reminders existed). Call it before the first Apply, the example plan's
// included.
func scheduleReminders(ctx context.Context, eng *engine.Engine, st *store.DB) error {
	eng.OnSchedule(&notify.Handler{Outbox: st.Outbox()})
	if _, err := eng.Reschedule(ctx); err != nil {
		return fmt.Errorf("schedule owners' task reminders: %w", err)
	}
	return nil
}

// unsubscribeKeyName names the database's key that signs unsubscribe links: the worker signs
// with it and the web server checks with it, on every replica.
const unsubscribeKeyName = "unsubscribe"
