package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/usage"
)

func TestReportDataGathersUsageAwarenessAndLessons(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) engine.Store{"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t).(*store.DB)
			now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
			s := &engine.Sunset{Name: "orders-api-v1", State: engine.StateShutDown, Revision: 1, CreatedAt: now, UpdatedAt: now}
			if err := st.InTx(ctx, func(tx engine.Tx) error { return tx.CreateSunset(ctx, s) }); err != nil {
				t.Fatal(err)
			}
			hour := now.Truncate(time.Hour)
			_, err := st.Usage().RecordUsage(ctx, s.Name, usage.Batch{Gateway: "g1", Seq: 1,
				Counts: []usage.Count{{Feature: "orders", Consumer: "acme", Hour: hour, Count: 3}, {Feature: "orders", Consumer: usage.OtherConsumer, Hour: hour, Count: 1}},
				Aware:  []usage.Awareness{{Consumer: "acme", FirstSeen: hour}, {Consumer: usage.OtherConsumer, FirstSeen: hour}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.PutLessons(ctx, s.Name, report.Lessons{Text: "x", UpdatedBy: "li", UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			var in report.Input
			if err := st.ReportData(ctx, s.Name, &in); err != nil {
				t.Fatal(err)
			}
			if len(in.Usage) != 2 || in.UnknownConsumer != usage.OtherConsumer || in.Lessons.Text != "x" || in.Runbook != nil {
				t.Errorf("input: %+v", in)
			}
			if in.Awareness != (report.Awareness{Known: 1, Aware: 1, InBand: 1}) {
				t.Errorf("awareness: %+v", in.Awareness)
			}
		})
	}
}
