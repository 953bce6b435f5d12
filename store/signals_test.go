package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/notify"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/usage"
)

func TestConsumerSignalsFromGatewayUsage(t *testing.T) {
	t.Parallel()
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
			_, err := st.Usage().RecordUsage(ctx, s.Name, usage.Batch{Gateway: "gw-1", Seq: 1,
				Counts: []usage.Count{
					{Feature: "orders", Consumer: "acme-prod", Hour: hour, Count: 40},
					{Feature: "reports", Consumer: "globex", Hour: hour.Add(-2 * time.Hour), Count: 3},
					{Feature: "orders", Consumer: "hooli", Hour: hour.Add(-10 * 24 * time.Hour), Count: 9}, // outside 7d
				},
				Aware: []usage.Awareness{{Consumer: "acme-prod", FirstSeen: hour}},
			})
			if err != nil {
				t.Fatal(err)
			}
			sig := st.ConsumerSignals(func(context.Context, engine.Tx, *engine.Sunset) (map[string]string, error) {
				return map[string]string{"acme-prod": "critical", "globex": "standard"}, nil
			})
			for _, tc := range []struct {
				cond string
				want float64
				ok   bool
			}{
				{"consumers.active > 0", 2, true},
				{"consumers.active > 0 over 1h", 1, true},
				{"consumers.active{feature=reports} > 0", 1, true},
				{"consumers.unaware_ratio > 0.2", 0.5, true},
				{"consumers.active{tier=critical} > 0", 1, true},
				{"consumers.active{tier=free} > 0", 0, true},
				{"consumers.unaware_ratio{tier=standard} > 0.2", 1, true},
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

// measure evaluates cond with sig inside a transaction, as the engine does.
func measure(t *testing.T, st *store.DB, sig engine.Signals, s *engine.Sunset, cond string, now time.Time) (float64, bool) {
	t.Helper()
	c, err := plan.ParseCondition(cond)
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	var ok bool
	if err := st.InTx(context.Background(), func(tx engine.Tx) error {
		var err error
		v, ok, err = sig.Signal(context.Background(), tx, s, c, now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v, ok
}

// signalPlan has weekly brownouts on Tuesdays and Thursdays at 14:00 for an hour.
const signalPlan = `service: {name: orders-api-v1, timezone: UTC}
milestones: {announce: 2027-01-05T10:00, deprecate: 2027-01-05T10:00, shutdown: 2027-03-15T02:00}
brownouts:
  - {from: shutdown-28d, every: "Tue,Thu 14:00", for: 1h}
`

func TestLaggardAndGatewaySignals(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) engine.Store{"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t).(*store.DB)
			now := time.Date(2027, 3, 4, 16, 30, 0, 0, time.UTC) // a Thursday
			s := &engine.Sunset{Name: "orders-api-v1", State: engine.StateReadOnly, Revision: 1, Plan: []byte(signalPlan), CreatedAt: now, UpdatedAt: now}
			if err := st.InTx(ctx, func(tx engine.Tx) error { return tx.CreateSunset(ctx, s) }); err != nil {
				t.Fatal(err)
			}
			hour := now.Truncate(time.Hour)
			// acme was told in-band two days ago and still calls; globex got an email two days
			// ago and still calls; hooli was told and stopped calling; initech was never told.
			if _, err := st.Usage().RecordUsage(ctx, s.Name, usage.Batch{Gateway: "gw-1", Seq: 1,
				Counts: []usage.Count{
					{Feature: "orders", Consumer: "acme", Hour: hour, Count: 60, Errors: 3},
					{Feature: "orders", Consumer: "globex", Hour: hour, Count: 30, Errors: 0},
					{Feature: "reports", Consumer: "initech", Hour: hour, Count: 10, Errors: 7},
					{Feature: "orders", Consumer: "hooli", Hour: hour.Add(-120 * time.Hour), Count: 5}, // before it was told
				},
				Aware: []usage.Awareness{{Consumer: "acme", FirstSeen: now.Add(-48 * time.Hour)}, {Consumer: "hooli", FirstSeen: now.Add(-96 * time.Hour)}},
			}); err != nil {
				t.Fatal(err)
			}
			o := st.Outbox()
			err := st.InTx(ctx, func(tx engine.Tx) error {
				_, err := o.Enqueue(ctx, tx.SQL(), []notify.Delivery{{SunsetID: s.ID, Sunset: s.Name, Notice: "notice/0", Template: "announce", Channel: "email",
					Recipient: notify.Recipient{ID: "globex", Email: "dev@globex.example.com"}, Status: notify.StatusQueued, NextAt: now.Add(-50 * time.Hour), CreatedAt: now.Add(-50 * time.Hour), UpdatedAt: now.Add(-50 * time.Hour)}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			claimed, err := o.Claim(ctx, now.Add(-49*time.Hour), 10, time.Minute)
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claim = %v, %v", claimed, err)
			}
			claimed[0].Status, claimed[0].DeliveredAt = notify.StatusDelivered, now.Add(-48*time.Hour)
			if err := o.Record(ctx, claimed, now.Add(-48*time.Hour)); err != nil {
				t.Fatal(err)
			}
			at := func(h, m int) time.Time { return time.Date(2027, 3, 4, h, m, 0, 0, time.UTC) }
			if err := st.Feedback().Add(ctx, []feedback.Feedback{
				{Sunset: s.Name, At: at(14, 10), Mood: feedback.Negative, Category: feedback.MigrationProblem, Text: "503 again", Consumer: "acme", Source: "form"},
				{Sunset: s.Name, At: at(14, 40), Mood: feedback.Negative, Category: feedback.Other, Text: "down!", Source: "form"},
				{Sunset: s.Name, At: at(15, 30), Mood: feedback.Neutral, Category: feedback.Other, Text: "after the window", Source: "form"},
				{Sunset: s.Name, At: time.Date(2027, 3, 3, 14, 30, 0, 0, time.UTC), Mood: feedback.Negative, Category: feedback.Other, Text: "a Wednesday", Source: "form"},
			}); err != nil {
				t.Fatal(err)
			}
			tiers := func(context.Context, engine.Tx, *engine.Sunset) (map[string]string, error) {
				return map[string]string{"acme": "critical", "globex": "standard", "initech": "critical"}, nil
			}
			cons, gw := st.ConsumerSignals(tiers), st.GatewaySignals(tiers)
			for _, tc := range []struct {
				sig  engine.Signals
				cond string
				want float64
				ok   bool
			}{
				{cons, "consumers.laggards > 0", 2, true},
				{cons, "consumers.laggards{tier=critical} > 0", 1, true},
				{cons, "consumers.laggards{feature=reports} > 0", 0, true},
				{cons, "consumers.laggards > 0 over 1h", 2, true},
				{gw, "gateway.requests > 0", 100, true},
				{gw, "gateway.error_rate > 0.05", 0.1, true},
				{gw, "gateway.error_rate{feature=orders} > 0.05", 3.0 / 90, true},
				{gw, "gateway.error_rate{tier=critical} > 0.05", 10.0 / 70, true},
				{gw, "gateway.error_rate{feature=exports} > 0.05", 0, false},
				{gw, "gateway.requests > 0 over 7d", 105, true},
				{gw, "gateway.brownout_complaints > 0", 2, true},
				{gw, "gateway.brownout_complaints{tier=critical} > 0", 1, true},
				{gw, "gateway.brownout_complaints{category=other} > 0", 1, true},
				{gw, "gateway.brownout_complaints > 0 over 2h", 1, true},
			} {
				if v, ok := measure(t, st, tc.sig, s, tc.cond, now); ok != tc.ok || (v-tc.want) > 1e-9 || (tc.want-v) > 1e-9 {
					t.Errorf("%s = %v, %v; want %v, %v", tc.cond, v, ok, tc.want, tc.ok)
				}
			}
		})
	}
}
