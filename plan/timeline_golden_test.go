package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// goldenWidth is the line width of the golden text timelines.
const goldenWidth = 100

// TestTimelineGolden compiles every plan under testdata/timeline and the example plans, and
// compares the text and JSON renderings with NAME.txt and NAME.json beside them. Run with
// -update to rewrite them after a deliberate change, and read the diff.
//
// Now is the middle of each timeline's span, so that every chart shows the now marker.
func TestTimelineGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/timeline/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{} // golden name → plan file
	for _, f := range files {
		cases[strings.TrimSuffix(filepath.Base(f), ".yaml")] = f
	}
	examples, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(examples) < 2 {
		t.Fatalf("found %d example plans, want at least 2", len(examples))
	}
	for _, f := range examples {
		cases["examples-"+strings.TrimSuffix(filepath.Base(f), ".yaml")] = f
	}
	for name, file := range cases {
		t.Run(name, func(t *testing.T) {
			tl := compileFile(t, file)
			var text bytes.Buffer
			if err := tl.WriteText(&text, midSpan(tl), goldenWidth); err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(tl, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata/timeline", name+".txt"), text.Bytes())
			golden(t, filepath.Join("testdata/timeline", name+".json"), append(js, '\n'))
		})
	}
}

// compileFile parses a plan file, which must be valid, and compiles it.
func compileFile(t *testing.T, file string) *Timeline {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, problems := Parse(file, data)
	if err := problems.Err(); err != nil {
		t.Fatalf("the plan is invalid:\n%v", err)
	}
	tl, err := p.Compile()
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return tl
}

// midSpan is the minute halfway between a timeline's first and last action.
func midSpan(tl *Timeline) time.Time {
	first, last := tl.Actions[0].At, tl.Actions[len(tl.Actions)-1].At
	return first.Add(last.Sub(first) / 2).Truncate(time.Minute)
}

// golden compares got with the file at path, or rewrites the file under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./plan -run TestTimelineGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update and read the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
