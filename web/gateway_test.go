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

func TestETagMatchFollowsIfNoneMatchRules(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{`"abc"`, true},
		{`W/"abc"`, true},
		{`"x", "abc"`, true},
		{`*`, true},
		{`"abcd"`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := etagMatch(tt.header, `"abc"`); got != tt.want {
			t.Errorf("etagMatch(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestPolicyNamesTheLaggardsTheUsageStoreFinds(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlanNoSignoff)
	usage := &memUsage{}
	b.srv.Usage = usage
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
