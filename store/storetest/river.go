package storetest

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
)

// testRiver checks what the engine relies on: River's tables exist where the store says
// (Schema), a job inserted in a store transaction that rolls back is gone, and a worker can
// complete its job in the same transaction as its store writes.
func testRiver(t *testing.T, st engine.Store) {
	schema := ""
	if s, ok := st.(interface{ Schema() string }); ok {
		schema = s.Schema()
	}
	switch st.Dialect() {
	case "sqlite":
		riverRoundTrip(t, st, riversqlite.New(st.DB()), schema)
	case "postgres":
		riverRoundTrip(t, st, riverdatabasesql.New(st.DB()), schema)
	default:
		t.Fatalf("unknown dialect %q", st.Dialect())
	}
}

type smokeArgs struct {
	Sunset string `json:"sunset"`
}

// Kind names the job kind in River's tables.
func (smokeArgs) Kind() string { return "storetest_smoke" }

// smokeWorker bumps the sunset's revision and completes its job in one store transaction.
type smokeWorker[D riverdriver.Driver[*sql.Tx]] struct {
	river.WorkerDefaults[smokeArgs]
	st   engine.Store
	done chan error
}

// Work runs the job: one store transaction that writes the sunset and completes the job.
func (w *smokeWorker[D]) Work(ctx context.Context, job *river.Job[smokeArgs]) error {
	err := w.st.InTx(ctx, func(tx engine.Tx) error {
		s, err := tx.LockSunset(ctx, job.Args.Sunset)
		if err != nil {
			return err
		}
		s.Revision++
		if err := tx.UpdateSunset(ctx, s); err != nil {
			return err
		}
		_, err = river.JobCompleteTx[D](ctx, tx.SQL(), job)
		return err
	})
	w.done <- err
	return err
}

func riverRoundTrip[D riverdriver.Driver[*sql.Tx]](t *testing.T, st engine.Store, driver D, schema string) {
	ctx := t.Context()
	create(t, st, newSunset("orders-api-v1"))

	worker := &smokeWorker[D]{st: st, done: make(chan error, 1)}
	workers := river.NewWorkers()
	river.AddWorker(workers, worker)
	client, err := river.NewClient(driver, &river.Config{
		Schema:            schema,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers:           workers,
		FetchPollInterval: 20 * time.Millisecond,
		FetchCooldown:     5 * time.Millisecond,
		TestOnly:          true,
		Logger:            slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("river.NewClient: %v", err)
	}

	// Inserted in a transaction that rolls back: no job.
	var rolledBack int64
	err = st.InTx(ctx, func(tx engine.Tx) error {
		res, err := client.InsertTx(ctx, tx.SQL(), smokeArgs{Sunset: "orders-api-v1"}, nil)
		if err != nil {
			return err
		}
		rolledBack = res.Job.ID
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InsertTx in a store transaction: %v", err)
	}
	if _, err := client.JobGet(ctx, rolledBack); !errors.Is(err, river.ErrNotFound) {
		t.Fatalf("job of a rolled-back transaction: JobGet = %v, want not found", err)
	}

	var id int64
	inTx(t, st, func(tx engine.Tx) error {
		res, err := client.InsertTx(ctx, tx.SQL(), smokeArgs{Sunset: "orders-api-v1"}, nil)
		if err != nil {
			return err
		}
		id = res.Job.ID
		return nil
	})

	if err := client.Start(ctx); err != nil {
		t.Fatalf("start River: %v", err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Stop(stopCtx); err != nil {
			t.Errorf("stop River: %v", err)
		}
	})
	select {
	case err := <-worker.done:
		if err != nil {
			t.Fatalf("worker: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("River did not work the job within 30s")
	}

	job, err := client.JobGet(ctx, id)
	if err != nil {
		t.Fatalf("JobGet: %v", err)
	}
	if job.State != rivertype.JobStateCompleted {
		t.Errorf("job state = %s, want completed in the worker's store transaction", job.State)
	}
	if s := get(t, st, "orders-api-v1"); s.Revision != 2 {
		t.Errorf("revision = %d, want 2 (written with the job's completion)", s.Revision)
	}
	if _, err := st.GetSunset(ctx, "nope"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
		t.Errorf("store unusable after River ran: %v", err)
	}
}
