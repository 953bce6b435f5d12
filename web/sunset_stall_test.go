package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

// stallPlan announces with a notice a day before deprecation.
const stallPlan = `
min_notice: 3d
service:
  name: orders-v1
  timezone: UTC
milestones:
  announce: 2027-01-04T10:00
  deprecate: announce+1d
  read_only: announce+2d
  shutdown: announce+3d
notices:
  - {at: announce, to: all, channels: [email], template: announce}
channels:
  email: {smtp: "127.0.0.1:2525", from: noreply@example.com}
`

// waitFailing dispatches until the sunset's status names a failing action.
func (b *testBundle) waitFailing(t *testing.T, name string) *engine.Status {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := b.eng.Dispatch(t.Context()); err != nil {
			t.Fatal(err)
		}
		st, err := b.eng.Status(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Failing) > 0 && st.Failing[0].Status != engine.ActionEnqueued {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failing action after 30s: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStatusAndMetricsShowAFailingActionAndDivergedPhases: a notice whose fan-out fails holds
// back the deprecate milestone while the clock (and so the gateway) has passed it. The status
// API names the failing action with its error, the deprecation blocked behind it, and both
// phases; /metrics counts the failing action and flags the divergence.
func TestStatusAndMetricsShowAFailingActionAndDivergedPhases(t *testing.T) {
	b := setup(t)
	b.eng.Register(plan.KindNotice, engine.HandlerFunc(func(ctx context.Context, run *engine.Run) error {
		return errors.New("read contacts: permission denied")
	}))
	b.apply(t, stallPlan)
	b.start(t)
	b.clock.Set(time.Date(2027, 1, 5, 11, 0, 0, 0, time.UTC))
	b.waitFailing(t, "orders-v1")

	r := b.do(t, http.MethodGet, "/api/v1/sunsets/orders-v1", "")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var st engine.Status
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Failing) != 1 || st.Failing[0].Key != "notice/0" || st.Failing[0].LastError != "read contacts: permission denied" || st.Failing[0].Attempts != 1 {
		t.Errorf("failing = %+v, want notice/0 with its error", st.Failing)
	}
	if len(st.Blocked) == 0 || st.Blocked[0].Key != "milestone/deprecate" {
		t.Errorf("blocked = %+v, want milestone/deprecate first", st.Blocked)
	}
	if st.EnginePhase != "active" || st.GatewayPhase != "deprecated" || !st.PhasesDiverge {
		t.Errorf("phases engine %q gateway %q diverge %v; want active, deprecated, true", st.EnginePhase, st.GatewayPhase, st.PhasesDiverge)
	}
	text := string(b.do(t, http.MethodGet, "/metrics", "").body)
	for _, want := range []string{
		`sunset_engine_actions_failing{sunset="orders-v1"} 1`,
		`sunset_engine_actions_blocked{sunset="orders-v1"} 1`,
		`sunset_engine_phase_diverged{engine_phase="active",gateway_phase="deprecated",sunset="orders-v1"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", text)
	}
	if page := b.do(t, http.MethodGet, "/?lang=zh", ""); !strings.Contains(string(page.body), "动作失败： <span class=\"mono\">notice/0</span>") {
		t.Errorf("the overview does not flag the failing action:\n%s", page.body)
	}
	// What needs attention opens the overview: the failing action and the phases that differ.
	if page := b.do(t, http.MethodGet, "/?lang=en", ""); !strings.Contains(string(page.body), "Needs attention") ||
		!strings.Contains(string(page.body), "Action failing: notice/0") ||
		!strings.Contains(string(page.body), "the engine&#39;s phase (active) and the gateway&#39;s (deprecated) differ") {
		t.Errorf("the overview's needs-attention list lacks the failing action or the diverging phases:\n%s", page.body)
	}
	for lang, wants := range map[string][]string{
		"en": {"An action is failing; the actions after it wait", "failed 1 of 5 times since 2027-01-05 11:00",
			"read contacts: permission denied", "Due and waiting behind it", "milestone/deprecate",
			"The gateway&#39;s phase and the engine&#39;s differ: engine active · gateway deprecated"},
		"zh": {"有动作执行失败，其后的动作在等待", "自 2027-01-05 11:00 UTC 起失败 1 次（共允许 5 次）",
			"read contacts: permission denied", "已到期、被其阻塞的动作", "网关的阶段与引擎的阶段不一致： 引擎 正常 · 网关 已弃用"},
	} {
		page := b.do(t, http.MethodGet, "/s/orders-v1?lang="+lang, "")
		if page.status != http.StatusOK {
			t.Fatalf("%s page: %d", lang, page.status)
		}
		for _, want := range wants {
			if !strings.Contains(string(page.body), want) {
				t.Errorf("%s page lacks %q", lang, want)
			}
		}
	}
}
