package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store"
)

// guardedBundle serves guardedPlan, announced, with the feedback signals registered as serve
// registers them.
func guardedBundle(t *testing.T) *testBundle {
	t.Helper()
	b := setup(t)
	b.eng.RegisterSignals("feedback", b.srv.Feedback.(*store.Feedback).TieredSignals(nil))
	b.apply(t, guardedPlan)
	b.start(t)
	b.clock.Set(time.Date(2027, 1, 4, 11, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	if s := b.waitSettled(t, "orders-api-v1"); s.State != engine.StateAnnounced {
		t.Fatalf("after announce: %s", s.State)
	}
	return b
}

// negativeFrom posts a negative message through the form from loopback address ip.
func negativeFrom(t *testing.T, b *testBundle, ip, text string) {
	t.Helper()
	r := formFrom(t, b, ip, "/feedback/orders-api-v1", url.Values{"mood": {"negative"}, "category": {"need_more_time"}, "text": {text}})
	if r.status != 200 {
		t.Fatalf("post from %s: %d %s", ip, r.status, r.body)
	}
}

// tripEvent watches the guardrails once and returns the data of the guardrail.tripped event.
func tripEvent(t *testing.T, b *testBundle) map[string]any {
	t.Helper()
	paused, err := b.eng.WatchGuardrails(t.Context())
	if err != nil || len(paused) != 1 {
		t.Fatalf("watch: paused %v, %v; want orders-api-v1 paused", paused, err)
	}
	evs, err := b.eng.Events(t.Context(), "orders-api-v1")
	if err != nil {
		t.Fatal(err)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == "guardrail.tripped" {
			var data map[string]any
			if err := json.Unmarshal(evs[i].Data, &data); err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
	t.Fatal("no guardrail.tripped event")
	return nil
}

func TestBurstFromNewSendersMarksTheTripSuspect(t *testing.T) {
	b := guardedBundle(t)
	// A hostile page's visitors: twelve addresses never seen before, within minutes.
	b.clock.Set(time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC))
	for i := range 12 {
		negativeFrom(t, b, fmt.Sprintf("127.0.9.%d", i+1), "shut it down later")
	}
	data := tripEvent(t, b)
	if data["suspect"] != true {
		t.Fatalf("guardrail.tripped = %v, want suspect", data)
	}
	g := data["guardrails"].([]any)[0].(map[string]any)
	sp, _ := g["suspect"].(map[string]any)
	if sp == nil || sp["new"] != 12.0 || sp["driving"] != 12.0 || sp["since"] != "2027-01-09T12:00:00Z" {
		t.Fatalf("the tripped guardrail's mark = %v, want 12 new of 12 since the window's start", g)
	}
	// The stored messages keep who sent them only as a hash.
	items, _ := b.srv.Feedback.List(t.Context(), "orders-api-v1", time.Time{})
	for _, it := range items {
		if len(it.Sender) != 32 || strings.Contains(it.Sender, "127.0.9") {
			t.Fatalf("sender kept as %q", it.Sender)
		}
	}
	for lang, want := range map[string]string{"en": "burst of messages from addresses we had not seen before", "zh": "此前从未出现过的地址"} {
		r := b.do(t, "GET", "/p/orders-api-v1?lang="+lang, "")
		if r.status != 200 || !strings.Contains(string(r.body), `id="suspect"`) || !strings.Contains(string(r.body), want) {
			t.Errorf("public page (%s): %d, lacks the suspect note %q:\n%s", lang, r.status, want, r.body)
		}
	}
	for lang, want := range map[string][]string{
		"en": {"Paused by a suspect trip: 12 of the 12 feedback messages", "suspect: 12 of the 12 messages behind it"},
		"zh": {"因可疑触发而暂停：触发护栏的留言中有 12 / 12 条", "可疑：12 / 12 条相关留言"},
	} {
		r := b.do(t, "GET", "/s/orders-api-v1?lang="+lang, "")
		for _, w := range want {
			if r.status != 200 || !strings.Contains(string(r.body), w) {
				t.Errorf("operator page (%s): %d, lacks %q", lang, r.status, w)
			}
		}
	}
	// Once the operator resumes, the public page no longer speaks of it.
	if r := b.do(t, "POST", "/api/v1/sunsets/orders-api-v1/resume", `{"reason":"the burst came from one forum thread; checked"}`); r.status != 200 {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
	if r := b.do(t, "GET", "/p/orders-api-v1", ""); strings.Contains(string(r.body), `id="suspect"`) {
		t.Errorf("the public page still shows the suspect note after the resume")
	}
}

func TestTripFromKnownSendersIsNotSuspect(t *testing.T) {
	b := guardedBundle(t)
	// Ten users who wrote in two days ago (outside the 24-hour window) write again, unhappy.
	b.clock.Set(time.Date(2027, 1, 8, 12, 0, 0, 0, time.UTC))
	for i := range 10 {
		r := formFrom(t, b, fmt.Sprintf("127.0.10.%d", i+1), "/feedback/orders-api-v1", url.Values{"mood": {"neutral"}, "text": {"noted"}})
		if r.status != 200 {
			t.Fatalf("early post %d: %d", i, r.status)
		}
	}
	b.clock.Set(time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC))
	for i := range 10 {
		negativeFrom(t, b, fmt.Sprintf("127.0.10.%d", i+1), "we are not ready")
	}
	data := tripEvent(t, b)
	if _, ok := data["suspect"]; ok {
		t.Fatalf("guardrail.tripped = %v, want no suspect mark: every sender was seen before", data)
	}
	if g := data["guardrails"].([]any)[0].(map[string]any); g["suspect"] != nil {
		t.Fatalf("the guardrail is marked: %v", g)
	}
	if r := b.do(t, "GET", "/p/orders-api-v1", ""); r.status != 200 || strings.Contains(string(r.body), `id="suspect"`) {
		t.Errorf("public page: %d, shows a suspect note for a genuine trip", r.status)
	}
	if r := b.do(t, "GET", "/s/orders-api-v1", ""); strings.Contains(string(r.body), "suspect trip") {
		t.Errorf("operator page shows a suspect note for a genuine trip")
	}
}
