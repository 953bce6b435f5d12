package plan

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedPlans lists the plans under testdata/valid, testdata/invalid and examples/.
func seedPlans(f *testing.F) []string {
	f.Helper()
	var files []string
	for _, pattern := range []string{"testdata/valid/*.yaml", "testdata/invalid/*.yaml", "../examples/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		f.Fatal("no seed plans")
	}
	return files
}

// addMatches adds to f's corpus every distinct match of re in the seed plans.
func addMatches(f *testing.F, re *regexp.Regexp) {
	f.Helper()
	seen := map[string]bool{}
	for _, name := range seedPlans(f) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range re.FindAllString(string(data), -1) {
			if !seen[m] {
				seen[m] = true
				f.Add(m)
			}
		}
	}
}

// addSeeds adds every seed plan to f's corpus.
func addSeeds(f *testing.F) {
	f.Helper()
	for _, name := range seedPlans(f) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParse checks that Parse never panics, always returns a plan, and that every problem has a
// file and a message and comes in position order; and that a plan without errors resolves.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	// Plan bombs, each just past one limit, so that mutations explore the edges of the limits.
	for _, bomb := range []string{
		bombHead + "features: [" + strings.Repeat("a,", MaxNodes) + "]\n",
		bombHead + "features: " + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + "\n",
		bombHead + "description: " + strings.Repeat("x", MaxLineBytes) + "\n",
		bombHead + "description: |\n" + strings.Repeat("  "+strings.Repeat("x", 1000)+"\n", MaxScalarBytes/1000),
		billionLaughs(),
		aliasFan(),
	} {
		f.Add([]byte(bomb))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, ps := Parse("fuzz.yaml", data)
		if p == nil {
			t.Fatal("Parse returned a nil plan")
		}
		for i, pr := range ps {
			if pr.Message == "" || pr.File != "fuzz.yaml" {
				t.Fatalf("problem without message or file: %#v", pr)
			}
			// The "N more problems" summary closes the list without a position.
			if i > 0 && pr.Pos.Line > 0 && (pr.Pos.Line < ps[i-1].Pos.Line || pr.Pos.Line == ps[i-1].Pos.Line && pr.Pos.Col < ps[i-1].Pos.Col) {
				t.Fatalf("problems out of order: %v before %v", ps[i-1], pr)
			}
		}
		if len(ps) > maxProblems+1 {
			t.Fatalf("%d problems, more than the limit", len(ps))
		}
		if ps.Err() != nil {
			return
		}
		if p.Service.Name == "" {
			t.Fatal("valid plan without a service name")
		}
		ms, err := p.MilestoneTimes()
		if err != nil {
			t.Fatalf("valid plan's milestones do not resolve: %v", err)
		}
		if _, ok := ms[Shutdown]; !ok {
			t.Fatal("valid plan without a shutdown")
		}
		if again := p.Validate(); len(again.Errors()) > 0 {
			t.Fatalf("Validate finds errors Parse did not: %v", again.Err())
		}
	})
}

// FuzzParseInstant checks that ParseInstant never panics, keeps the text as written, and reads
// its own output the same way.
func FuzzParseInstant(f *testing.F) {
	for _, s := range []string{
		"2027-03-15", "2027-03-15T02:00", "2027-03-15T02:00:00", "2027-03-15 02:00", "2027-03-15T02:00:00+08:00",
		"2027-03-15T02:00Z", "2027-03-15T02:00:00.123456789Z", "shutdown", "shutdown-7d", "announce+2w",
		"read_only - 1w3d12h", " delete_data+0 ", "2027-02-30", "shutdown-", "shutdown-7x", "-7d", "", "9",
		"shutdown-999999999w", "a+1d+1d", "x-1ms", "\x00", "ünïcode-1d",
	} {
		f.Add(s)
	}
	addMatches(f, regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}[T0-9:.+Z-]*|[a-z_]+ ?[+-] ?[0-9][0-9wdhms]*`))
	f.Fuzz(func(t *testing.T, s string) {
		in, err := ParseInstant(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if in.Raw != s || in.String() != s {
			t.Fatalf("Raw = %q, want %q", in.Raw, s)
		}
		_, abs := in.Absolute(time.UTC)
		if abs == in.IsRelative() {
			t.Fatalf("%q: absolute %v and relative %v", s, abs, in.IsRelative())
		}
		if in.IsRelative() && !validName(in.Ref) {
			t.Fatalf("%q: invalid milestone name %q", s, in.Ref)
		}
		again, err := ParseInstant(in.String())
		if err != nil || again.Ref != in.Ref || again.Offset != in.Offset || !again.civil.Equal(in.civil) || again.civil.String() != in.civil.String() || again.hasZone != in.hasZone {
			t.Fatalf("%q does not read back: %+v vs %+v (%v)", s, again, in, err)
		}
	})
}

// FuzzParseDuration checks that ParseDuration never panics, never returns a negative or
// over-long duration, and reads FormatDuration's output back to the same value.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"0", "15m", "2h30m", "7d", "2w", "1w3d12h", "500ms", "1s", "15", "-1d", "1y", "d", "", "999999999w", "1h1h", "00001m"} {
		f.Add(s)
	}
	addMatches(f, regexp.MustCompile(`\b[0-9]+(w|d|h|ms|m|s)[0-9wdhms]*\b`))
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if d < 0 || d > 100*365*24*time.Hour {
			t.Fatalf("%q = %v, out of range", s, d)
		}
		text := FormatDuration(d)
		back, err := ParseDuration(text)
		if err != nil || back != d {
			t.Fatalf("%q = %v formats as %q, which reads back as %v (%v)", s, d, text, back, err)
		}
	})
}

// FuzzParseCondition checks that ParseCondition never panics and reads its own output back.
func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{
		"feedback.negative_ratio > 0.4 over 24h", "consumers.active{tier=critical} > 0", `consumers.active{tier="critical", feature=reports} >= 1`,
		"gateway.error_rate != 0.5", "feedback.count<=10", "x > 1", "feedback.count > ", "feedback.count > 1 over", "feedback.count{a=b > 1",
	} {
		f.Add(s)
	}
	addMatches(f, regexp.MustCompile(`[a-z_]+\.[a-z_]+(\{[^}]*\})? *[<>=!]=? *[0-9.]+( over [0-9a-z]+)?`))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(s)
		if err != nil {
			return
		}
		again, err := ParseCondition(c.String())
		if err != nil || again.Signal != c.Signal || again.Op != c.Op || again.Value != c.Value || again.Over != c.Over || !maps.Equal(again.Labels, c.Labels) {
			t.Fatalf("%q → %q does not read back: %+v vs %+v (%v)", s, c.String(), again, c, err)
		}
		if !slices.Contains(KnownSignals, c.Signal) {
			t.Fatalf("unknown signal %q accepted", c.Signal)
		}
	})
}

// BenchmarkParse decodes and validates the API example plan.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("../examples/api-v2.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, ps := Parse("api-v2.yaml", data); ps.Err() != nil {
			b.Fatal(ps.Err())
		}
	}
}
