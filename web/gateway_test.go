package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/policy"
)

// memUsage is a UsageRecorder in memory: it applies each (gateway, seq) once and knows only the
// sunsets of the test plans.
type memUsage struct {
	mu   sync.Mutex
	seen map[string]bool
	// laggards is what Laggards answers; asked records the instants it was asked at.
	laggards []string
	asked    []time.Time
}

func (m *memUsage) Laggards(_ context.Context, _ string, now time.Time) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked = append(m.asked, now)
	return m.laggards, nil
}

func (m *memUsage) RecordUsage(_ context.Context, name string, b gateway.Batch) (bool, error) {
	if name != "reports-v2" && name != "billing-v1" {
		return false, sunset.Errorf(sunset.ENOTFOUND, "No sunset is named %q.", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	key := name + "/" + b.Gateway + "/" + strconv.FormatInt(b.Seq, 10)
	if m.seen[key] {
		return false, nil
	}
	m.seen[key] = true
	return true, nil
}

func TestPolicyNamesTheLaggardsTheUsageStoreFinds(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlanNoSignoff)
	usage := &memUsage{}
	b.srv.Usage = usage
	b.rehandle()
	get := func(etag string) (*response, *policy.Snapshot) {
		t.Helper()
		r := b.do(t, "GET", "/api/v1/sunsets/reports-v2/policy", "", "If-None-Match", etag)
		if r.status != http.StatusOK {
			return r, nil
		}
		var snap policy.Snapshot
		if err := json.Unmarshal(r.body, &snap); err != nil {
			t.Fatal(err)
		}
		return r, &snap
	}
	r, snap := get("")
	if snap == nil || len(snap.Laggards) != 0 {
		t.Fatalf("no laggards yet: %d %s", r.status, r.body)
	}
	usage.mu.Lock()
	usage.laggards = []string{"acme-dev", "globex"}
	usage.mu.Unlock()
	r2, snap := get(r.header.Get("ETag"))
	if snap == nil || strings.Join(snap.Laggards, ",") != "acme-dev,globex" {
		t.Fatalf("a new laggard must change the policy and its ETag: %d %s", r2.status, r2.body)
	}
	if r2.header.Get("ETag") == r.header.Get("ETag") {
		t.Error("the ETag did not change with the laggards")
	}
	if pol, err := policy.FromSnapshot(snap); err != nil {
		t.Errorf("the snapshot does not build a policy: %v", err)
	} else if !slices.Equal(pol.Snapshot().Laggards, snap.Laggards) {
		t.Errorf("policy laggards %q", pol.Snapshot().Laggards)
	}
	if len(usage.asked) == 0 || !usage.asked[len(usage.asked)-1].Equal(b.clock.Now()) {
		t.Errorf("laggards asked at %v, want the server clock's %v", usage.asked, b.clock.Now())
	}
}

func TestPolicyFollowsTheSunsetState(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	policyNow := func(what string) *policy.Snapshot {
		t.Helper()
		r := b.do(t, "GET", "/api/v1/sunsets/billing-v1/policy", "")
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", what, r.status, r.body)
		}
		var snap policy.Snapshot
		if err := json.Unmarshal(r.body, &snap); err != nil {
			t.Fatal(err)
		}
		if _, err := policy.FromSnapshot(&snap); err != nil {
			t.Fatalf("%s: the snapshot does not build a policy: %v", what, err)
		}
		return &snap
	}
	// A draft awaits its sign-off: gateways must change nothing for users yet.
	if p := policyNow("draft").Phases; p.Deprecated != nil || p.ReadOnly != nil || p.Gone != nil {
		t.Errorf("a draft's policy enters phases: %+v", p)
	}
	if r := b.do(t, "POST", "/api/v1/sunsets/billing-v1/signoffs", `{"stakeholder":"legal"}`); r.status != http.StatusOK {
		t.Fatalf("signoff: %d %s", r.status, r.body)
	}
	p := policyNow("scheduled").Phases
	if p.Deprecated == nil || p.ReadOnly == nil || p.Gone == nil {
		t.Fatalf("a scheduled sunset's policy lacks its phases: %+v", p)
	}
	// Paused between deprecation and read-only: deprecated stays, read-only and gone wait.
	pausedAt := p.Deprecated.Add(48 * time.Hour)
	b.clock.Set(pausedAt)
	if r := b.do(t, "POST", "/api/v1/sunsets/billing-v1/pause", `{"reason":"Acme needs time"}`); r.status != http.StatusOK {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	b.clock.Set(p.Gone.Add(time.Hour)) // long after: the pause still holds the phases
	held := policyNow("paused")
	if held.Phases.Deprecated == nil || !held.Phases.Deprecated.Equal(*p.Deprecated) || held.Phases.ReadOnly != nil || held.Phases.Gone != nil {
		t.Errorf("paused policy phases %+v, want deprecated %v only", held.Phases, p.Deprecated)
	}
	if len(held.Brownouts) != 0 {
		t.Errorf("a paused sunset runs brownouts: %+v", held.Brownouts)
	}
	if r := b.do(t, "POST", "/api/v1/sunsets/billing-v1/cancel", `{"reason":"kept after all"}`); r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if p := policyNow("cancelled").Phases; p.Deprecated != nil || p.ReadOnly != nil || p.Gone != nil {
		t.Errorf("a cancelled sunset's policy enters phases: %+v", p)
	}
}
