package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const bombHead = "service: {name: demo}\nmilestones: {announce: 2027-01-01, shutdown: 2027-03-01}\n"

// keyBomb is the shape of the plan in the report that led to the limits: n short keys, 9 bytes
// each. The reported one had 1.1 million (9.9 MB, under the 10 MB the API then read).
func keyBomb(n int) []byte {
	var b strings.Builder
	b.WriteString(bombHead)
	for i := range n {
		fmt.Fprintf(&b, "x%4s: 1\n", strconv.FormatInt(int64(i), 36))
	}
	return []byte(b.String())
}

// smallKeyBomb is the key bomb at the largest size Parse reads, 1 MB: under MaxPlanSize, over
// MaxNodes.
func smallKeyBomb() []byte { return keyBomb((MaxPlanSize - len(bombHead)) / 9) }

// bombs are plans built to exhaust the parser, each with the problem it must get: where the limit
// is crossed, and what it says.
func bombs() []struct {
	name, src, wantAt, wantMsg string
} {
	nest := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(strings.Repeat("  ", i) + "k:\n")
		}
		return b.String()
	}
	return []struct{ name, src, wantAt, wantMsg string }{
		{"the reported bomb: 1.1 million keys in 9.9 MB", string(keyBomb(1_100_000)), "bomb.yaml: ", "over the 1 MB limit"},
		{"many keys in 1 MB", string(smallKeyBomb()), "bomb.yaml:9998:6:", "more than 20000 values"},
		{"many keys under one section", bombHead + "templates:\n" + strings.Repeat("  t: {subject: s}\n", 20_000), "bomb.yaml:5001:4:", "more than 20000 values"},
		{"many list items, one per line", bombHead + "features:\n  - name: f\n    routes:\n" + strings.Repeat("      - GET /same\n", 30_000), "bomb.yaml:9997:7:", "more than 20000 values"},
		{"many flow items", bombHead + "features: [\n" + strings.Repeat("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,a,b,c,d,e,f\n", 5_000) + "]\n", "bomb.yaml:628:38:", "more than 20000 values"},
		{"deep flow nesting", bombHead + "features: " + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + "\n", "bomb.yaml:3:19999:", "more than 20000 values"},
		{"flow nesting past the limit", bombHead + "features: " + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + "\n", "bomb.yaml:3:74:", "nest more than 64 deep"},
		{"block nesting past the limit", bombHead + nest(MaxDepth+2), "bomb.yaml:67:129:", "nest more than 64 deep"},
		{"list nesting past the limit", bombHead + "features:\n" + strings.Repeat("- ", MaxDepth+1) + "x\n", "bomb.yaml:4:", "nest more than 64 deep"},
		{"a long line", bombHead + "description: " + strings.Repeat("x", 100<<10) + "\n", "bomb.yaml:3:1:", "line 3 is 100 KB long"},
		{"a long block scalar", bombHead + "description: |\n" + strings.Repeat("  "+strings.Repeat("x", 100)+"\n", 3_000), "bomb.yaml:3:14:", "this value is 295 KB long"},
		{"a long quoted scalar", bombHead + "description: \"" + strings.Repeat(strings.Repeat("x", 100)+"\n  ", 3_000) + "\"\n", "bomb.yaml:3:14:", "this value is 295 KB long"},
		{"billion laughs", billionLaughs(), "bomb.yaml:12:5: features[0]:", "expected a mapping, got a list"},
		{"many aliases to a long list", aliasFan(), "bomb.yaml:", "aliases expand to more than 50000 values"},
	}
}

// billionLaughs is the classic alias bomb: ten lists of ten aliases to the list before, 10^10
// values once expanded. The typed decoder expands an alias only where the plan's types expect
// its kind of value, so the bomb stops at the first level that does not fit.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(bombHead + "x:\n  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "  - &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("features: *a9\n")
	return b.String()
}

// aliasFan repeats, through aliases, a feature with a thousand routes.
func aliasFan() string {
	var b strings.Builder
	b.WriteString(bombHead + "features:\n  - &f\n    name: lol\n    routes: [")
	for i := range 1000 {
		fmt.Fprintf(&b, "\"GET /r%d\", ", i)
	}
	b.WriteString("]\n" + strings.Repeat("  - *f\n", 100))
	return b.String()
}

// TestPlanBombsAreRefusedAtTheLimit checks that each shape of plan bomb gets one problem, at the
// place where it crosses its limit, saying which limit.
func TestPlanBombsAreRefusedAtTheLimit(t *testing.T) {
	for _, tc := range bombs() {
		t.Run(tc.name, func(t *testing.T) {
			_, ps := Parse("bomb.yaml", []byte(tc.src))
			if ps.Err() == nil {
				t.Fatal("bomb accepted")
			}
			var found bool
			for _, p := range ps {
				if strings.HasPrefix(p.String(), tc.wantAt) && strings.Contains(p.Message, tc.wantMsg) {
					found = true
				}
			}
			if !found {
				t.Errorf("problems %v\nwant one at %q saying %q", ps, tc.wantAt, tc.wantMsg)
			}
		})
	}
}

// TestPlanBombParsesInFewMegabytes checks the memory bound: refusing a key bomb of 1 MB (the
// largest plan read) allocates under 1 MB, the bytes of the plan being the caller's; decoding
// the reported 9.9 MB one used to take 644 MB.
func TestPlanBombParsesInFewMegabytes(t *testing.T) {
	data := smallKeyBomb()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, ps := Parse("bomb.yaml", data)
	runtime.ReadMemStats(&after)
	if ps.Err() == nil {
		t.Fatal("bomb accepted")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes, want under 1 MB", alloc)
	}
}

// TestLimitsLeaveMarginOverRealPlans checks that the biggest real plans stay far from every
// limit: ten times for values, lines and values' lengths, five times for nesting.
func TestLimitsLeaveMarginOverRealPlans(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../examples/*.yaml", "testdata/valid/*.yaml"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		nodes, lp := checkText(data)
		if lp != nil {
			t.Fatalf("%s: %s", f, lp.msg)
		}
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			t.Fatal(err)
		}
		depth, longest := treeSize(&root, 0)
		line := 0
		for _, l := range strings.Split(string(data), "\n") {
			line = max(line, len(l))
		}
		t.Logf("%s: %d values counted, nesting %d, longest line %d bytes, longest value %d bytes", f, nodes, depth, line, longest)
		if nodes*10 > MaxNodes || depth*5 > MaxDepth || line*10 > MaxLineBytes || longest*10 > MaxScalarBytes {
			t.Errorf("%s is within a factor of 10 (5 for nesting) of a limit", f)
		}
	}
}

func treeSize(n *yaml.Node, depth int) (int, int) {
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		depth++
	}
	deepest, longest := depth, len(n.Value)
	for _, c := range n.Content {
		d, l := treeSize(c, depth)
		deepest, longest = max(deepest, d), max(longest, l)
	}
	return deepest, longest
}

// BenchmarkParsePlanBomb measures refusing a 1 MB key bomb; BenchmarkParseExample parsing a
// real plan, for comparison (bench/planbomb.sh prints the ratio).
func BenchmarkParsePlanBomb(b *testing.B) {
	data := smallKeyBomb()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ps := Parse("bomb.yaml", data); ps.Err() == nil {
			b.Fatal("bomb accepted")
		}
	}
}

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile("../examples/api-v2.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ps := Parse("api-v2.yaml", data); ps.Err() != nil {
			b.Fatal(ps.Err())
		}
	}
}
