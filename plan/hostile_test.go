package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestHostilePlans checks that plans built to be slow (up to the size limit) are answered quickly
// with a bounded list of problems: the API parses plan bodies from the network.
func TestHostilePlans(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plans of several megabytes")
	}
	head := "service: {name: demo}\nmilestones: {announce: 2027-01-01, shutdown: 2027-03-01}\n"
	repeat := func(prefix, item string, n int) string {
		var b strings.Builder
		b.WriteString(head + prefix)
		for i := range n {
			fmt.Fprintf(&b, item, i, i)
		}
		return b.String()
	}
	cases := map[string]string{
		"many unknown milestone references": repeat("notices:\n", "  - {at: nope%d-1d, to: all, channels: [email], template: done} #%d\n", 30_000),
		"many milestones":                   "service: {name: demo}\nmilestones:\n" + repeat("", "  m%d: 2027-01-%02d\n", 20_000)[len(head):],
		"many features and bad references": repeat("features:\n", "  - {name: f%d, routes: [\"GET /{x}/r%d\"]}\n", 10_000) +
			"brownouts:\n" + strings.Repeat("  - {from: shutdown-7d, percent: 1, features: [nope, nope, nope, nope, nope]}\n", 10_000),
		"one feature, many routes": head + "features:\n  - name: f\n    routes:\n" + strings.Repeat("      - GET /same\n", 50_000),
		"a huge unknown key":       head + strings.Repeat("k", 5<<20) + ": 1\n",
		"a huge unknown name":      head + "notices: [{at: announce, to: all, channels: [email], template: " + strings.Repeat("t", 5<<20) + "}]\n",
		"deep nesting":             head + "features: " + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + "\n",
		"many merge keys":          head + "notices:\n  - &n {at: announce, to: all, channels: [email], template: done}\n" + strings.Repeat("  - {<<: [*n, *n, *n, *n, *n, *n, *n, *n], template: reminder}\n", 10_000),
		"many owners with areas": "service:\n  name: demo\n  owners:\n" + strings.Repeat("    - {name: x, role: accountable, for: [nope, nope, nope]}\n", 15_000) +
			"milestones: {announce: 2027-01-01, shutdown: 2027-03-01}\nrunbook:\n" + repeat("", "  - {name: s%d, wait: 1m} #%d\n", 5_000)[len(head):],
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			if len(src) > 10<<20 {
				t.Fatalf("test plan is %d bytes, over the 10 MB the API used to read", len(src))
			}
			start := time.Now()
			_, ps := Parse("hostile.yaml", []byte(src))
			elapsed := time.Since(start)
			if ps.Err() == nil {
				t.Error("hostile plan accepted")
			}
			if len(ps) > maxProblems+1 {
				t.Errorf("%d problems, more than %d", len(ps), maxProblems+1)
			}
			size := 0
			for _, p := range ps {
				size += len(p.Message)
			}
			if size > 12<<20 {
				t.Errorf("problems hold %d bytes of messages", size)
			}
			// Generous for a loaded CI machine; each case takes well under a second alone.
			if elapsed > 15*time.Second {
				t.Errorf("Parse took %v", elapsed)
			}
			t.Logf("%d bytes, %d problems, %v; first: %v", len(src), len(ps), elapsed, ps[0])
		})
	}
}
