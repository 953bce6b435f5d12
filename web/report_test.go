package web

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
	"github.com/sunsetops/sunset/web/api"
)

// memReports keeps lessons in memory and has no stored figures.
type memReports struct {
	mu      sync.Mutex
	lessons map[string]report.Lessons
}

func (m *memReports) ReportData(_ context.Context, name string, in *report.Input) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	in.Lessons = m.lessons[name]
	return nil
}

func (m *memReports) PutLessons(_ context.Context, name string, l report.Lessons) error {
	if name == "nope" {
		return sunset.Errorf(sunset.ENOTFOUND, "no sunset %s", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lessons == nil {
		m.lessons = map[string]report.Lessons{}
	}
	m.lessons[name] = l
	return nil
}

var _ api.Reports = (*store.DB)(nil)

// TestReportOfAShutDownSunsetEvaluatesIt checks the report route on a real store: the report of
// a shut-down sunset moves it to evaluated (once), the assessment does not, and the lessons
// written through the API appear in the report.
func TestReportOfAShutDownSunsetEvaluatesIt(t *testing.T) {
	ctx := context.Background()
	clock := sunset.NewFixedClock(t0)
	st := storetest.OpenSQLite(t)
	eng, err := engine.New(engine.Config{Store: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	db := st.(*store.DB)
	b := setup(t)
	b.srv.Engine, b.srv.Reports, b.srv.Feedback = eng, db, db.Feedback()
	b.rehandle()
	if _, err := eng.Apply(ctx, "billing.yaml", []byte(testPlanNoSignoff), "tester"); err != nil {
		t.Fatal(err)
	}
	name := "reports-v2"
	if r := b.do(t, "PUT", "/api/v1/sunsets/"+name+"/lessons", `{"text":"Call partners a month earlier."}`, client.ActorHeader, "li.wei"); r.status != 200 {
		t.Fatalf("lessons: %d %s", r.status, r.body)
	}
	get := func(query string) report.Report {
		t.Helper()
		r := b.do(t, "GET", "/api/v1/sunsets/"+name+"/report"+query, "", client.ActorHeader, "zhang.min")
		if r.status != 200 {
			t.Fatalf("report: %d %s", r.status, r.body)
		}
		var rep report.Report
		if err := json.Unmarshal(r.body, &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := get(""); rep.State == string(engine.StateEvaluated) || rep.Lessons.Text != "Call partners a month earlier.\n" || rep.Lessons.UpdatedBy != "li.wei" {
		t.Fatalf("before the shutdown: state %s, lessons %+v", rep.State, rep.Lessons)
	}
	err = st.InTx(ctx, func(tx engine.Tx) error {
		s, err := tx.LockSunset(ctx, name)
		if err != nil {
			return err
		}
		s.State = engine.StateShutDown
		return tx.UpdateSunset(ctx, s)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := b.do(t, "GET", "/api/v1/sunsets/"+name+"/report?assessment=1", ""); r.status != 200 || !strings.Contains(string(r.body), `"kind": "assessment"`) {
		t.Fatalf("assessment: %d %.300s", r.status, r.body)
	}
	if s, _ := eng.Get(ctx, name); s.State != engine.StateShutDown {
		t.Fatalf("the assessment moved the sunset to %s", s.State)
	}
	for range 2 {
		if rep := get(""); rep.State != string(engine.StateEvaluated) || !rep.Events.OK {
			t.Fatalf("after the shutdown: state %s, chain %+v", rep.State, rep.Events)
		}
	}
	evs, _ := eng.Events(ctx, name)
	n := 0
	for _, e := range evs {
		if e.Type == "sunset.evaluated" {
			n++
			if e.Actor != "zhang.min" {
				t.Errorf("evaluated by %q", e.Actor)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d sunset.evaluated events, want 1", n)
	}
	r := b.do(t, "GET", "/api/v1/sunsets/"+name+"/report?format=html&lang=zh", "")
	if r.status != 200 || r.mediaType() != "text/html" || !strings.Contains(string(r.body), "计划与实际时间线") {
		t.Fatalf("html: %d %s", r.status, r.mediaType())
	}
}
