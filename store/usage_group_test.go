package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/usage"
)

// TestConcurrentFlushesOfManyGatewaysAreEachCountedOnce sends, at once, the flushes of a fleet of
// gateways — each flush sent twice, as a gateway does when it retries after a lost answer, plus
// flushes to a sunset that does not exist — through two Usage values (two replicas), and checks
// that the store counted every flush exactly once and told each caller the truth.
func TestConcurrentFlushesOfManyGatewaysAreEachCountedOnce(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2027, 1, 6, 12, 0, 0, 0, time.UTC)
		err := db.InTx(ctx, func(tx engine.Tx) error {
			return tx.CreateSunset(ctx, &engine.Sunset{Name: "orders", State: "scheduled", CreatedAt: now, UpdatedAt: now})
		})
		if err != nil {
			t.Fatal(err)
		}
		replicas := []*store.Usage{db.Usage(), db.Usage()}
		const gateways, flushes = 8, 25
		var mu sync.Mutex
		applied := map[string]int{}
		var wg sync.WaitGroup
		for g := range gateways {
			for seq := int64(1); seq <= flushes; seq++ {
				b := usage.Batch{Gateway: fmt.Sprintf("gw-%d", g), Seq: seq, Counts: []usage.Count{
					{Feature: "reports", Consumer: "acme", Hour: now, Count: 1},
					{Feature: "orders", Consumer: fmt.Sprintf("c-%d", seq%3), Hour: now.Add(time.Hour), Count: 2},
				}, Aware: []usage.Awareness{{Consumer: "acme", FirstSeen: now.Add(time.Duration(g*100+int(seq)) * time.Second)}}}
				for try := range 2 {
					wg.Go(func() {
						ok, err := replicas[(g+try)%2].RecordUsage(ctx, "orders", b)
						if err != nil {
							t.Errorf("%s/%d: %v", b.Gateway, b.Seq, err)
						}
						if ok {
							mu.Lock()
							applied[fmt.Sprintf("%s/%d", b.Gateway, b.Seq)]++
							mu.Unlock()
						}
					})
				}
			}
			wg.Go(func() {
				_, err := replicas[g%2].RecordUsage(ctx, "no-such-sunset", usage.Batch{Gateway: "gw", Seq: 1})
				if sunset.ErrorCode(err) != sunset.ENOTFOUND {
					t.Errorf("a flush to an unknown sunset: %v, want ENOTFOUND", err)
				}
			})
		}
		wg.Wait()
		if len(applied) != gateways*flushes {
			t.Errorf("%d flushes reported applied, want %d", len(applied), gateways*flushes)
		}
		for k, n := range applied {
			if n != 1 {
				t.Errorf("flush %s reported applied %d times", k, n)
			}
		}
		counts, err := replicas[0].Counts(ctx, "orders")
		if err != nil {
			t.Fatal(err)
		}
		total := map[string]uint64{}
		for _, c := range counts {
			total[c.Feature] += c.Count
		}
		if total["reports"] != gateways*flushes || total["orders"] != 2*gateways*flushes {
			t.Errorf("counted %v, want reports %d and orders %d: every flush once", total, gateways*flushes, 2*gateways*flushes)
		}
		aware, err := replicas[1].Awareness(ctx, "orders")
		if err != nil || len(aware) != 1 || !aware[0].FirstSeen.Equal(now.Add(time.Second)) {
			t.Errorf("awareness %+v %v, want acme first told at %s", aware, err, now.Add(time.Second))
		}
	})
}
