package plan

import (
	"strings"
	"testing"
)

func TestCheckTemplate(t *testing.T) {
	ms := []string{"announce", "shutdown", "launch_v2"}
	for _, tc := range []struct {
		name, text string
		want       string // substring of the only problem; "" for none
	}{
		{"accepts the fields of the variable model", "{{.Service.Title}} {{.Recipient.ExportURL}} {{.Alternative.Guide}} {{.Links.Unsubscribe}}", ""},
		{"accepts a custom milestone", "{{.Milestones.launch_v2}}", ""},
		{"accepts a well-known milestone the plan lacks", "{{.Milestones.read_only}}", ""},
		{"checks inside range with the element type", "{{range .Alternatives}}{{.Name}} {{.Guide}}{{end}}", ""},
		{"checks $ inside range against the root", "{{range .Changes}}{{$.Service.Name}}{{.Milestone}}{{end}}", ""},
		{"checks inside with", "{{with .Usage}}{{.CallsLastWeek}}{{end}}", ""},
		{"accepts builtin functions", `{{if eq .Recipient.Locale "zh"}}{{len .Features}}{{end}}`, ""},
		{"reports an unknown field with a suggestion", "{{.Recipient.Nmae}}", "unknown variable .Recipient.Nmae (did you mean"},
		{"reports an unknown top-level name", "{{.Servce.Title}}", "unknown variable .Servce"},
		{"reports an unknown milestone", "{{.Milestones.shutdwn}}", "unknown variable .Milestones.shutdwn"},
		{"reports an unknown field of a range element", "{{range .Alternatives}}{{.Guid}}{{end}}", "unknown variable .Guid"},
		{"reports a field of a string", "{{.Service.Title.X}}", "has no field X"},
		{"reports where in the text", "line one\n{{.Nope}}", "line 2: unknown variable .Nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probs := CheckTemplate("t", tc.text, ms)
			if tc.want == "" {
				if len(probs) > 0 {
					t.Fatalf("problems %q, want none", probs)
				}
				return
			}
			if len(probs) != 1 || !strings.Contains(probs[0], tc.want) {
				t.Fatalf("problems %q, want one containing %q", probs, tc.want)
			}
		})
	}
}
