package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/sunsetops/sunset/examples"
	"github.com/sunsetops/sunset/policy"
)

func TestPlanFileKeepsTheOldPolicyWhenTheNewPlanIsInvalid(t *testing.T) {
	data, _ := examples.Files.ReadFile("api-v2.yaml")
	path := filepath.Join(t.TempDir(), "plan.yaml")
	os.WriteFile(path, data, 0o644)
	gw := New(nil, Options{})
	m := NewMetrics()
	pf := &PlanFile{Path: path, Gateway: gw, Metrics: m}
	if err := pf.Load(); err != nil {
		t.Fatal(err)
	}
	first := gw.Policy()
	os.WriteFile(path, []byte("service: {name: 'Not A Name'}\nmilestones: nope\n"), 0o644)
	if err := pf.Load(); err == nil {
		t.Fatal("an invalid plan was loaded")
	}
	if gw.Policy() != first {
		t.Error("the policy changed after an invalid plan")
	}
	changed := strings.Replace(string(data), "name: orders-api-v1", "name: orders-api-v1b", 1)
	os.WriteFile(path, []byte(changed), 0o644)
	if err := pf.Load(); err != nil {
		t.Fatal(err)
	}
	if gw.Policy().Snapshot().Service.Name != "orders-api-v1b" {
		t.Error("a good new plan was not loaded")
	}
	pf.Stop() // safe before Start
	pf.Stop()
}

func TestControlPlaneOutageKeepsTheLastGoodPolicy(t *testing.T) {
	pol, err := policy.Compile(examplePlan(t), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(pol.Snapshot())
	var down atomic.Bool
	var notModified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", 500)
			return
		}
		if r.URL.Path != "/api/v1/sunsets/orders-api-v1/policy" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write(body)
	}))
	defer srv.Close()
	gw := New(nil, Options{})
	m := NewMetrics()
	cache := filepath.Join(t.TempDir(), "policy.json")
	cp := &ControlPlane{Server: srv.URL, Service: "orders-api-v1", Gateway: gw, Metrics: m, Cache: cache}
	ctx := context.Background()
	if err := cp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cp.Stop()
	if gw.Policy() == nil || gw.Policy().Snapshot().Service.Name != "orders-api-v1" {
		t.Fatal("no policy from the control plane")
	}
	if err := cp.Fetch(ctx); err != nil || notModified.Load() != 1 {
		t.Errorf("second fetch: %v, 304s %d", err, notModified.Load())
	}
	down.Store(true)
	got := gw.Policy()
	if err := cp.Fetch(ctx); err == nil {
		t.Fatal("a 500 was taken for a policy")
	}
	if gw.Policy() != got {
		t.Error("the policy changed while the control plane was down")
	}
	var up dto.Metric
	m.ControlPlaneUp.Write(&up)
	if v := up.GetGauge().GetValue(); v != 0 {
		t.Errorf("sunset_gateway_control_plane_up %v after a 500, want 0", v)
	}
	down.Store(false)
	if err := cp.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	m.ControlPlaneUp.Write(&up)
	if v := up.GetGauge().GetValue(); v != 1 {
		t.Errorf("sunset_gateway_control_plane_up %v once it answers again, want 1", v)
	}
	down.Store(true)
	t.Run("a restarted gateway enforces the cached policy and says it is stale", func(t *testing.T) {
		gw2 := New(nil, Options{})
		m2 := NewMetrics()
		cp2 := &ControlPlane{Server: srv.URL, Service: "orders-api-v1", Gateway: gw2, Metrics: m2, Cache: cache}
		if err := cp2.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer cp2.Stop()
		if gw2.Policy() == nil {
			t.Fatal("no cached policy")
		}
		var metric dto.Metric
		m2.Stale.Write(&metric)
		if v := metric.GetGauge().GetValue(); v != 1 {
			t.Errorf("sunset_gateway_policy_stale %v, want 1", v)
		}
	})
}

func TestFlusherRetriesAFailedBatchWithTheSameSequence(t *testing.T) {
	u := NewUsage()
	sink := &recordingSink{fail: true}
	f := &Flusher{Usage: u, Sink: sink, Gateway: "g"}
	u.Count("orders", "c", at("2027-01-06T12:00"))
	if err := f.Flush(context.Background()); err == nil {
		t.Fatal("want the sink's error")
	}
	sink.fail = false
	u.Count("orders", "c", at("2027-01-06T12:00"))
	if err := f.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sink.got) != 2 || sink.got[0].Seq != 1 || sink.got[1].Seq != 2 || sink.got[0].Counts[0].Count != 1 {
		t.Errorf("batches %+v", sink.got)
	}
	f.Stop() // safe before Start
}

type recordingSink struct {
	fail bool
	got  []Batch
}

func (s *recordingSink) Flush(_ context.Context, b Batch) error {
	if s.fail {
		return context.DeadlineExceeded
	}
	s.got = append(s.got, b)
	return nil
}
