package plan

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KnownSignals lists the live signals a guardrail condition may name, each read by a source the
// server wires: the feedback signals from the feedback received, the consumers signals from what
// the gateways count and the contacts' tiers, the gateway signals from the gateways' answers and
// the brownout windows of the plan.
var KnownSignals = []string{
	"feedback.negative_ratio",
	"feedback.count",
	"feedback.extension_requests",
	"consumers.active",
	"consumers.laggards",
	"consumers.unaware_ratio",
	"gateway.requests",
	"gateway.error_rate",
	"gateway.brownout_complaints",
}

// SignalLabels lists, per signal, the labels that narrow it. A label a signal does not list is
// refused by validation: it would otherwise be ignored or read no data forever.
var SignalLabels = map[string][]string{
	"feedback.negative_ratio":     {"tier", "category", "consumer"},
	"feedback.count":              {"tier", "category", "consumer"},
	"feedback.extension_requests": {"tier", "consumer"},
	"consumers.active":            {"tier", "feature", "consumer"},
	"consumers.laggards":          {"tier", "feature", "consumer"},
	"consumers.unaware_ratio":     {"tier", "feature", "consumer"},
	"gateway.requests":            {"tier", "feature", "consumer"},
	"gateway.error_rate":          {"tier", "feature", "consumer"},
	"gateway.brownout_complaints": {"tier", "category", "consumer"},
}

// SampleSignals maps each ratio signal to the count signal that measures its sample (the
// messages, consumers or answers the ratio is taken over). A ratio over fewer than the
// guardrail's min_sample (DefaultMinSample) does not trip: one unhappy message out of one is
// not a mood.
var SampleSignals = map[string]string{
	"feedback.negative_ratio": "feedback.count",
	"consumers.unaware_ratio": "consumers.active",
	"gateway.error_rate":      "gateway.requests",
}

// DefaultMinSample is the smallest sample a ratio signal is judged on when the guardrail sets no
// min_sample.
const DefaultMinSample = 20

// FeedbackCategories lists the categories a feedback message may have, as {category=...} labels
// name them.
var FeedbackCategories = []string{"need_more_time", "alternative_lacks_feature", "migration_problem", "export_problem", "other"}

// conditionOps lists the comparison operators, longest first so that ">=" is not read as ">".
var conditionOps = []string{">=", "<=", "==", "!=", ">", "<"}

// maxConditionLen bounds the text ParseCondition reads; real conditions are a few dozen bytes.
const maxConditionLen = 256

// Condition is a parsed guardrail condition: Signal, optionally filtered by Labels, compared with
// Value by Op, measured over the window Over (zero: the current value).
type Condition struct {
	// Signal is one of KnownSignals.
	Signal string
	// Labels narrow the signal, e.g. {tier: critical}; nil when none are written.
	Labels map[string]string
	// Op is one of > >= < <= == !=.
	Op string
	// Value is the threshold.
	Value float64
	// Over is the window the signal is measured over; zero means its current value.
	Over time.Duration
}

// Holds reports whether the condition holds for the measured value v.
func (c Condition) Holds(v float64) bool {
	switch c.Op {
	case ">":
		return v > c.Value
	case ">=":
		return v >= c.Value
	case "<":
		return v < c.Value
	case "<=":
		return v <= c.Value
	case "==":
		return v == c.Value
	case "!=":
		return v != c.Value
	}
	return false
}

// String writes the condition in the grammar ParseCondition reads, labels sorted by name.
func (c Condition) String() string {
	var b strings.Builder
	b.WriteString(c.Signal)
	if len(c.Labels) > 0 {
		keys := make([]string, 0, len(c.Labels))
		for k := range c.Labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(k + "=" + c.Labels[k])
		}
		b.WriteByte('}')
	}
	b.WriteString(" " + c.Op + " " + strconv.FormatFloat(c.Value, 'g', -1, 64))
	if c.Over > 0 {
		b.WriteString(" over " + FormatDuration(c.Over))
	}
	return b.String()
}

const conditionExample = `write it as SIGNAL OP NUMBER [over DURATION], e.g. "feedback.negative_ratio > 0.4 over 24h" or "consumers.active{tier=critical} > 0"`

// ParseCondition reads a guardrail condition: SIGNAL[{k=v,...}] OP NUMBER [over DURATION], with
// OP one of > >= < <= == != and SIGNAL one of KnownSignals. Label values may be quoted. An error
// says what is wrong and how to write it; it quotes at most a short prefix of over-long input.
func ParseCondition(s string) (Condition, error) {
	if len(s) > maxConditionLen {
		return Condition{}, fmt.Errorf("condition %.24q… is too long (at most %d bytes)", s, maxConditionLen)
	}
	fail := func(format string, args ...any) (Condition, error) {
		return Condition{}, fmt.Errorf("%s; %s", fmt.Sprintf(format, args...), conditionExample)
	}
	rest := strings.TrimSpace(s)
	if rest == "" {
		return fail("empty condition")
	}
	var c Condition
	i := 0
	for i < len(rest) && (isLower(rest[i]) || isDigit(rest[i]) || rest[i] == '_' || rest[i] == '.') {
		i++
	}
	c.Signal, rest = rest[:i], rest[i:]
	if c.Signal == "" {
		return fail("condition %q does not start with a signal name", s)
	}
	if !slices.Contains(KnownSignals, c.Signal) {
		return Condition{}, fmt.Errorf("unknown signal %q%s; known signals: %s", c.Signal, suggest(c.Signal, KnownSignals), strings.Join(KnownSignals, ", "))
	}
	if strings.HasPrefix(rest, "{") {
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return fail("labels of %s are not closed with }", c.Signal)
		}
		labels, err := parseLabels(rest[1:end])
		if err != nil {
			return fail("labels of %s: %v", c.Signal, err)
		}
		c.Labels, rest = labels, rest[end+1:]
	}
	rest = strings.TrimSpace(rest)
	for _, op := range conditionOps {
		if strings.HasPrefix(rest, op) {
			c.Op, rest = op, strings.TrimSpace(rest[len(op):])
			break
		}
	}
	if c.Op == "" {
		return fail("a comparison (> >= < <= == !=) must follow %s", c.Signal)
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return fail("a number must follow %s", c.Op)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return fail("%q is not a number", fields[0])
	}
	c.Value = v
	switch {
	case len(fields) == 1:
	case fields[1] != "over":
		return fail("unexpected %q after the number", fields[1])
	case len(fields) != 3:
		return fail("over takes one duration such as 24h or 7d")
	default:
		d, err := ParseDuration(fields[2])
		if err != nil {
			return fail("window: %v", err)
		}
		if d <= 0 {
			return fail("the window after over must be longer than zero")
		}
		c.Over = d
	}
	return c, nil
}

// parseLabels reads k=v pairs separated by commas; values may be double-quoted.
func parseLabels(s string) (map[string]string, error) {
	labels := map[string]string{}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not name=value", strings.TrimSpace(part))
		}
		if !validName(k) {
			return nil, fmt.Errorf("label name %q must be letters, digits and underscores", k)
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if strings.ContainsAny(v, `"{}=`) {
			return nil, errors.New("label values cannot hold quotes, braces or =")
		}
		if _, dup := labels[k]; dup {
			return nil, fmt.Errorf("label %s is set twice", k)
		}
		labels[k] = v
	}
	return labels, nil
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
