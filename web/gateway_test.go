package web

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/gateway"
)

// memUsage is a UsageRecorder in memory: it applies each (gateway, seq) once and knows only the
// sunsets of the test plans.
type memUsage struct {
	mu   sync.Mutex
	seen map[string]bool
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
