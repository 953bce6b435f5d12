package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/examples"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store/sqlite"
)

// send sends method path to base with consumer c-1's key and returns the status and body.
func send(t *testing.T, method, base, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(`{"item":"tea"}`))
	req.Header.Set("X-API-Key", "c-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// signOffExample signs the example plan off as both its stakeholders, so that gateways enforce it.
func signOffExample(t *testing.T, api string) {
	t.Helper()
	for _, who := range []string{"support", "legal"} {
		if code, out, errs := run(t, context.Background(), "signoff", "orders-api-v1", "--as", who, "--server", api); code != 0 {
			t.Fatalf("signoff --as %s: exit %d %s%s", who, code, out, errs)
		}
	}
}

// readOnlyPlan writes the example plan with a runbook of one step, `gateway: read_only`, and
// returns its path.
func readOnlyPlan(t *testing.T) string {
	t.Helper()
	data, err := examples.Files.ReadFile("api-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text, _, ok := strings.Cut(string(data), "\nrunbook:")
	if !ok {
		t.Fatal("the example plan has no runbook")
	}
	dir := t.TempDir()
	csv, _ := examples.Files.ReadFile("orders-contacts.csv")
	os.WriteFile(filepath.Join(dir, "orders-contacts.csv"), csv, 0o600)
	path := filepath.Join(dir, "plan.yaml")
	text += "\nrunbook:\n  - {name: read-only, gateway: read_only}\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunbookGatewayStepSwitchesTheGatewaysToReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "sunset.db")
	db := "sqlite:" + dbPath
	up := startUpstream(t)
	// January: the timeline says deprecated; writes pass until read_only on March 1st.
	api, gw, stop := serveWithGateway(t, db, up.URL, "--now", afterAnnounce)
	defer stop()
	// The operator applies the plan whose runbook switches the gateways, then signs it off.
	planFile := readOnlyPlan(t)
	if code, out, errs := run(t, ctx, "apply", planFile, "--server", api); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	signOffExample(t, api)
	// A second, separate gateway polls the control plane's policy.
	gw2, _, stopGW := runGateway(t, "--now", "2027-01-20T12:00:00+08:00", "--server", api, "--service", "orders-api-v1",
		"--upstream", up.URL, "--usage-file", "", "--poll-interval", "100ms")
	defer stopGW()
	for _, g := range []string{gw, gw2} {
		eventually(t, "the signed-off plan enforced", func() bool {
			code, body := send(t, "POST", g, "/v1/orders/")
			return code == 200 && body == "upstream /v1/orders/"
		})
	}

	code, out, errs := run(t, ctx, "runbook", "run", "orders-api-v1", "--server", api, "--dry-run")
	if code != 0 || !strings.Contains(out, "read-only") || !strings.Contains(out, "read_only") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = run(t, ctx, "runbook", "run", "orders-api-v1", "--server", api, "--as", "li.wei")
	if code != 0 || !strings.Contains(out, "switching the gateway to read_only") || !strings.Contains(out, "Run 1 is done.") {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}

	for _, g := range []struct{ name, url string }{{"in-process gateway", gw}, {"control-plane-fed gateway", gw2}} {
		var last string
		eventually(t, g.name+" refuses writes", func() bool {
			code, body := send(t, "POST", g.url, "/v1/orders/")
			last = body
			return code == http.StatusServiceUnavailable
		}, &last)
		if code, body := send(t, "GET", g.url, "/v1/orders/7"); code != 200 || body != "upstream /v1/orders/7" {
			t.Errorf("%s: GET in read_only answered %d %q; reads must pass", g.name, code, body)
		}
		if code, _ := send(t, "DELETE", g.url, "/v1/orders/7"); code != http.StatusServiceUnavailable {
			t.Errorf("%s: DELETE in read_only answered %d, want 503", g.name, code)
		}
	}

	// The policy the control plane serves says read_only from the switch on.
	resp, err := http.Get(api + "/api/v1/sunsets/orders-api-v1/policy")
	if err != nil {
		t.Fatal(err)
	}
	var snap policy.Snapshot
	err = json.NewDecoder(resp.Body).Decode(&snap)
	resp.Body.Close()
	if err != nil || snap.Phases.ReadOnly == nil {
		t.Fatalf("served policy: %v, read_only %v", err, snap.Phases.ReadOnly)
	}

	// The switch is on the record: an Event, and the stored override.
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o, err := st.GetPhaseOverride(ctx, "orders-api-v1")
	if err != nil || o.Phase != "read_only" || o.Actor != runbook.PhaseSwitchActor {
		t.Errorf("stored override %+v, %v; want read_only by the runbook", o, err)
	}
	code, out, errs = run(t, ctx, "events", "list", "orders-api-v1", "--server", api)
	if code != 0 || !strings.Contains(out, "gateway.phase_switched") {
		t.Errorf("events: exit %d, no gateway.phase_switched event:\n%s%s", code, out, errs)
	}
}

func TestPhaseSwitchIsStoredRecordedAndRefreshesTheGateway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sunset.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := sunset.NewFixedClock(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	eng, err := engine.New(engine.Config{Store: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := examples.Files.ReadFile("api-v2.yaml")
	if _, err := eng.ApplyBundle(ctx, "api-v2.yaml", data, plan.FSFiles(examples.Files, "."), "test"); err != nil {
		t.Fatal(err)
	}
	ps := runbookCollaborators(&runbook.Runner{}, st, eng, eng.Runtime())
	refreshed := 0
	ps.OnSwitch(func(context.Context) { refreshed++ })

	first := clock.Now()
	if err := ps.SetPhase(ctx, "orders-api-v1", "read_only"); err != nil {
		t.Fatal(err)
	}
	// A retried step switches again later: the phase holds from the first switch.
	clock.Set(first.Add(time.Hour))
	if err := ps.SetPhase(ctx, "orders-api-v1", "read-only"); err != nil {
		t.Fatal(err)
	}
	o, err := st.PhaseOverride(ctx, "orders-api-v1")
	if err != nil || o.Phase != policy.ReadOnly || !o.At.Equal(first) {
		t.Errorf("override %+v, %v; want read_only from %v", o, err, first)
	}
	if refreshed != 2 {
		t.Errorf("the in-process gateway was refreshed %d times, want once per switch (2)", refreshed)
	}
	events, err := eng.Events(ctx, "orders-api-v1")
	if err != nil {
		t.Fatal(err)
	}
	switched := 0
	for _, e := range events {
		if e.Type == "gateway.phase_switched" {
			switched++
		}
	}
	if switched != 2 {
		t.Errorf("%d gateway.phase_switched events, want 2", switched)
	}
	if err := ps.SetPhase(ctx, "orders-api-v1", "closed"); sunset.ErrorCode(err) != sunset.EINVALID {
		t.Errorf("an unknown phase: %v, want EINVALID", err)
	}
	if err := ps.SetPhase(ctx, "nope", "gone"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
		t.Errorf("an unknown sunset: %v, want ENOTFOUND", err)
	}
}
