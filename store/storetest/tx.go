package storetest

// The suite's subtests of transactions: rollback on error and on panic, the sunset's lock.

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

var errRollback = errors.New("storetest: roll back")

func testRollback(t *testing.T, st engine.Store) {
	kept := create(t, st, newSunset("kept"))
	err := st.InTx(t.Context(), func(tx engine.Tx) error {
		s := newSunset("rolled-back")
		if err := tx.CreateSunset(t.Context(), s); err != nil {
			return err
		}
		if err := tx.PutAction(t.Context(), &engine.Action{SunsetID: kept.ID, Key: "k", At: t0, Status: engine.ActionPending}); err != nil {
			return err
		}
		events := chain(kept.ID, 1)
		if err := tx.AppendEvent(t.Context(), &events[0]); err != nil {
			return err
		}
		changed := *kept
		changed.State = engine.StateCancelled
		if err := tx.UpdateSunset(t.Context(), &changed); err != nil {
			return err
		}
		return fmt.Errorf("engine refused: %w", errRollback)
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	assertOnlyKept(t, st, kept)

	// A failure inside the transaction (a duplicate) rolls back what came before it too.
	err = st.InTx(t.Context(), func(tx engine.Tx) error {
		if err := tx.PutAction(t.Context(), &engine.Action{SunsetID: kept.ID, Key: "k", At: t0, Status: engine.ActionPending}); err != nil {
			return err
		}
		return tx.CreateSunset(t.Context(), newSunset("kept"))
	})
	wantCode(t, err, sunset.ECONFLICT)
	assertOnlyKept(t, st, kept)
}

func assertOnlyKept(t *testing.T, st engine.Store, kept *engine.Sunset) {
	t.Helper()
	list, err := st.ListSunsets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "kept" || list[0].State != kept.State {
		t.Errorf("after rollback, sunsets = %+v; want only %q unchanged", list, kept.Name)
	}
	if actions, _ := st.ListActions(t.Context(), kept.ID); len(actions) != 0 {
		t.Errorf("after rollback, actions = %q", keys(actions))
	}
	if events, _ := st.ListEvents(t.Context(), kept.ID); len(events) != 0 {
		t.Errorf("after rollback, %d events stored", len(events))
	}
}

func testRollbackPanic(t *testing.T, st engine.Store) {
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the panic to go on", p)
			}
		}()
		_ = st.InTx(t.Context(), func(tx engine.Tx) error {
			if err := tx.CreateSunset(t.Context(), newSunset("doomed")); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if _, err := st.GetSunset(t.Context(), "doomed"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
		t.Errorf("after a panic, GetSunset = %v; want ENOTFOUND", err)
	}
	// The store is still usable: the connection went back to the pool.
	create(t, st, newSunset("after"))
}

func testLockSunset(t *testing.T, st engine.Store) {
	create(t, st, newSunset("orders-api-v1"))
	const workers, rounds = 4, 10
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range rounds {
				err := st.InTx(ctx, func(tx engine.Tx) error {
					s, err := tx.LockSunset(ctx, "orders-api-v1")
					if err != nil {
						return err
					}
					s.Revision++
					s.HeadSeq += 2
					return tx.UpdateSunset(ctx, s)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("read-modify-write under LockSunset: %v", err)
	}
	s := get(t, st, "orders-api-v1")
	if want := 1 + workers*rounds; s.Revision != want || s.HeadSeq != int64(2*workers*rounds) {
		t.Errorf("after %d locked increments, revision = %d, head seq = %d; want %d, %d (lost updates)",
			workers*rounds, s.Revision, s.HeadSeq, want, 2*workers*rounds)
	}
}
