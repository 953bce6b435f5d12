package main

import (
	"context"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
)

// runbookCollaborators gives r the gateway, drain and notify steps' collaborators over st and
// eng: the phase switch, the gateways' counters and the notify outbox. It returns the phase
// switch, for the in-process gateway's refresh hook.
func runbookCollaborators(r *runbook.Runner, st *store.DB, eng *engine.Engine, rt sunset.Runtime) *runbook.PhaseSwitch {
	ps := &runbook.PhaseSwitch{Overrides: st, Events: eventsAdapter{eng}, Runtime: rt,
		Exists: func(ctx context.Context, name string) error {
			_, err := eng.Get(ctx, name)
			return err
		}}
	r.Phases = ps
	// The counters grow with real requests, so their rate is measured on the wall clock (the
	// zero Runtime's), whatever the sunsets' clock says.
	r.Traffic = &runbook.CounterRate{Count: st.Usage().Total}
	r.Notifier = &runbook.NoticeQueue{Tx: st.InTx, Handler: &notify.Handler{Outbox: st.Outbox()}, Runtime: rt}
	return ps
}
