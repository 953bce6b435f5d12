package rehearse

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Upstream is the built-in sample service a rehearsal puts behind the gateway. It answers any
// request of the old API with a small JSON document (201 to writes), serves per-user exports
// at /internal/export?user=ID, and stands in for the runbook's commands and HTTP calls at
// /_rehearsal/step/NAME and /_rehearsal/import/ID, recording each, and for the plan's alternative
// under AlternativePrefix. It is safe for concurrent use; the zero value is ready.
type Upstream struct {
	mu     sync.Mutex
	recent []time.Time // wall instants of API requests, newest last
	total  int64
	steps  []string
}

// AlternativePrefix is where the sample upstream stands in for the plan's alternative: migrated
// consumers call it instead of the old API, and its requests do not count as the old API's.
const AlternativePrefix = "/_alternative"

// rpsWindow is how far back RPS looks.
const rpsWindow = time.Second

// ServeHTTP answers one request.
func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/_rehearsal/step/"):
		name := strings.TrimPrefix(r.URL.Path, "/_rehearsal/step/")
		u.mu.Lock()
		u.steps = append(u.steps, name)
		u.mu.Unlock()
		writeDoc(w, http.StatusOK, map[string]any{"rehearsal": true, "step": name, "note": "recorded; nothing was run"})
	case strings.HasPrefix(r.URL.Path, "/_rehearsal/import/"):
		writeDoc(w, http.StatusOK, map[string]any{"rehearsal": true, "imported": strings.TrimPrefix(r.URL.Path, "/_rehearsal/import/")})
	case strings.HasPrefix(r.URL.Path, AlternativePrefix+"/"):
		// The alternative's stand-in: migrated consumers' calls, not the old API's traffic.
		status := http.StatusOK
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			status = http.StatusCreated
		}
		writeDoc(w, status, map[string]any{"service": "alternative (rehearsal stand-in)", "path": strings.TrimPrefix(r.URL.Path, AlternativePrefix)})
	case r.URL.Path == "/internal/export":
		user := r.URL.Query().Get("user")
		writeDoc(w, http.StatusOK, map[string]any{"user": user, "orders": []map[string]any{
			{"id": "o-1001", "total": "42.00", "currency": "CNY"},
			{"id": "o-1002", "total": "17.50", "currency": "CNY"},
		}})
	default:
		now := time.Now()
		u.mu.Lock()
		u.total++
		u.recent = append(u.recent, now)
		u.trim(now)
		u.mu.Unlock()
		status := http.StatusOK
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			status = http.StatusCreated
		}
		writeDoc(w, status, map[string]any{"service": "sample upstream", "method": r.Method, "path": r.URL.Path})
	}
}

// trim drops instants older than the window. The caller holds mu.
func (u *Upstream) trim(now time.Time) {
	i := 0
	for i < len(u.recent) && now.Sub(u.recent[i]) > rpsWindow {
		i++
	}
	u.recent = u.recent[i:]
}

// RPS is the rate of API requests that reached the upstream over the last second of wall time:
// what a drain step waits to see fall to zero.
func (u *Upstream) RPS() float64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.trim(time.Now())
	return float64(len(u.recent)) / rpsWindow.Seconds()
}

// Requests is how many API requests reached the upstream in all.
func (u *Upstream) Requests() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.total
}

// Steps lists the runbook steps whose stand-in was called, in order.
func (u *Upstream) Steps() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.steps...)
}

func writeDoc(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		fmt.Fprintln(w)
	}
}
