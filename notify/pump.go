package notify

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// flushEvery is how long a finished delivery waits at most for its outcome to be recorded with
// others in one transaction.
const flushEvery = 50 * time.Millisecond

// Drain sends every due delivery, streaming them as the worker's loop does, and returns how many
// it handled once nothing is due and every outcome is recorded. Deliveries that a transient
// error put back for later (a retry, an open breaker) are not waited for.
func (w *Worker) Drain(ctx context.Context) (int, error) {
	w.init()
	return w.pump(ctx, true)
}

// pump is the worker's pipeline: this goroutine claims due deliveries in batches while up to
// Concurrency senders deliver the ones already claimed and a recorder writes their outcomes in
// batches, so that claiming, sending and recording overlap instead of waiting for each other.
// At most two batches are in flight. With drain it returns when nothing is due and nothing is in
// flight; otherwise it polls until ctx ends. When ctx ends it claims no more, the senders
// release the claims of the deliveries they have not started (queued again, due at once), and
// the outcomes of those sent are recorded before it returns.
func (w *Worker) pump(ctx context.Context, drain bool) (int, error) {
	sendCtx := context.WithoutCancel(ctx) // sends in hand finish, so that what went out is recorded
	maxInFlight := 2 * w.Batch
	jobs := make(chan *Delivery, maxInFlight)
	done := make(chan *Delivery, maxInFlight)
	space := make(chan struct{}, 1) // the recorder freed room in the pipeline
	var inFlight atomic.Int64
	var senders sync.WaitGroup
	for range w.Concurrency {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for d := range jobs {
				switch now := w.rt.Now(); {
				case ctx.Err() != nil:
					// Stopping: give the claim back rather than send late.
					d.Status, d.NextAt = StatusQueued, now
				case now.After(d.NextAt):
					// The claim expired while the delivery waited (slow endpoints ahead of it):
					// another claim may own it now, so it is neither sent nor recorded here.
				default:
					w.deliver(sendCtx, d)
				}
				done <- d
			}
		}()
	}
	recorded := make(chan error, 1)
	go func() { recorded <- w.record(sendCtx, done, &inFlight, space) }()

	total := 0
	var err error
	for ctx.Err() == nil {
		// Claim when at least half a batch (and at least one) fits: a claim of nothing would
		// look like nothing due, and end a drain early.
		room := maxInFlight - int(inFlight.Load())
		if room < max(1, w.Batch/2) {
			w.wait(ctx, space, w.Poll)
			continue
		}
		var ds []Delivery
		ds, err = w.Outbox.Claim(ctx, w.rt.Now(), min(w.Batch, room), w.Lease)
		if err != nil {
			if ctx.Err() != nil {
				err = nil
				break
			}
			if drain {
				break
			}
			w.rt.Log().Error("notify: claim deliveries", "err", err)
			err = nil
			w.wait(ctx, nil, w.Poll)
			continue
		}
		if len(ds) == 0 {
			if inFlight.Load() > 0 {
				w.wait(ctx, space, w.Poll) // outcomes may make retries due, or free room
				continue
			}
			if drain {
				break
			}
			w.wait(ctx, nil, w.Poll)
			continue
		}
		total += len(ds)
		inFlight.Add(int64(len(ds)))
		for i := range ds {
			jobs <- &ds[i]
		}
	}
	close(jobs)
	senders.Wait()
	close(done)
	if rerr := <-recorded; err == nil {
		err = rerr
	}
	return total, err
}

// record writes the outcomes arriving on done in batches: when Batch of them are waiting or
// flushEvery after the first. It returns the first error (the rows stay claimed until their
// lease ends, then go out again under the same key).
func (w *Worker) record(ctx context.Context, done <-chan *Delivery, inFlight *atomic.Int64, space chan<- struct{}) error {
	var first error
	buf := make([]Delivery, 0, w.Batch)
	flush := func() {
		if len(buf) == 0 {
			return
		}
		if err := w.Outbox.Record(ctx, buf, w.rt.Now()); err != nil {
			w.rt.Log().Error("notify: record outcomes", "err", err, "deliveries", len(buf))
			if first == nil {
				first = fmt.Errorf("notify: record outcomes: %w", err)
			}
		}
		inFlight.Add(-int64(len(buf)))
		buf = buf[:0]
		select {
		case space <- struct{}{}:
		default:
		}
	}
	t := time.NewTimer(flushEvery)
	t.Stop()
	for {
		select {
		case d, ok := <-done:
			if !ok {
				flush()
				return first
			}
			if d.Status == StatusSending { // an expired claim: nothing to record
				inFlight.Add(-1)
				continue
			}
			if len(buf) == 0 {
				t.Reset(flushEvery)
			}
			buf = append(buf, *d)
			if len(buf) >= w.Batch {
				t.Stop()
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

// wait blocks for d, until ctx ends, or until wake (when not nil) signals.
func (w *Worker) wait(ctx context.Context, wake <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}
