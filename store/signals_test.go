package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
)

func TestConsumerSignalsFromGatewayUsage(t *testing.T) {
	for name, open := range map[string]func(testing.TB) engine.Store{"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t).(*store.DB)
			now := time.Date(2027, 3, 10, 12, 30, 0, 0, time.UTC)
			s := &engine.Sunset{Name: "orders-api-v1", State: engine.StateReadOnly, Revision: 1, CreatedAt: now, UpdatedAt: now}
			if err := st.InTx(ctx, func(tx engine.Tx) error { return tx.CreateSunset(ctx, s) }); err != nil {
				t.Fatal(err)
			}
			hour := now.Truncate(time.Hour)
			_, err := st.Usage().RecordUsage(ctx, s.Name, gateway.Batch{Gateway: "gw-1", Seq: 1,
				Counts: []gateway.Count{
					{Feature: "orders", Consumer: "acme-prod", Hour: hour, Count: 40},
					{Feature: "reports", Consumer: "globex", Hour: hour.Add(-2 * time.Hour), Count: 3},
					{Feature: "orders", Consumer: "hooli", Hour: hour.Add(-10 * 24 * time.Hour), Count: 9}, // outside 7d
				},
				Aware: []gateway.Awareness{{Consumer: "acme-prod", FirstSeen: hour}},
			})
			if err != nil {
				t.Fatal(err)
			}
			sig := st.ConsumerSignals()
			for _, tc := range []struct {
				cond string
				want float64
				ok   bool
			}{
				{"consumers.active > 0", 2, true},
				{"consumers.active > 0 over 1h", 1, true},
				{"consumers.active{feature=reports} > 0", 1, true},
				{"consumers.unaware_ratio > 0.2", 0.5, true},
				{"consumers.active{tier=critical} > 0", 0, false},
				{"consumers.unaware_ratio{feature=exports} > 0.2", 0, false}, // no active consumer: no data
			} {
				c, err := plan.ParseCondition(tc.cond)
				if err != nil {
					t.Fatal(err)
				}
				var v float64
				var ok bool
				if err := st.InTx(ctx, func(tx engine.Tx) error {
					var err error
					v, ok, err = sig.Signal(ctx, tx, s, c, now)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if v != tc.want || ok != tc.ok {
					t.Errorf("%s = %v, %v; want %v, %v", tc.cond, v, ok, tc.want, tc.ok)
				}
			}
		})
	}
}
