package plan

// Validation of the guardrails and their conditions' labels.

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

func (v *validator) guardrails() {
	for i, g := range v.p.Guardrails {
		path := fmt.Sprintf("guardrails[%d]", i)
		var c Condition
		parsed := false
		if v.required(path+".when", g.When != "", `write a condition, e.g. when: "feedback.negative_ratio > 0.4 over 24h"`) {
			var err error
			if c, err = ParseCondition(g.When); err != nil {
				v.errorf(path+".when", "%v", err)
			} else {
				parsed = true
				if !v.stored {
					v.conditionLabels(path+".when", c)
				}
			}
		}
		from, fromOK := v.optInstant(path+".from", g.From)
		before, beforeOK := v.optInstant(path+".before", g.Before)
		if fromOK && beforeOK && !from.Before(before) {
			v.errorf(path+".from", "from %s is not before before %s, so the guardrail is never checked; from arms it, before disarms it", v.format(from), v.format(before))
		}
		v.oneOf(path+".then", g.Then, guardActions, "reaction")
		if g.MinSample != nil {
			switch {
			case *g.MinSample < 1:
				v.errorf(path+".min_sample", "min_sample must be at least 1, got %d", *g.MinSample)
			case parsed && SampleSignals[c.Signal] == "":
				v.errorf(path+".min_sample", "min_sample applies to ratio signals (%s); %s is a count", listNames(slices.Sorted(maps.Keys(SampleSignals))), c.Signal)
			}
		}
	}
}

// conditionLabels checks a condition's labels: each one narrows the signal (SignalLabels), and
// its value names a tier, feature or category the plan knows. A tier label needs the contacts,
// which carry each consumer's tier.
func (v *validator) conditionLabels(path string, c Condition) {
	allowed := SignalLabels[c.Signal]
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		val := c.Labels[k]
		if !slices.Contains(allowed, k) {
			if allLabels[k] {
				v.errorf(path, "label %s does not narrow %s, which takes: %s", k, c.Signal, listNames(allowed))
			} else {
				v.errorf(path, "unknown label %q%s; %s takes: %s", k, v.hint(k, allowed), c.Signal, listNames(allowed))
			}
			continue
		}
		switch k {
		case "tier":
			if !v.tierSet[val] {
				v.errorf(path, "unknown tier %q%s; use one of: %s", val, v.hint(val, v.tiers()), listNames(v.tiers()))
			} else if v.p.Consumers.Contacts == "" {
				v.errorf(path, "{tier=%s} needs the consumers' tiers, which come from their contacts: set consumers.contacts (a CSV with a tier column)", val)
			}
		case "feature":
			if !v.known[val] {
				v.errorf(path, "unknown feature %q%s; name a feature of features", val, v.hint(val, v.featureNames()))
			}
		case "category":
			if !slices.Contains(FeedbackCategories, val) {
				v.errorf(path, "unknown category %q%s; use one of: %s", val, v.hint(val, FeedbackCategories), listNames(FeedbackCategories))
			}
		}
	}
}

// allLabels holds every label some signal takes.
var allLabels = func() map[string]bool {
	m := map[string]bool{}
	for _, ls := range SignalLabels {
		for _, l := range ls {
			m[l] = true
		}
	}
	return m
}()

// CheckContactTiers reports every guardrail label {tier=NAME} and notice audience tier=NAME
// that names a tier none of the plan's contacts has: such a guardrail would read zero forever
// and such a notice reach nobody. tiers counts the contacts per tier; a caller that read the
// contacts (sunset plan validate reads the file next to the plan) passes what it found.
func (p *Plan) CheckContactTiers(tiers map[string]int) Problems {
	v := &validator{p: p}
	have := slices.Sorted(maps.Keys(tiers))
	list := "none has a tier"
	if len(have) > 0 {
		list = "they have: " + listNames(have)
	}
	for i, g := range p.Guardrails {
		c, err := ParseCondition(g.When)
		if err != nil {
			continue
		}
		if t, ok := c.Labels["tier"]; ok && tiers[t] == 0 {
			v.errorf(fmt.Sprintf("guardrails[%d].when", i), "no contact of %s has tier %q, so the guardrail would never see one; %s", p.Consumers.Contacts, t, list)
		}
	}
	for i, n := range p.Notices {
		if t, ok := strings.CutPrefix(n.To, "tier="); ok && tiers[t] == 0 {
			v.errorf(fmt.Sprintf("notices[%d].to", i), "no contact of %s has tier %q, so the notice would reach nobody; %s", p.Consumers.Contacts, t, list)
		}
	}
	sortProblems(v.probs)
	return v.probs
}
