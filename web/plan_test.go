package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

// problemLine is the shape of one plan problem: FILE:LINE:COL: path: message (no path for a
// problem with the whole file).
var problemLine = regexp.MustCompile(`^[^:]+:\d+:\d+: .+`)

func TestPlanApplyCreatesThenReapplies(t *testing.T) {
	b := setup(t)

	r := b.do(t, http.MethodPost, "/api/v1/plans", testPlan, "Content-Type", "application/yaml")
	if r.status != http.StatusCreated {
		t.Fatalf("first apply: %d %s", r.status, r.body)
	}
	if got := r.header.Get("Location"); got != "/api/v1/sunsets/billing-v1" {
		t.Fatalf("Location = %q", got)
	}
	var res engine.ApplyResult
	r.decode(t, &res)
	if !res.Created || !res.Changed || res.Sunset.Name != "billing-v1" || res.Sunset.State != engine.StateDraft {
		t.Fatalf("first apply: %+v", res)
	}

	t.Run("the same plan again is 200 and unchanged", func(t *testing.T) {
		r := b.do(t, http.MethodPost, "/api/v1/plans", testPlan)
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var res engine.ApplyResult
		r.decode(t, &res)
		if res.Created || res.Changed {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("a changed plan is 200 and moves actions", func(t *testing.T) {
		r := b.do(t, http.MethodPost, "/api/v1/plans", testPlanMoved, "Content-Type", "text/plain")
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var res engine.ApplyResult
		r.decode(t, &res)
		if res.Created || !res.Changed || len(res.Moved) == 0 || res.Sunset.Revision != 2 {
			t.Fatalf("%+v", res)
		}
	})
}

func TestPlanApplyRefusesBadPlans(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		body       string
		wantStatus int
		wantCode   string
		// wantLines is the least number of problem lines in errors, each FILE:LINE:COL: path: message.
		wantLines int
		wantFile  string
	}{
		{"every problem of an invalid plan is listed", "", invalidPlan, 400, sunset.EINVALID, 3, "plan.yaml"},
		{"problems name the file given in ?file=", "?file=billing.yaml", invalidPlan, 400, sunset.EINVALID, 3, "billing.yaml"},
		{"a JSON document is not a plan", "", `{"hello": ["world"]}`, 400, sunset.EINVALID, 1, ""},
		{"plain text is not a plan", "", "please retire the old API", 400, sunset.EINVALID, 0, ""},
		{"binary is not a plan", "", "\x00\x01\x02\xff\xfe", 400, sunset.EINVALID, 0, ""},
		{"malformed YAML is refused with its place", "", "service:\n  name: [unclosed\n", 400, sunset.EINVALID, 0, ""},
		{"an empty body is refused", "", "", 400, sunset.EINVALID, 0, ""},
		{"a file name with control characters is refused", "?file=a%0Ab.yaml", testPlan, 400, sunset.EINVALID, 0, ""},
		{"a plan over 1 MB is refused", "", "# " + strings.Repeat("x", plan.MaxPlanSize), 413, problem.CodeTooLarge, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			r := b.do(t, http.MethodPost, "/api/v1/plans"+tt.query, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %.300s", r.status, tt.wantStatus, r.body)
			}
			p := r.problem(t)
			if p.Code != tt.wantCode || p.Detail == "" {
				t.Fatalf("problem %+v", p)
			}
			if len(p.Errors) < tt.wantLines {
				t.Fatalf("%d problem lines, want at least %d: %q", len(p.Errors), tt.wantLines, p.Errors)
			}
			for _, line := range p.Errors {
				if !problemLine.MatchString(line) {
					t.Errorf("problem line %q is not FILE:LINE:COL: path: message", line)
				}
				if tt.wantFile != "" && !strings.HasPrefix(line, tt.wantFile+":") {
					t.Errorf("problem line %q does not name %s", line, tt.wantFile)
				}
			}
			list, err := b.eng.Statuses(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 0 {
				t.Fatalf("a refused plan stored %d sunsets", len(list))
			}
		})
	}
}
