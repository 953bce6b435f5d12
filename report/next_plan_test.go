package report

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
)

// TestNextPlanRefusesMalformedPlans: a stored plan that no longer parses, or has no service, is
// an error that says so, never a panic or a half-written plan.
func TestNextPlanRefusesMalformedPlans(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for name, doc := range map[string]string{
		"empty":          "",
		"not a mapping":  "- a\n- b\n",
		"broken yaml":    "service: {name: [\n",
		"no milestones":  "service: {name: x}\n",
		"invalid plan":   "service: {name: Bad Name}\nmilestones: {announce: 2027-01-01, shutdown: 2027-03-01}\n",
		"unknown fields": "service: {name: x, nmae: y}\nmilestones: {announce: 2027-01-01, shutdown: 2027-03-01}\n",
	} {
		t.Run(name, func(t *testing.T) {
			out, err := NextPlan("x", []byte(doc), &Report{}, now, "")
			if err == nil {
				t.Fatalf("NextPlan accepted %q:\n%s", doc, out)
			}
			if sunset.ErrorCode(err) != sunset.ECONFLICT {
				t.Errorf("code %q, want conflict: %v", sunset.ErrorCode(err), err)
			}
		})
	}
}

// TestAnnounceDay: a week after now in the plan's zone, or the date given; anything else is
// invalid.
func TestAnnounceDay(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC) // already the 27th in Shanghai
	if got, _ := AnnounceDay("", now, sh); !got.Equal(time.Date(2026, 12, 4, 0, 0, 0, 0, sh)) {
		t.Errorf("default: %v", got)
	}
	if got, _ := AnnounceDay(" 2027-06-01 ", now, sh); !got.Equal(time.Date(2027, 6, 1, 0, 0, 0, 0, sh)) {
		t.Errorf("given: %v", got)
	}
	for _, bad := range []string{"next tuesday", "2027-6-1", "2027-02-30", "01/06/2027"} {
		if _, err := AnnounceDay(bad, now, sh); sunset.ErrorCode(err) != sunset.EINVALID || !strings.Contains(err.Error(), "use a date") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzBlankService: any document is blanked or refused without panicking, and a blanked one
// holds the TODO marker as the service's name.
func FuzzBlankService(f *testing.F) {
	if raw, err := os.ReadFile("../examples/api-v2.yaml"); err == nil {
		f.Add(string(raw))
	}
	f.Add("service: {name: a, title: {en: b}}\n")
	f.Add("service: [1]\n")
	f.Fuzz(func(t *testing.T, doc string) {
		out, err := blankService([]byte(doc))
		if err != nil {
			return
		}
		if !strings.Contains(string(out), "TODO") {
			t.Fatalf("no TODO marker in:\n%s", out)
		}
	})
}
