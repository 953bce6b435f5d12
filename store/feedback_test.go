package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
)

func TestFeedbackRoundTripAndSignals(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) engine.Store{"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t).(*store.DB)
			now := time.Date(2027, 2, 2, 12, 0, 0, 0, time.UTC)
			s := &engine.Sunset{Name: "orders-api-v1", State: engine.StateAnnounced, Revision: 1, CreatedAt: now, UpdatedAt: now}
			if err := st.InTx(ctx, func(tx engine.Tx) error { return tx.CreateSunset(ctx, s) }); err != nil {
				t.Fatal(err)
			}
			fb := st.Feedback()
			items := []feedback.Feedback{
				{Sunset: s.Name, At: now.Add(-30 * time.Hour), Mood: "negative", Category: "need_more_time", Text: "迁移需要更多时间", Source: "form"},
				{Sunset: s.Name, At: now.Add(-time.Hour), Mood: "negative", Category: "export_problem", Text: "<b>export</b> broken", Tier: "critical", Source: "api"},
				{Sunset: s.Name, At: now.Add(-time.Hour), Mood: "positive", Category: "other", Source: "import"},
			}
			if err := fb.Add(ctx, items); err != nil {
				t.Fatal(err)
			}
			if items[0].ID == 0 || items[2].ID == 0 {
				t.Error("IDs not set")
			}
			got, err := fb.List(ctx, s.Name, time.Time{})
			if err != nil || len(got) != 3 || got[0].Text != "迁移需要更多时间" || got[1].Text != "<b>export</b> broken" || !got[1].At.Equal(now.Add(-time.Hour)) {
				t.Fatalf("list = %+v, %v", got, err)
			}
			recent, _ := fb.List(ctx, s.Name, now.Add(-2*time.Hour))
			if len(recent) != 2 {
				t.Errorf("since 2h ago: %d items, want 2", len(recent))
			}
			if _, err := fb.List(ctx, "nope", time.Time{}); sunset.ErrorCode(err) != sunset.ENOTFOUND {
				t.Errorf("unknown sunset: %v", err)
			}
			if err := fb.Add(ctx, []feedback.Feedback{{Sunset: "nope", At: now, Mood: "negative", Category: "other", Source: "api"}}); sunset.ErrorCode(err) != sunset.ENOTFOUND {
				t.Errorf("add to unknown sunset: %v", err)
			}
			c, _ := plan.ParseCondition("feedback.negative_ratio > 0.4 over 24h")
			var v float64
			var ok bool
			err = st.InTx(ctx, func(tx engine.Tx) error {
				var err error
				v, ok, err = fb.Signals().Signal(ctx, tx, s, c, now)
				return err
			})
			if err != nil || !ok || v != 0.5 {
				t.Errorf("negative ratio over 24h = %v, %v, %v; want 0.5", v, ok, err)
			}
			// A form message carries no tier; its consumer's comes from the contacts.
			if err := fb.Add(ctx, []feedback.Feedback{{Sunset: s.Name, At: now.Add(-time.Hour), Mood: "negative", Category: "other", Consumer: "acme", Source: "form"}}); err != nil {
				t.Fatal(err)
			}
			tiers := func(context.Context, engine.Tx, *engine.Sunset) (map[string]string, error) {
				return map[string]string{"acme": "critical"}, nil
			}
			for _, tc := range []struct {
				sig  engine.Signals
				want float64
			}{{fb.Signals(), 1}, {fb.TieredSignals(tiers), 2}} {
				sig, want := tc.sig, tc.want
				c, _ := plan.ParseCondition("feedback.count{tier=critical} > 1")
				err = st.InTx(ctx, func(tx engine.Tx) error {
					var err error
					v, ok, err = sig.Signal(ctx, tx, s, c, now)
					return err
				})
				if err != nil || !ok || v != want {
					t.Errorf("critical messages = %v, %v, %v; want %v", v, ok, err, want)
				}
			}
		})
	}
}
