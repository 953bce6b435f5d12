package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
)

func TestLessonsAreKeptAndReplaced(t *testing.T) {
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
			if l, err := st.Lessons(ctx, s.Name); err != nil || l.Text != "" {
				t.Fatalf("before any write: %+v, %v", l, err)
			}
			for _, text := range []string{"Call partners earlier.", "提前一个月通知合作伙伴。"} {
				if err := st.PutLessons(ctx, s.Name, report.Lessons{Text: text, UpdatedBy: "li.wei", UpdatedAt: now}); err != nil {
					t.Fatal(err)
				}
			}
			l, err := st.Lessons(ctx, s.Name)
			if err != nil || l.Text != "提前一个月通知合作伙伴。" || l.UpdatedBy != "li.wei" || !l.UpdatedAt.Equal(now) {
				t.Fatalf("after two writes: %+v, %v", l, err)
			}
			if err := st.PutLessons(ctx, "nope", report.Lessons{Text: "x"}); sunset.ErrorCode(err) != sunset.ENOTFOUND {
				t.Fatalf("unknown sunset: %v", err)
			}
		})
	}
}
