package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/internal/testenv"
	"github.com/sunsetops/sunset/store/sqlite"
)

// Instants of the example plan (examples/api-v2.yaml, Asia/Shanghai).
const (
	beforeAnnounce = "2027-01-04T10:00:00+08:00"
	afterAnnounce  = "2027-01-06T12:00:00+08:00"
	// exampleDeprecation is its announce/deprecate milestone, 2027-01-05T10:00+08:00.
	exampleDeprecation = "@1799114400"
	// exampleSunset is its shutdown, 2027-03-15T02:00+08:00, as an HTTP-date.
	exampleSunset = "Sun, 14 Mar 2027 18:00:00 GMT"
)

// startUpstream is the retiring service: it answers "upstream PATH".
func startUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "upstream "+r.URL.Path)
	}))
	t.Cleanup(up.Close)
	return up
}

// serveWithGateway runs `sunset serve --upstream` in-process and returns the addresses of the API
// and of the gateway, and a stop function that waits for it to exit.
func serveWithGateway(t *testing.T, db, upstream string, extra ...string) (api, gw string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, gwReady := make(chan string, 1), make(chan string, 1)
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, ready: ready, gatewayReady: gwReady}
	done := make(chan int, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--log-level", "warn",
		"--upstream", upstream, "--listen-gateway", "127.0.0.1:0"}, extra...)
	go func() { done <- m.Run(ctx, args) }()
	select {
	case api = <-ready:
		gw = <-gwReady
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d before listening:\n%s%s", code, out.String(), errb.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start in 30s")
	}
	return "http://" + api, "http://" + gw, func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, errb.String())
		}
	}
}

// runGateway runs `sunset gateway` in-process and returns its client and admin URLs and a stop
// function that waits for it to exit.
func runGateway(t *testing.T, args ...string) (url, admin string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, adminReady := make(chan string, 1), make(chan string, 1)
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, ready: ready, adminReady: adminReady}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"gateway", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--log-level", "error"}, args...))
	}()
	select {
	case addr := <-ready:
		url, admin = "http://"+addr, "http://"+<-adminReady
	case code := <-done:
		cancel()
		t.Fatalf("gateway exited %d before listening:\n%s%s", code, out.String(), errb.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("gateway did not start in 30s")
	}
	return url, admin, func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("gateway exited %d: %s", code, errb.String())
		}
	}
}

// get sends GET path with the API key of consumer c-1.
func get(t *testing.T, base, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("X-API-Key", "c-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// signOff signs the example plan off as its two stakeholders, through the API at api, so that
// gateways enforce it.
func signOff(t *testing.T, api string) {
	t.Helper()
	for _, who := range []string{"support", "legal"} {
		if code, out, errs := run(t, context.Background(), "signoff", "orders-api-v1", "--as", who, "--server", api); code != 0 {
			t.Fatalf("signoff --as %s: exit %d %s%s", who, code, out, errs)
		}
	}
}

// caughtUp waits until the engine behind api has carried out every action due at now, so that
// its next action lies ahead.
func caughtUp(t *testing.T, api, now string) {
	t.Helper()
	at, err := time.Parse(time.RFC3339, now)
	if err != nil {
		t.Fatal(err)
	}
	last := ""
	eventually(t, "the actions due at "+now+" done", func() bool {
		resp, err := http.Get(api + "/api/v1/sunsets/orders-api-v1")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st struct {
			Next *struct {
				At time.Time `json:"at"`
			} `json:"next"`
		}
		b, _ := io.ReadAll(resp.Body)
		last = string(b)
		return json.Unmarshal(b, &st) == nil && st.Next != nil && st.Next.At.After(at)
	}, &last)
}

// storedUsage opens the database and returns the requests counted and the consumers told.
func storedUsage(t *testing.T, path, name string) (total uint64, aware []gateway.Awareness) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.Usage().Counts(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		total += c.Count
	}
	aware, err = st.Usage().Awareness(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return total, aware
}

func TestServeWithUpstreamRunsTheGatewayInProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sunset.db")
	up := startUpstream(t)

	_, gw, stop := serveWithGateway(t, "sqlite:"+path, up.URL, "--now", beforeAnnounce)
	resp, body := get(t, gw, "/v1/orders/7")
	if resp.StatusCode != 200 || body != "upstream /v1/orders/7" {
		t.Fatalf("before the announcement: %d %q", resp.StatusCode, body)
	}
	if v := resp.Header.Get("Deprecation"); v != "" {
		t.Errorf("Deprecation %q before the announcement", v)
	}
	stop()

	api, gw, stop := serveWithGateway(t, "sqlite:"+path, up.URL, "--now", afterAnnounce)
	// A draft changes nothing for users: the gateway passes it through until it is signed off.
	sent := 2 // before the announcement, and this one
	resp, body = get(t, gw, "/v1/orders/7")
	if v := resp.Header.Get("Deprecation"); resp.StatusCode != 200 || v != "" {
		t.Errorf("a draft after its announcement instant: %d, Deprecation %q; want 200 and none", resp.StatusCode, v)
	}
	signOff(t, api)
	eventually(t, "the signed-off plan's headers", func() bool {
		resp, body = get(t, gw, "/v1/orders/7")
		sent++
		return resp.Header.Get("Deprecation") != ""
	})
	if resp.StatusCode != 200 || body != "upstream /v1/orders/7" {
		t.Fatalf("after the announcement: %d %q", resp.StatusCode, body)
	}
	if v := resp.Header.Get("Deprecation"); v != exampleDeprecation {
		t.Errorf("Deprecation %q, want %s", v, exampleDeprecation)
	}
	if v := resp.Header.Get("Sunset"); v != exampleSunset {
		t.Errorf("Sunset %q, want %s", v, exampleSunset)
	}
	if resp, _ := get(t, gw, "/v1/reports/1"); resp.StatusCode != 200 {
		t.Errorf("reports before they are gone: %d", resp.StatusCode)
	}
	sent++
	// serve's own /metrics carries the in-process gateway's.
	if v, ok := metric(t, api, `sunset_gateway_requests_total{phase="deprecated"}`); !ok || v < 1 {
		t.Errorf("serve's /metrics: sunset_gateway_requests_total{phase=\"deprecated\"} = %v (found %v), want ≥ 1", v, ok)
	}
	stop()

	// Usage went straight into the database: every request once, c-1 told once.
	total, aware := storedUsage(t, path, "orders-api-v1")
	if total != uint64(sent) || len(aware) != 1 || aware[0].Consumer != "c-1" {
		t.Errorf("stored usage: %d requests, awareness %+v; want %d and c-1", total, aware, sent)
	}
}

// metric reads one sample of the gateway's /metrics.
func metric(t *testing.T, admin, name string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	return v, err == nil
}

// eventually retries check for up to 10s; context points at what the check last saw, for the
// failure message.
func eventually(t *testing.T, what string, check func() bool, context ...*string) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, what, func() error {
		if check() {
			return nil
		}
		seen := "not yet"
		for _, c := range context {
			seen = "last seen " + *c
		}
		return errors.New(seen)
	})
}

func TestGatewayFedByServeSurvivesItsOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sunset.db")
	up := startUpstream(t)
	api, stopAPI := server(t, "sqlite:"+path, "--now", afterAnnounce)
	signOff(t, api)
	// The gateway's clock stands after the deprecation, before reports are gone.
	gw, admin, stopGW := runGateway(t, "--now", "2027-01-20T12:00:00+08:00", "--server", api, "--service", "orders-api-v1",
		"--upstream", up.URL, "--usage-file", "", "--poll-interval", "100ms", "--flush-interval", "100ms")
	sent := 0
	check := func(what, deprecation, sunsetDate string) {
		t.Helper()
		resp, body := get(t, gw, "/v1/orders/7")
		sent++
		if resp.StatusCode != 200 || body != "upstream /v1/orders/7" {
			t.Fatalf("%s: %d %q", what, resp.StatusCode, body)
		}
		if v := resp.Header.Get("Deprecation"); v != deprecation {
			t.Errorf("%s: Deprecation %q, want %s", what, v, deprecation)
		}
		if v := resp.Header.Get("Sunset"); v != sunsetDate {
			t.Errorf("%s: Sunset %q, want %s", what, v, sunsetDate)
		}
	}

	// The policy is enforced, and the usage reaches the control plane's database.
	for range 3 {
		check("with the control plane up", exampleDeprecation, exampleSunset)
	}
	if resp, _ := get(t, gw, "/v1/reports/1"); resp.StatusCode != 200 {
		t.Errorf("reports before they are gone: %d", resp.StatusCode)
	}
	sent++
	eventually(t, "the usage flushed to the control plane", func() bool {
		v, _ := metric(t, admin, `sunset_gateway_usage_flushes_total{result="ok"}`)
		return v >= 1
	})
	if v, ok := metric(t, admin, "sunset_gateway_policy_stale"); !ok || v != 0 {
		t.Errorf("stale %v %v with the control plane up", v, ok)
	}

	// The control plane goes away: the last good policy stays in force, and /metrics says so.
	stopAPI()
	eventually(t, "sunset_gateway_policy_stale 1", func() bool {
		v, _ := metric(t, admin, "sunset_gateway_policy_stale")
		return v == 1
	})
	for range 2 {
		check("with the control plane down", exampleDeprecation, exampleSunset)
	}

	// It comes back on the same address; a re-plan reaches the gateway within seconds.
	addr := strings.TrimPrefix(api, "http://")
	api, stopAPI = server(t, "sqlite:"+path, "--now", afterAnnounce, "--addr", addr)
	stopAPI = sync.OnceFunc(stopAPI)
	defer stopAPI()                 // on a failure before the end
	caughtUp(t, api, afterAnnounce) // what fell due has happened: only the future moves
	if code, out, errs := run(t, ctx, "replan", "orders-api-v1", "--shift", "14d", "--reason", "Acme needs time", "--server", api); code != 0 {
		t.Fatalf("replan: exit %d %s%s", code, out, errs)
	}
	// The deprecation has happened and stays; the sunset moves 14 days later.
	const movedSunset = "Sun, 28 Mar 2027 18:00:00 GMT"
	start := time.Now()
	last := ""
	eventually(t, "the re-planned Sunset header", func() bool {
		resp, _ := get(t, gw, "/v1/orders/7")
		sent++
		last = resp.Header.Get("Sunset")
		return last == movedSunset
	}, &last)
	t.Logf("new policy in force %v after the re-plan", time.Since(start).Round(time.Millisecond))
	eventually(t, "sunset_gateway_policy_stale 0", func() bool {
		v, _ := metric(t, admin, "sunset_gateway_policy_stale")
		return v == 0
	})
	check("after the re-plan", exampleDeprecation, movedSunset)

	// Stopping the gateway flushes the rest; every request is stored exactly once, although
	// flushes failed during the outage and were retried.
	stopGW()
	stopAPI()
	total, aware := storedUsage(t, path, "orders-api-v1")
	if total != uint64(sent) {
		t.Errorf("stored %d requests, sent %d", total, sent)
	}
	if len(aware) != 1 || aware[0].Consumer != "c-1" {
		t.Errorf("awareness %+v, want c-1 once", aware)
	}
}
