package cluster_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/store/storetest"
)

const (
	gatewayNow = "2027-01-20T12:00:00Z"
	// The plan's shutdown as an HTTP-date, and 14 days later after the re-plan.
	plannedSunset = "Mon, 15 Mar 2027 02:00:00 GMT"
	movedSunset   = "Mon, 29 Mar 2027 02:00:00 GMT"
)

// gatewayPlan is a deprecated service whose gateways announce its shutdown in the Sunset header.
func gatewayPlan(t *testing.T, dir, upstream string) string {
	t.Helper()
	path := filepath.Join(dir, "plan.yaml")
	err := os.WriteFile(path, []byte(fmt.Sprintf(`service:
  name: orders-api-v1
  timezone: UTC
  upstream: %s
consumers:
  identify: {header: X-API-Key}
milestones:
  announce: 2027-01-05T10:00
  deprecate: 2027-01-05T10:00
  shutdown: 2027-03-15T02:00
features:
  - {name: orders, core: true, routes: ["/v1/orders/"]}
`, upstream)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// metricValue reads one sample of the Prometheus text at url (-1 when absent).
func metricValue(t *testing.T, url, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(fetch(t, url), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// TestGatewaysFedByReplicasCountOnceAndOutliveTheControlPlane runs two `sunset serve` replicas on
// one PostgreSQL database and two `sunset gateway` processes, each fed by one replica. Their usage
// flushes add up without double counting (a flush posted again, to the other replica, is
// refused as already applied); with every replica stopped the gateways keep enforcing the last
// good policy and their /metrics say the control plane is down; when it returns, a re-plan
// reaches both gateways within seconds.
func TestGatewaysFedByReplicasCountOnceAndOutliveTheControlPlane(t *testing.T) {
	dsn, _ := storetest.PostgresDSN(t)
	sunsetBinary(t)
	dir := t.TempDir()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream %s", r.URL.Path)
	}))
	defer up.Close()
	planFile := gatewayPlan(t, dir, up.URL)

	addrs := []string{freeAddr(t), freeAddr(t)}
	startReplica := func(i int) *proc {
		return start(t, fmt.Sprintf("replica-%d", i+1), "http://"+addrs[i], "/readyz", nil,
			"serve", "--db", dsn, "--addr", addrs[i], "--replica-id", fmt.Sprintf("replica-%d", i+1),
			"--example=false", "--now", gatewayNow)
	}
	reps := []*proc{startReplica(0), startReplica(1)}
	if out, err := runCLI(t, "apply", planFile, "--server", reps[0].url); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	type gw struct {
		*proc
		admin string
	}
	var gws []gw
	for i := range 2 {
		listen, admin := freeAddr(t), freeAddr(t)
		p := start(t, fmt.Sprintf("gateway-%d", i+1), "http://"+admin, "/healthz", nil,
			"gateway", "--listen", listen, "--admin", admin, "--server", reps[i].url, "--service", "orders-api-v1", "--upstream", up.URL,
			"--usage-file", "", "--poll-interval", "200ms", "--flush-interval", "200ms", "--now", gatewayNow, "--log-level", "warn")
		p.url = "http://" + listen
		gws = append(gws, gw{p, "http://" + admin + "/metrics"})
	}
	sent := 0
	call := func(g gw, want string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/orders/7", nil)
		req.Header.Set("X-API-Key", "acme")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		resp.Body.Close()
		sent++
		if resp.StatusCode != 200 || resp.Header.Get("Sunset") != want || resp.Header.Get("Deprecation") == "" {
			t.Errorf("%s: %d Sunset %q Deprecation %q; want 200 with Sunset %q and a Deprecation header",
				g.name, resp.StatusCode, resp.Header.Get("Sunset"), resp.Header.Get("Deprecation"), want)
		}
	}
	for range 20 {
		for _, g := range gws {
			call(g, plannedSunset)
		}
	}

	// A flush retried after a lost answer — here to the other replica — counts once.
	batch := []byte(`{"gateway":"gateway-retry","seq":1,"counts":[{"feature":"orders","consumer":"acme","hour":"2027-01-20T12:00:00Z","count":5}]}`)
	for i, want := range []bool{true, false} {
		resp, err := http.Post(reps[i].url+"/api/v1/sunsets/orders-api-v1/usage", "application/json", bytes.NewReader(batch))
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Applied bool `json:"applied"`
		}
		json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if resp.StatusCode != 200 || res.Applied != want {
			t.Errorf("flush posted to %s: %d applied %v, want %v", reps[i].name, resp.StatusCode, res.Applied, want)
		}
	}
	for _, g := range gws {
		waitFor(t, 10*time.Second, g.name+" flushed", func() bool { return metricValue(t, g.admin, `sunset_gateway_usage_flushes_total{result="ok"}`) >= 1 })
		if v := metricValue(t, g.admin, "sunset_gateway_control_plane_up"); v != 1 {
			t.Errorf("%s: sunset_gateway_control_plane_up %v with the control plane up", g.name, v)
		}
	}

	// Every replica stops: the gateways keep the last good policy, and say the control plane is down.
	for _, r := range reps {
		r.stop()
	}
	for _, g := range gws {
		waitFor(t, 10*time.Second, g.name+" sees the control plane down", func() bool {
			return metricValue(t, g.admin, "sunset_gateway_control_plane_up") == 0 && metricValue(t, g.admin, "sunset_gateway_policy_stale") == 1
		})
		for range 5 {
			call(g, plannedSunset)
		}
	}

	// The replicas come back on their addresses; a re-plan reaches every gateway within seconds.
	reps = []*proc{startReplica(0), startReplica(1)}
	if out, err := runCLI(t, "replan", "orders-api-v1", "--shift", "14d", "--reason", "Acme needs time", "--server", reps[1].url); err != nil {
		t.Fatalf("replan: %v\n%s", err, out)
	}
	replanned := time.Now()
	for _, g := range gws {
		waitFor(t, 10*time.Second, g.name+" enforcing the re-plan", func() bool {
			req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/orders/7", nil)
			req.Header.Set("X-API-Key", "acme")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			sent++
			return resp.Header.Get("Sunset") == movedSunset
		})
		t.Logf("%s enforces the re-plan %v after it", g.name, time.Since(replanned).Round(time.Millisecond))
		if v := metricValue(t, g.admin, "sunset_gateway_control_plane_up"); v != 1 {
			t.Errorf("%s: sunset_gateway_control_plane_up %v after the control plane returned", g.name, v)
		}
		call(g, movedSunset)
	}

	// The gateways stop (a last flush each); every request is counted once, plus the retried
	// flush's 5 once, although flushes failed during the outage and were retried.
	for _, g := range gws {
		g.stop()
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var total int
	if err := db.QueryRow(`SELECT COALESCE(SUM(count), 0) FROM usage_counts`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != sent+5 {
		t.Errorf("counted %d requests, sent %d through the gateways plus 5 in the retried flush", total, sent)
	}
	t.Logf("%d requests through 2 gateways and 5 in a flush posted twice: %d counted", sent, total)
}
