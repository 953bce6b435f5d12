package notify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
)

// TestDrainStreamsEveryDeliveryOnce drains a notice through the streaming pipeline with one
// delivery per claim, so that claims, sends and records overlap: every message arrives once,
// and the ledger records every delivery as delivered.
func TestDrainStreamsEveryDeliveryOnce(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		b := setup(t, st)
		b.runNotice(t)
		b.worker.Batch, b.worker.Concurrency = 1, 2
		n, err := b.worker.Drain(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Errorf("drained %d deliveries, want 5 (2 emails: hooli has no address; 3 webhooks)", n)
		}
		checkDelivered(t, b, 2, 3)
	})
}

// TestStartedWorkerDeliversAndStops runs the worker's loop until the notice is delivered, then
// stops it.
func TestStartedWorkerDeliversAndStops(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		b := setup(t, st)
		b.runNotice(t)
		b.worker.Poll = 10 * time.Millisecond
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if err := b.worker.Start(ctx); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 10*time.Second, "five deliveries", func() error {
			l, err := b.st.Outbox().Ledger(t.Context(), "orders-api-v1", 10)
			if err != nil {
				t.Fatal(err)
			}
			delivered := 0
			for _, c := range l.Counts {
				if c.Status == notify.StatusDelivered {
					delivered += c.Count
				}
			}
			if delivered != 5 {
				return fmt.Errorf("delivered %d of 5: %+v", delivered, l.Counts)
			}
			return nil
		})
		b.worker.Stop()
		checkDelivered(t, b, 2, 3)
	})
}

// checkDelivered checks that the sinks got mails and hooks messages, each under its own key,
// each once, and that the ledger has nothing left to send.
func checkDelivered(t *testing.T, b *bundle, mails, hooks int) {
	t.Helper()
	if total, distinct := b.smtp.Counts(); total != mails || distinct != mails {
		t.Errorf("%d mails with %d distinct Message-IDs, want %d", total, distinct, mails)
	}
	if total, distinct, bad := b.hooks.Counts(); total != hooks || distinct != hooks || bad != 0 {
		t.Errorf("%d webhooks with %d distinct ids (%d badly signed), want %d", total, distinct, bad, hooks)
	}
	l, err := b.st.Outbox().Ledger(t.Context(), "orders-api-v1", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range l.Counts {
		if c.Status != notify.StatusDelivered {
			t.Errorf("%d deliveries of %s over %s are %s", c.Count, c.Notice, c.Channel, c.Status)
		}
	}
}

// TestExpiredClaimIsNotSentTwice: the first send takes longer than the lease (the clock jumps 3
// minutes), so the deliveries waiting behind it lose their claim and are claimed again; each
// message still arrives once, and every delivery ends delivered.
func TestExpiredClaimIsNotSentTwice(t *testing.T) {
	// Serial: the second claim must come within the first send's wall-clock sleeps, a window
	// other tests running beside it can close (it sent a message twice once in a loaded CI run).
	stores(t, func(t *testing.T, st engine.Store) {
		b := setup(t, st)
		b.runNotice(t)
		factory := b.worker.Channels
		var once sync.Once
		b.worker.Channels = func(p *plan.Plan, endpoint string) (notify.Channel, error) {
			ch, err := factory(p, endpoint)
			if err != nil {
				return nil, err
			}
			return notify.ChannelFunc(func(ctx context.Context, m notify.Message) (bool, error) {
				first := false
				once.Do(func() { first = true; b.clock.Advance(3 * time.Minute) }) // a slow endpoint
				if !first {
					time.Sleep(100 * time.Millisecond) // and slow after: the worker claims again meanwhile
				}
				return ch.Send(ctx, m)
			}), nil
		}
		b.worker.Batch, b.worker.Concurrency, b.worker.Lease = 8, 1, 2*time.Minute
		if _, err := b.worker.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		checkDelivered(t, b, 2, 3)
	})
}
