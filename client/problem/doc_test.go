package problem

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestProblemTypesDocumented: every problem's type URI leads to a section of docs/problems.md,
// and the page's table gives the status the server answers.
func TestProblemTypesDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/problems.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for code, k := range problemKinds {
		if !strings.Contains(doc, "\n## "+code+"\n") {
			t.Errorf("docs/problems.md has no section %q for %s", "## "+code, ProblemTypeBase+code)
		}
		row := "| [`" + code + "`](#" + code + ") | "
		i := strings.Index(doc, row)
		if i < 0 {
			t.Errorf("docs/problems.md's table has no row for %s", code)
			continue
		}
		if status := strings.TrimSpace(strings.SplitN(doc[i+len(row):], "|", 2)[0]); status != strconv.Itoa(k.status) {
			t.Errorf("docs/problems.md gives %s status %s, the server answers %d", code, status, k.status)
		}
	}
}
