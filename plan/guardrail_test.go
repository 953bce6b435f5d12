package plan

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestParseCondition(t *testing.T) {
	cases := []struct {
		in   string
		want Condition
		err  string
	}{
		{in: "feedback.negative_ratio > 0.4 over 24h", want: Condition{Signal: "feedback.negative_ratio", Op: ">", Value: 0.4, Over: 24 * time.Hour}},
		{in: "consumers.active{tier=critical} > 0", want: Condition{Signal: "consumers.active", Labels: map[string]string{"tier": "critical"}, Op: ">", Value: 0}},
		{in: ` consumers.active{ tier = "critical" , feature=reports }>=1 `, want: Condition{Signal: "consumers.active", Labels: map[string]string{"tier": "critical", "feature": "reports"}, Op: ">=", Value: 1}},
		{in: "gateway.error_rate<=0.05 over 1h", want: Condition{Signal: "gateway.error_rate", Op: "<=", Value: 0.05, Over: time.Hour}},
		{in: "feedback.count == 3", want: Condition{Signal: "feedback.count", Op: "==", Value: 3}},
		{in: "feedback.count != 3", want: Condition{Signal: "feedback.count", Op: "!=", Value: 3}},
		{in: "feedback.count < -1", want: Condition{Signal: "feedback.count", Op: "<", Value: -1}},
		{in: "", err: "empty condition"},
		{in: "feedback.negative > 1", err: `unknown signal "feedback.negative"`},
		{in: "Feedback.count > 1", err: "does not start with a signal name"},
		{in: "feedback.count 1", err: "a comparison (> >= < <= == !=) must follow feedback.count"},
		{in: "feedback.count >", err: "a number must follow >"},
		{in: "feedback.count > lots", err: `"lots" is not a number`},
		{in: "feedback.count > NaN", err: `"NaN" is not a number`},
		{in: "feedback.count > 1 during 2h", err: `unexpected "during" after the number`},
		{in: "feedback.count > 1 over", err: "over takes one duration"},
		{in: "feedback.count > 1 over 2 h", err: "over takes one duration"},
		{in: "feedback.count > 1 over 0", err: "longer than zero"},
		{in: "feedback.count > 1 over 2y", err: "window: cannot read"},
		{in: "consumers.active{tier=critical > 0", err: "not closed with }"},
		{in: "consumers.active{tier} > 0", err: `"tier" is not name=value`},
		{in: "consumers.active{tier=a,tier=b} > 0", err: "label tier is set twice"},
		{in: "consumers.active{1x=a} > 0", err: "label name"},
		{in: strings.Repeat("x", 300), err: "too long"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseCondition(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Signal != tc.want.Signal || got.Op != tc.want.Op || got.Value != tc.want.Value || got.Over != tc.want.Over || !maps.Equal(got.Labels, tc.want.Labels) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestConditionHolds(t *testing.T) {
	for _, tc := range []struct {
		cond string
		v    float64
		want bool
	}{
		{"feedback.count > 1", 2, true}, {"feedback.count > 1", 1, false},
		{"feedback.count >= 1", 1, true}, {"feedback.count < 1", 0, true},
		{"feedback.count <= 1", 2, false}, {"feedback.count == 1", 1, true}, {"feedback.count != 1", 1, false},
	} {
		c, err := ParseCondition(tc.cond)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Holds(tc.v); got != tc.want {
			t.Errorf("%s at %g = %v", tc.cond, tc.v, got)
		}
	}
	c := Condition{Signal: "consumers.active", Labels: map[string]string{"tier": "critical", "a": "b"}, Op: ">", Value: 0.5, Over: 36 * time.Hour}
	if got, want := c.String(), "consumers.active{a=b,tier=critical} > 0.5 over 1d12h"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
