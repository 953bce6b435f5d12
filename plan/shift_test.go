package plan

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestShiftMovesFutureInstantsOnly(t *testing.T) {
	data, err := os.ReadFile("../examples/api-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sh := time.FixedZone("CST", 8*3600)
	// Announce and deprecate (2027-01-05) have passed; the rest lies ahead.
	now := time.Date(2027, 1, 20, 0, 0, 0, 0, sh)
	out, moved, err := Shift("api-v2.yaml", data, "14d", now)
	if err != nil {
		t.Fatal(err)
	}
	p, problems := Parse("shifted.yaml", out)
	if problems.Err() != nil {
		t.Fatalf("shifted plan invalid: %v", problems.Err())
	}
	ms, err := p.MilestoneTimes()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{
		Announce:   time.Date(2027, 1, 5, 10, 0, 0, 0, sh),
		Deprecate:  time.Date(2027, 1, 5, 10, 0, 0, 0, sh),
		ReadOnly:   time.Date(2027, 3, 15, 2, 0, 0, 0, sh),
		Shutdown:   time.Date(2027, 3, 29, 2, 0, 0, 0, sh),
		DeleteData: time.Date(2027, 9, 29, 0, 0, 0, 0, sh),
	}
	for name, w := range want {
		if !ms[name].Equal(w) {
			t.Errorf("%s = %s, want %s", name, ms[name], w)
		}
	}
	paths := map[string]bool{}
	for _, m := range moved {
		paths[m.Path] = true
		if m.To.Sub(m.From) != 14*24*time.Hour {
			t.Errorf("%s moved by %s", m.Path, m.To.Sub(m.From))
		}
	}
	for _, p := range []string{"milestones.read_only", "milestones.shutdown", "milestones.delete_data", "features[0].gone"} {
		if !paths[p] {
			t.Errorf("%s was not moved (moved: %v)", p, moved)
		}
	}
	if paths["milestones.announce"] {
		t.Error("a past milestone moved")
	}
	if !strings.Contains(string(out), "# Orders API v1 is replaced by Orders API v2.") {
		t.Error("the plan's comments were lost")
	}
	if !strings.Contains(string(out), "delete_data: 2027-09-29\n") {
		t.Errorf("a date-only instant changed layout:\n%s", out)
	}
}

func TestShiftRefusesNonsense(t *testing.T) {
	data, _ := os.ReadFile("../examples/api-v2.yaml")
	late := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ by, want string }{
		{"0", "changes nothing"},
		{"soon", "cannot read"},
		{"-60d", "would be invalid"},
	} {
		t.Run(tc.by, func(t *testing.T) {
			now := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
			if _, _, err := Shift("p.yaml", data, tc.by, now); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, _, err := Shift("p.yaml", data, "7d", late); err == nil || !strings.Contains(err.Error(), "nothing to shift") {
		t.Errorf("after the end: err = %v", err)
	}
}
