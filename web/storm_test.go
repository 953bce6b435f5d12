package web

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/store"
)

const guardedPlan = `
service:
  name: orders-api-v1
  title: {en: Orders API v1, zh: 订单 API v1}
  timezone: Asia/Shanghai
milestones:
  announce: 2027-01-04T10:00
  deprecate: 2027-01-11T10:00
  read_only: 2027-02-15T10:00
  shutdown: 2027-03-01T10:00
guardrails:
  - {name: unhappy-users, when: "feedback.negative_ratio > 0.4 over 24h", min_sample: 10, then: pause}
`

// waitSettled dispatches until the sunset's actions settle, then returns its state.
func (b *testBundle) waitSettled(t *testing.T, name string) *engine.Sunset {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := b.eng.Dispatch(t.Context()); err != nil {
			t.Fatal(err)
		}
		acts, _ := b.eng.Actions(t.Context(), name)
		busy := false
		for _, a := range acts {
			busy = busy || a.Status == engine.ActionEnqueued
		}
		if !busy {
			s, err := b.eng.Get(t.Context(), name)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("actions of %s still queued after 30s", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFeedbackStormPausesTheSunset drives a sunset through a storm of negative feedback from the
// public form: the guardrail trips before the deprecate milestone, which does not happen until an
// operator shifts the dates and resumes.
func TestFeedbackStormPausesTheSunset(t *testing.T) {
	b := setup(t)
	b.eng.RegisterSignals("feedback", b.srv.Feedback.(*store.Feedback).Signals())
	b.apply(t, guardedPlan)
	b.start(t)
	sh := time.FixedZone("CST", 8*3600)

	b.clock.Set(time.Date(2027, 1, 4, 11, 0, 0, 0, sh))
	if s := b.waitSettled(t, "orders-api-v1"); s.State != engine.StateAnnounced {
		t.Fatalf("after announce: %s", s.State)
	}
	// The day before deprecation, users write in: 12 negative, 3 positive, in bursts that stay
	// under the form's rate limit.
	b.clock.Set(time.Date(2027, 1, 10, 12, 0, 0, 0, sh))
	for i := range 15 {
		mood := "negative"
		if i%5 == 4 {
			mood = "positive"
		}
		text := []string{"我们需要更多时间迁移，希望延期两周", "The v2 API lacks sales reports, we need more time"}[i%2]
		r := postForm(t, b, "/feedback/orders-api-v1", url.Values{"mood": {mood}, "category": {"need_more_time"}, "text": {text}})
		if r.status != 200 {
			t.Fatalf("post %d: %d %s", i, r.status, r.body)
		}
		if i%9 == 8 {
			b.clock.Advance(time.Minute)
		}
	}
	// Deprecation is due: the guardrail is checked first and trips.
	b.clock.Set(time.Date(2027, 1, 11, 10, 30, 0, 0, sh))
	s := b.waitSettled(t, "orders-api-v1")
	if s.State != engine.StatePaused || s.PausedFrom != engine.StateAnnounced {
		t.Fatalf("after the storm: %s (from %s), want paused from announced", s.State, s.PausedFrom)
	}
	evs, _ := b.eng.Events(t.Context(), "orders-api-v1")
	var tripped string
	for _, ev := range evs {
		if ev.Type == "guardrail.tripped" {
			tripped = string(ev.Data)
		}
		if ev.Type == "action.milestone" && strings.Contains(string(ev.Data), `"name":"deprecate"`) {
			t.Fatal("deprecate happened although the guardrail tripped")
		}
	}
	if !strings.Contains(tripped, `"value":0.8`) || !strings.Contains(tripped, "unhappy-users") {
		t.Fatalf("guardrail.tripped = %s, want the 0.8 negative ratio that tripped it", tripped)
	}
	// Days pass; nothing happens while paused.
	b.clock.Set(time.Date(2027, 1, 20, 0, 0, 0, 0, sh))
	if s := b.waitSettled(t, "orders-api-v1"); s.State != engine.StatePaused {
		t.Fatalf("while paused: %s", s.State)
	}
	// The operator gives users two more weeks and resumes.
	if r := b.do(t, "POST", "/api/v1/sunsets/orders-api-v1/replan", `{"shift":"14d","reason":"users asked for two more weeks"}`); r.status != 200 {
		t.Fatalf("replan: %d %s", r.status, r.body)
	}
	if r := b.do(t, "POST", "/api/v1/sunsets/orders-api-v1/resume", `{"reason":"dates moved by two weeks"}`); r.status != 200 {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
	if s := b.waitSettled(t, "orders-api-v1"); s.State != engine.StateAnnounced {
		t.Fatalf("after resume, before the new date: %s", s.State)
	}
	// On the new date the window holds no feedback: no data, no trip; deprecation happens.
	b.clock.Set(time.Date(2027, 1, 25, 10, 30, 0, 0, sh))
	if s := b.waitSettled(t, "orders-api-v1"); s.State != engine.StateDeprecating {
		t.Fatalf("on the shifted date: %s", s.State)
	}
	v, err := b.eng.VerifyEvents(t.Context(), "orders-api-v1")
	if err != nil || !v.OK {
		t.Fatalf("chain: %+v %v", v, err)
	}
}

// TestGuardrailsBeforeTheAnnouncementAreNotArmed: a storm of negative feedback before the
// announcement (a test message, an early leak) shows on the sunset page as "would trip", in
// both languages, and pauses nothing; one negative message after it reads not enough data.
func TestGuardrailsBeforeTheAnnouncementAreNotArmed(t *testing.T) {
	b := setup(t)
	b.eng.RegisterSignals("feedback", b.srv.Feedback.(*store.Feedback).Signals())
	b.apply(t, guardedPlan)
	b.start(t)
	sh := time.FixedZone("CST", 8*3600)
	b.clock.Set(time.Date(2027, 1, 3, 12, 0, 0, 0, sh))
	var items []feedback.Feedback
	for i := range 12 {
		items = append(items, feedback.Feedback{Sunset: "orders-api-v1", At: b.clock.Now().Add(-time.Hour), Mood: feedback.Negative,
			Category: feedback.Other, Text: "test message " + strconv.Itoa(i), Source: "api"})
	}
	if err := b.srv.Feedback.(*store.Feedback).Add(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	if s := b.waitSettled(t, "orders-api-v1"); s.State != engine.StateScheduled {
		t.Fatalf("state %s, want scheduled", s.State)
	}
	for lang, want := range map[string]string{"en": "would trip — not armed until announce", "zh": "将会触发——宣布之后才生效"} {
		page := string(b.do(t, "GET", "/s/orders-api-v1?lang="+lang, "").body)
		if !strings.Contains(page, want) || strings.Contains(page, "⚠") {
			t.Errorf("%s: the guardrails panel lacks %q or shows a trip", lang, want)
		}
	}
	// After the announcement the storm is a day old: the one message of the last 24h is noise.
	b.clock.Set(time.Date(2027, 1, 5, 12, 0, 0, 0, sh))
	b.waitSettled(t, "orders-api-v1")
	one := items[0]
	one.At = b.clock.Now().Add(-time.Hour)
	if err := b.srv.Feedback.(*store.Feedback).Add(t.Context(), []feedback.Feedback{one}); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.eng.Get(t.Context(), "orders-api-v1"); s.State != engine.StateAnnounced {
		t.Fatalf("state %s, want announced", s.State)
	}
	for lang, want := range map[string]string{"en": "not enough data (1 of 10)", "zh": "数据不足（1 / 10）"} {
		page := string(b.do(t, "GET", "/s/orders-api-v1?lang="+lang, "").body)
		if !strings.Contains(page, want) {
			t.Errorf("%s: the guardrails panel lacks %q", lang, want)
		}
	}
}
