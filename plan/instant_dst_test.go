package plan

import (
	"testing"
	"time"
)

// TestRelativeDaysAreCalendarDays: "shutdown-7d" across a daylight-saving change keeps the
// wall-clock time of shutdown, as people reading the plan expect; hours stay elapsed time.
func TestRelativeDaysAreCalendarDays(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	shutdown := time.Date(2027, 3, 20, 12, 0, 0, 0, ny) // EDT; DST began 2027-03-14
	cases := []struct {
		in   string
		want time.Time
	}{
		{"shutdown-7d", time.Date(2027, 3, 13, 12, 0, 0, 0, ny)},
		{"shutdown-1w", time.Date(2027, 3, 13, 12, 0, 0, 0, ny)},
		{"shutdown-1w1d", time.Date(2027, 3, 12, 12, 0, 0, 0, ny)},
		{"shutdown-168h", time.Date(2027, 3, 13, 11, 0, 0, 0, ny)}, // 168 elapsed hours
		{"shutdown-1d12h", time.Date(2027, 3, 19, 0, 0, 0, 0, ny)},
		{"shutdown+2d", time.Date(2027, 3, 22, 12, 0, 0, 0, ny)},
		{"shutdown", shutdown},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			in, err := ParseInstant(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := in.From(shutdown, ny); !got.Equal(tc.want) {
				t.Errorf("%s = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}
