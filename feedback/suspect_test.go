package feedback

import (
	"testing"
	"time"

	"github.com/sunsetops/sunset/plan"
)

func TestDrivingMessagesAndProvenance(t *testing.T) {
	now := time.Date(2027, 2, 2, 12, 0, 0, 0, time.UTC)
	msg := func(ago time.Duration, mood, category, sender, source string) Feedback {
		return Feedback{At: now.Add(-ago), Mood: mood, Category: category, Sender: sender, Source: source, Consumer: "c-" + sender}
	}
	items := []Feedback{
		msg(time.Hour, Negative, NeedMoreTime, "a", "form"),
		msg(time.Hour, Negative, Other, "b", "api"),
		msg(time.Hour, Positive, NeedMoreTime, "c", "survey"),
		msg(time.Hour, Negative, Other, "", "import"),
		msg(48*time.Hour, Negative, Other, "d", "form"), // outside 24h
	}
	for _, tc := range []struct {
		cond string
		want int
	}{
		{"feedback.negative_ratio > 0.4 over 24h", 3},
		{"feedback.count > 1 over 24h", 4},
		{"feedback.extension_requests > 0 over 24h", 2},
		{"feedback.negative_ratio{category=other} > 0.4 over 24h", 2},
		{"feedback.count > 1", 5},
		{"consumers.active > 0", 0},
	} {
		c, err := plan.ParseCondition(tc.cond)
		if err != nil {
			t.Fatal(err)
		}
		if got := Driving(c, items, now); len(got) != tc.want {
			t.Errorf("%s: %d driving messages, want %d", tc.cond, len(got), tc.want)
		}
	}
	seenA := func(f Feedback) bool { return f.Sender == "a" }
	if p := Judge(items[:4], seenA); p.Driving != 4 || p.New != 2 {
		t.Errorf("judge = %+v, want 2 new (b, c) of 4: a was seen, an import is never new", p)
	}
	for _, tc := range []struct {
		p    Provenance
		want bool
	}{
		{Provenance{Driving: 5, New: 5}, true},
		{Provenance{Driving: 4, New: 4}, false},    // too few for a burst
		{Provenance{Driving: 10, New: 8}, true},    // 80%
		{Provenance{Driving: 10, New: 7}, false},   // 70%
		{Provenance{Driving: 100, New: 79}, false}, // just under the share
		{Provenance{}, false},
	} {
		if got := tc.p.Suspect(); got != tc.want {
			t.Errorf("%+v suspect = %v, want %v", tc.p, got, tc.want)
		}
	}
}
