package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/usage"
)

// TestFeedbackSignalsJudgeSuspectTrips: a trip is suspect when its driving messages came from
// senders with no feedback before the window and naming no consumer the gateway served before
// it; both databases agree.
func TestFeedbackSignalsJudgeSuspectTrips(t *testing.T) {
	for name, open := range map[string]func(testing.TB) engine.Store{"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t).(*store.DB)
			now := time.Date(2027, 2, 2, 12, 0, 0, 0, time.UTC)
			s := &engine.Sunset{Name: "orders-api-v1", State: engine.StateAnnounced, Revision: 1, CreatedAt: now, UpdatedAt: now}
			if err := st.InTx(ctx, func(tx engine.Tx) error { return tx.CreateSunset(ctx, s) }); err != nil {
				t.Fatal(err)
			}
			// The gateway served acme-prod three days ago.
			if _, err := st.Usage().RecordUsage(ctx, s.Name, usage.Batch{Gateway: "gw-1", Seq: 1, Counts: []usage.Count{
				{Feature: "orders", Consumer: "acme-prod", Hour: now.Add(-72 * time.Hour).Truncate(time.Hour), Count: 5}}}); err != nil {
				t.Fatal(err)
			}
			neg := func(at time.Time, sender, consumer, source string) feedback.Feedback {
				return feedback.Feedback{Sunset: s.Name, At: at, Mood: feedback.Negative, Category: feedback.NeedMoreTime,
					Consumer: consumer, Source: source, Sender: sender}
			}
			// Two days ago, senders k1 and k2 wrote in.
			early := []feedback.Feedback{neg(now.Add(-48*time.Hour), "k1", "", "form"), neg(now.Add(-48*time.Hour), "k2", "", "api")}
			if err := st.Feedback().Add(ctx, early); err != nil {
				t.Fatal(err)
			}
			judge := func(cond string) *engine.SuspectTrip {
				t.Helper()
				c, err := plan.ParseCondition(cond)
				if err != nil {
					t.Fatal(err)
				}
				var out *engine.SuspectTrip
				err = st.InTx(ctx, func(tx engine.Tx) error {
					var err error
					out, err = st.Feedback().TieredSignals(nil).(engine.Suspicion).Suspect(ctx, tx, s, c, now)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			add := func(items ...feedback.Feedback) {
				t.Helper()
				if err := st.Feedback().Add(ctx, items); err != nil {
					t.Fatal(err)
				}
			}
			// In the window: the two known senders, one naming the gateway's consumer, one import.
			hour := now.Add(-time.Hour)
			add(neg(hour, "k1", "", "form"), neg(hour, "k2", "", "form"), neg(hour, "n0", "acme-prod", "form"), neg(hour, "", "", "import"))
			if got := judge("feedback.negative_ratio > 0.4 over 24h"); got != nil {
				t.Fatalf("known senders judged suspect: %+v", got)
			}
			// Four new senders: 4 new of 8 driving, under the burst's size and share.
			for i := range 4 {
				add(neg(hour, fmt.Sprintf("new-%d", i), "", "form"))
			}
			if got := judge("feedback.negative_ratio > 0.4 over 24h"); got != nil {
				t.Fatalf("4 new of 8 judged suspect: %+v", got)
			}
			// Twenty-eight more: 32 new of 36 driving (89%).
			for i := 4; i < 32; i++ {
				add(neg(hour, fmt.Sprintf("new-%d", i), "", "survey"))
			}
			got := judge("feedback.negative_ratio > 0.4 over 24h")
			if got == nil || got.New != 32 || got.Driving != 36 || !got.Since.Equal(now.Add(-24*time.Hour)) {
				t.Fatalf("burst judged %+v, want 32 new of 36 since 24h ago", got)
			}
			// Without `over` the last 24 hours are judged; a low-side condition never is.
			if got := judge("feedback.count > 10"); got == nil || got.New != 32 {
				t.Errorf("feedback.count > 10 judged %+v", got)
			}
			if got := judge("feedback.count < 100 over 24h"); got != nil {
				t.Errorf("a < condition judged suspect: %+v", got)
			}
			// A week's window holds k1 and k2's first messages and acme-prod's usage: nothing was
			// seen before it, so all but the import are new.
			if got := judge("feedback.negative_ratio > 0.4 over 168h"); got == nil || got.New != 37 || got.Driving != 38 {
				t.Errorf("over a week judged %+v, want 37 new of 38", got)
			}
			// The sender never leaves the store in an answer.
			items, _ := st.Feedback().List(ctx, s.Name, time.Time{})
			if items[0].Sender != "k1" {
				t.Errorf("sender not kept: %+v", items[0])
			}
		})
	}
}
