package web

import (
	"net/http"
	"testing"

	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
)

func TestEventListAndVerify(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlan)
	b.do(t, http.MethodPost, "/api/v1/sunsets/billing-v1/signoffs", `{"stakeholder":"legal"}`, client.ActorHeader, "legal-team")

	r := b.do(t, http.MethodGet, "/api/v1/sunsets/billing-v1/events", "")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var events []engine.Event
	r.decode(t, &events)
	if len(events) < 2 {
		t.Fatalf("%d events: %s", len(events), r.body)
	}
	for i, ev := range events {
		if ev.Seq != int64(i+1) || ev.Hash == "" || ev.Hash != ev.ComputeHash() {
			t.Fatalf("event %d does not verify from its JSON: %+v", i, ev)
		}
		if i > 0 && ev.PrevHash != events[i-1].Hash {
			t.Fatalf("event %d does not link to %d", i, i-1)
		}
	}
	if last := events[len(events)-1]; last.Actor != "legal-team" {
		t.Fatalf("last event by %q", last.Actor)
	}

	r = b.do(t, http.MethodGet, "/api/v1/sunsets/billing-v1/events/verify", "")
	var v engine.Verification
	r.decode(t, &v)
	if r.status != http.StatusOK || !v.OK || v.Events != len(events) || v.Head != events[len(events)-1].Hash || v.Sunset != "billing-v1" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}
