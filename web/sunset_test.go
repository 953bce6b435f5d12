package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/web/httpx"
)

func TestSunsetListAndGet(t *testing.T) {
	b := setup(t)

	t.Run("an empty store lists an empty array", func(t *testing.T) {
		r := b.do(t, http.MethodGet, "/api/v1/sunsets", "")
		if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != "[]" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})

	b.apply(t, testPlan)
	b.apply(t, testPlanNoSignoff)

	t.Run("the list holds every sunset with name and state", func(t *testing.T) {
		r := b.do(t, http.MethodGet, "/api/v1/sunsets", "")
		var list []map[string]any
		r.decode(t, &list)
		if len(list) != 2 {
			t.Fatalf("%d sunsets: %s", len(list), r.body)
		}
		got := map[string]any{}
		for _, s := range list {
			got[s["name"].(string)] = s["state"]
		}
		if got["billing-v1"] != "draft" || got["reports-v2"] != "scheduled" {
			t.Fatalf("states %v", got)
		}
	})
	t.Run("one sunset has its status", func(t *testing.T) {
		r := b.do(t, http.MethodGet, "/api/v1/sunsets/billing-v1", "")
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var st engine.Status
		r.decode(t, &st)
		if st.Name != "billing-v1" || st.Title.ZH != "账单 API v1" || st.TimeZone != "Europe/Berlin" ||
			len(st.Awaiting) != 1 || st.Next == nil {
			t.Fatalf("%s", r.body)
		}
	})
	t.Run("an unknown sunset is a 404 problem", func(t *testing.T) {
		for _, path := range []string{"", "/timeline", "/events", "/events/verify"} {
			r := b.do(t, http.MethodGet, "/api/v1/sunsets/nope"+path, "")
			if r.status != http.StatusNotFound {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			if p := r.problem(t); p.Code != sunset.ENOTFOUND || !strings.Contains(p.Detail, "nope") {
				t.Fatalf("%s: %+v", path, p)
			}
		}
	})
}

func TestTimelineIsInThePlansZone(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlanNoSignoff)
	b.start(t)
	b.clock.Set(time.Date(2027, 1, 4, 3, 0, 0, 0, time.UTC)) // 11:00 in Shanghai, after announce
	b.waitDone(t, "reports-v2", "milestone/announce")

	r := b.do(t, http.MethodGet, "/api/v1/sunsets/reports-v2/timeline", "")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var tl struct {
		Service  string           `json:"service"`
		TimeZone string           `json:"timezone"`
		Actions  []map[string]any `json:"actions"`
	}
	r.decode(t, &tl)
	if tl.Service != "reports-v2" || tl.TimeZone != "Asia/Shanghai" || len(tl.Actions) == 0 {
		t.Fatalf("%s", r.body)
	}
	first := tl.Actions[0]
	if first["key"] != "milestone/announce" || first["at"] != "2027-01-04T10:00:00+08:00" ||
		first["kind"] != "milestone" || first["name"] != "announce" || first["status"] != "done" {
		t.Fatalf("first action %v", first)
	}
	if done, _ := first["done_at"].(string); !strings.HasSuffix(done, "+08:00") {
		t.Fatalf("done_at %q is not in the plan's zone", first["done_at"])
	}
	for _, a := range tl.Actions[1:] {
		if a["status"] == "pending" && a["done_at"] != nil {
			t.Fatalf("a pending action has done_at: %v", a)
		}
	}
}

func TestSunsetTransitions(t *testing.T) {
	type step struct {
		name       string
		path       string
		body       string
		wantStatus int
		wantState  engine.State
		wantCode   string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"pause then resume returns to the state paused from", []step{
			{"pause without a body is invalid: it needs a reason", "pause", "", 400, "", sunset.EINVALID},
			{"pause with a blank reason is invalid", "pause", `{"reason":"  "}`, 400, "", sunset.EINVALID},
			{"pause with a reason", "pause", `{"reason":"holiday freeze"}`, 200, engine.StatePaused, ""},
			{"pause again conflicts", "pause", `{"reason":"again"}`, 409, "", sunset.ECONFLICT},
			{"resume without a reason is invalid", "resume", `{}`, 400, "", sunset.EINVALID},
			{"resume with a reason", "resume", `{"reason":"freeze over"}`, 200, engine.StateDraft, ""},
			{"resume when not paused conflicts", "resume", `{"reason":"x"}`, 409, "", sunset.ECONFLICT},
		}},
		{"cancel is final", []step{
			{"cancel with a reason", "cancel", `{"reason":"customer renewed"}`, 200, engine.StateCancelled, ""},
			{"cancel again conflicts", "cancel", "", 409, "", sunset.ECONFLICT},
			{"pause after cancel conflicts", "pause", `{"reason":"x"}`, 409, "", sunset.ECONFLICT},
		}},
		{"signoff by every stakeholder schedules the sunset", []step{
			{"an unknown stakeholder is invalid", "signoffs", `{"stakeholder":"sales"}`, 400, "", sunset.EINVALID},
			{"a missing stakeholder is invalid", "signoffs", `{}`, 400, "", sunset.EINVALID},
			{"a missing body is invalid", "signoffs", ``, 400, "", sunset.EINVALID},
			{"legal signs off", "signoffs", `{"stakeholder":"legal"}`, 200, engine.StateScheduled, ""},
			{"a second signoff conflicts", "signoffs", `{"stakeholder":"legal"}`, 409, "", sunset.ECONFLICT},
		}},
		{"bodies are decoded strictly", []step{
			{"an unknown field is refused", "pause", `{"reason":"x","force":true}`, 400, "", sunset.EINVALID},
			{"a wrong type is refused", "pause", `{"reason":42}`, 400, "", sunset.EINVALID},
			{"trailing data is refused", "pause", `{"reason":"x"} {"reason":"y"}`, 400, "", sunset.EINVALID},
			{"an array is refused", "pause", `["x"]`, 400, "", sunset.EINVALID},
			{"broken JSON is refused", "pause", `{"reason":`, 400, "", sunset.EINVALID},
			{"a control character in the reason is refused", "pause", `{"reason":"a\u0000b"}`, 400, "", sunset.EINVALID},
			{"a body over 64 KiB is refused", "pause", `{"reason":"` + strings.Repeat("x", httpx.MaxJSONBody) + `"}`, 413, "", problem.CodeTooLarge},
			{"a reason over 2000 characters is refused", "pause", `{"reason":"` + strings.Repeat("x", httpx.MaxReasonLen+1) + `"}`, 400, "", sunset.EINVALID},
			{"nothing was paused by the refused bodies", "resume", `{"reason":"x"}`, 409, "", sunset.ECONFLICT},
		}},
		{"an unknown sunset is not found", []step{
			{"pause", "../nope/pause", `{"reason":"x"}`, 404, "", sunset.ENOTFOUND},
			{"resume", "../nope/resume", `{"reason":"x"}`, 404, "", sunset.ENOTFOUND},
			{"cancel", "../nope/cancel", "", 404, "", sunset.ENOTFOUND},
			{"signoff", "../nope/signoffs", `{"stakeholder":"legal"}`, 404, "", sunset.ENOTFOUND},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			b.apply(t, testPlan)
			for _, s := range tt.steps {
				path := "/api/v1/sunsets/billing-v1/" + s.path
				if strings.HasPrefix(s.path, "../") {
					path = "/api/v1/sunsets/" + strings.TrimPrefix(s.path, "../")
				}
				r := b.do(t, http.MethodPost, path, s.body, "Content-Type", "application/json")
				if r.status != s.wantStatus {
					t.Fatalf("%s: status %d, want %d: %.300s", s.name, r.status, s.wantStatus, r.body)
				}
				if s.wantCode != "" {
					if p := r.problem(t); p.Code != s.wantCode || p.Detail == "" {
						t.Fatalf("%s: problem %+v", s.name, p)
					}
					continue
				}
				var sun engine.Sunset
				r.decode(t, &sun)
				if sun.State != s.wantState {
					t.Fatalf("%s: state %s, want %s", s.name, sun.State, s.wantState)
				}
			}
		})
	}
}
