package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
)

// BenchAppendEvent measures what recording one event costs the engine: a transaction that
// appends a hash-chained event with a small JSON payload and commits. The backends' benchmarks
// (BenchmarkAppendEvent in store/sqlite and store/postgres) call it.
func BenchAppendEvent(b *testing.B, st engine.Store) {
	ctx := b.Context()
	s := &engine.Sunset{Name: "bench", State: engine.StateScheduled, Revision: 1}
	if err := st.InTx(ctx, func(tx engine.Tx) error { return tx.CreateSunset(ctx, s) }); err != nil {
		b.Fatal(err)
	}
	data := json.RawMessage(`{"action":"notice:shutdown-30d:email","recipients":1250,"channel":"email"}`)
	at := time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC)
	prev := ""
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e := engine.Event{
			SunsetID: s.ID,
			Seq:      int64(i + 1),
			At:       at.Add(time.Duration(i) * time.Millisecond),
			Type:     "action_done",
			Actor:    "engine",
			Data:     data,
			PrevHash: prev,
		}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		if err := st.InTx(ctx, func(tx engine.Tx) error { return tx.AppendEvent(ctx, &e) }); err != nil {
			b.Fatal(err)
		}
	}
}
