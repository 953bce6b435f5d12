package plan

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseWeekly(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // canonical String()
	}{
		{"two days", "Tue,Thu 14:00", "Tue,Thu 14:00"},
		{"a range of working days", "Mon-Fri 09:30", "Mon-Fri 09:30"},
		{"daily", "daily 03:00", "daily 03:00"},
		{"one day", "Sat 23:30", "Sat 23:30"},
		{"day names in any case", "tUE,THU 14:00", "Tue,Thu 14:00"},
		{"full day names", "Tuesday,thursday 14:00", "Tue,Thu 14:00"},
		{"spaces around commas and dashes", "  Mon - Wed , Fri   8:05 ", "Mon-Wed,Fri 08:05"},
		{"a range wrapping the week", "Fri-Mon 22:00", "Mon,Fri-Sun 22:00"},
		{"a range of all days is daily", "Mon-Sun 00:00", "daily 00:00"},
		{"a list of all days is daily", "Sun,Mon,Tue,Wed,Thu,Fri,Sat 12:00", "daily 12:00"},
		{"weekdays", "weekdays 09:00", "Mon-Fri 09:00"},
		{"weekends", "Weekends 10:00", "Sat,Sun 10:00"},
		{"everyday", "everyday 01:00", "daily 01:00"},
		{"every day", "every day 01:00", "daily 01:00"},
		{"a day listed twice counts once", "Mon,Mon,Mon-Tue 10:00", "Mon,Tue 10:00"},
		{"two consecutive days stay a list", "Mon,Tue 10:00", "Mon,Tue 10:00"},
		{"Sunday is written last", "Sun,Mon 10:00", "Mon,Sun 10:00"},
		{"last minute of the day", "Wed 23:59", "Wed 23:59"},
		{"single-digit hour", "Wed 7:00", "Wed 07:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ParseWeekly(tt.in)
			if err != nil {
				t.Fatalf("ParseWeekly(%q): %v", tt.in, err)
			}
			if got := w.String(); got != tt.want {
				t.Errorf("ParseWeekly(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			back, err := ParseWeekly(w.String())
			if err != nil || back != w {
				t.Errorf("canonical form %q does not read back to the same schedule: %v, %v", w.String(), back, err)
			}
		})
	}
}

func TestParseWeeklyErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr []string // substrings of the message
	}{
		{"empty", "", []string{"it is empty", `"Tue,Thu 14:00"`}},
		{"only spaces", "   ", []string{"it is empty"}},
		{"no time", "Tue,Thu", []string{"time of day is missing"}},
		{"no days", "14:00", []string{"days are missing"}},
		{"misspelt day with a suggestion", "Tus 14:00", []string{`unknown day "Tus"`, `did you mean "Tue"?`}},
		{"long spelling with a suggestion", "Thurs 14:00", []string{`unknown day "Thurs"`, `did you mean "Thu"?`}},
		{"nonsense day without a suggestion", "Someday 14:00", []string{`unknown day "Someday"`, "use Mon, Tue"}},
		{"misspelt daily", "dayly 14:00", []string{`did you mean "daily"?`}},
		{"hour out of range", "Mon 24:00", []string{`time "24:00" is not a time of day between 00:00 and 23:59`}},
		{"minute out of range", "Mon 10:60", []string{"between 00:00 and 23:59"}},
		{"time without minutes", "Mon 10", []string{`time "10" is not HH:MM`}},
		{"time with seconds", "Mon 10:00:00", []string{"is not HH:MM"}},
		{"twelve-hour clock", "Mon 2pm", []string{`time "2pm" is not HH:MM`}},
		{"negative hour", "Mon -1:00", []string{"is not HH:MM"}},
		{"empty list item", "Mon,,Tue 10:00", []string{"a day is missing"}},
		{"trailing comma", "Mon, 10:00", []string{"a day is missing"}},
		{"open range", "Mon- 10:00", []string{"a day on both sides of the dash"}},
		{"too long", strings.Repeat("Mon,", 40) + "Tue 10:00", []string{"too long"}},
		{"numbers as days", "1,3 10:00", []string{`unknown day "1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ParseWeekly(tt.in)
			if err == nil {
				t.Fatalf("ParseWeekly(%q) = %v, want an error", tt.in, w)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("ParseWeekly(%q) error %q does not contain %q", tt.in, err, want)
				}
			}
		})
	}
}

func mustWeekly(t testing.TB, s string) Weekly {
	t.Helper()
	w, err := ParseWeekly(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at reads "2006-01-02 15:04" in loc (wall clock; use only for unambiguous times).
func at(t testing.TB, s string, loc *time.Location) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWeeklyNext(t *testing.T) {
	shanghai := mustLoad(t, "Asia/Shanghai")
	newYork := mustLoad(t, "America/New_York")
	tests := []struct {
		name  string
		every string
		loc   *time.Location
		after time.Time
		want  string // RFC 3339
	}{
		{"a start exactly at after is returned", "Tue,Thu 14:00", shanghai,
			at(t, "2027-02-16 14:00", shanghai), "2027-02-16T14:00:00+08:00"},
		{"later the same day", "Tue,Thu 14:00", shanghai,
			at(t, "2027-02-16 09:00", shanghai), "2027-02-16T14:00:00+08:00"},
		{"one minute late moves to the next listed day", "Tue,Thu 14:00", shanghai,
			at(t, "2027-02-16 14:01", shanghai), "2027-02-18T14:00:00+08:00"},
		{"wraps to next week", "Tue,Thu 14:00", shanghai,
			at(t, "2027-02-18 15:00", shanghai), "2027-02-23T14:00:00+08:00"},
		{"a single day a week later", "Sat 23:30", shanghai,
			at(t, "2027-02-20 23:31", shanghai), "2027-02-27T23:30:00+08:00"},
		{"after given in another zone is read in loc", "daily 03:00", shanghai,
			time.Date(2027, 2, 15, 19, 0, 0, 0, time.UTC), "2027-02-16T03:00:00+08:00"},
		{"weekdays skip the weekend", "Mon-Fri 09:30", newYork,
			at(t, "2027-02-19 10:00", newYork), "2027-02-22T09:30:00-05:00"},
		{"nil location is UTC", "daily 03:00", nil,
			time.Date(2027, 2, 15, 4, 0, 0, 0, time.UTC), "2027-02-16T03:00:00Z"},
		// New York springs forward on 2027-03-14 at 02:00 EST to 03:00 EDT.
		{"wall clock kept across spring forward", "daily 14:00", newYork,
			at(t, "2027-03-13 15:00", newYork), "2027-03-14T14:00:00-04:00"},
		{"a start in the spring-forward gap moves later by the jump", "daily 02:30", newYork,
			at(t, "2027-03-14 00:00", newYork), "2027-03-14T03:30:00-04:00"},
		{"the day after the gap is back to normal", "daily 02:30", newYork,
			time.Date(2027, 3, 14, 7, 31, 0, 0, time.UTC), "2027-03-15T02:30:00-04:00"},
		// New York falls back on 2027-11-07 at 02:00 EDT to 01:00 EST.
		{"a start happening twice at fall back is its first occurrence", "daily 01:30", newYork,
			at(t, "2027-11-07 00:00", newYork), "2027-11-07T01:30:00-04:00"},
		{"the second occurrence is not a start", "daily 01:30", newYork,
			time.Date(2027, 11, 7, 5, 31, 0, 0, time.UTC), "2027-11-08T01:30:00-05:00"},
		{"wall clock kept across fall back", "Sun 14:00", newYork,
			at(t, "2027-11-01 00:00", newYork), "2027-11-07T14:00:00-05:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustWeekly(t, tt.every).Next(tt.after, tt.loc)
			if got.Format(time.RFC3339) != tt.want {
				t.Errorf("%q.Next(%v) = %v, want %s", tt.every, tt.after, got.Format(time.RFC3339), tt.want)
			}
		})
	}
}

func TestWeeklyPrev(t *testing.T) {
	newYork := mustLoad(t, "America/New_York")
	w := mustWeekly(t, "Tue,Thu 14:00")
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"a start exactly at at is returned", at(t, "2027-02-16 14:00", newYork), "2027-02-16T14:00:00-05:00"},
		{"inside a window", at(t, "2027-02-16 14:10", newYork), "2027-02-16T14:00:00-05:00"},
		{"before the day's start goes back to the last listed day", at(t, "2027-02-18 13:59", newYork), "2027-02-16T14:00:00-05:00"},
		{"over the weekend", at(t, "2027-02-22 08:00", newYork), "2027-02-18T14:00:00-05:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.Prev(tt.at, newYork).Format(time.RFC3339); got != tt.want {
				t.Errorf("Prev(%v) = %s, want %s", tt.at, got, tt.want)
			}
		})
	}
}

func TestWeeklyStarts(t *testing.T) {
	shanghai := mustLoad(t, "Asia/Shanghai")
	w := mustWeekly(t, "Tue,Thu 14:00")
	t.Run("from is inclusive and until exclusive", func(t *testing.T) {
		var got []string
		for s := range w.Starts(at(t, "2027-02-16 14:00", shanghai), at(t, "2027-02-25 14:00", shanghai), shanghai) {
			got = append(got, s.Format("Mon 01-02 15:04"))
		}
		want := []string{"Tue 02-16 14:00", "Thu 02-18 14:00", "Tue 02-23 14:00"}
		if !slices.Equal(got, want) {
			t.Errorf("Starts = %v, want %v", got, want)
		}
	})
	t.Run("stops when the consumer stops", func(t *testing.T) {
		n := 0
		for range w.Starts(at(t, "2027-01-01 00:00", shanghai), at(t, "2028-01-01 00:00", shanghai), shanghai) {
			n++
			if n == 2 {
				break
			}
		}
		if n != 2 {
			t.Errorf("n = %d", n)
		}
	})
	t.Run("the zero Weekly never starts", func(t *testing.T) {
		var zero Weekly
		for s := range zero.Starts(time.Time{}, time.Now(), nil) {
			t.Errorf("zero Weekly started at %v", s)
		}
		if !zero.Next(time.Now(), nil).IsZero() || !zero.Prev(time.Now(), nil).IsZero() {
			t.Error("zero Weekly has a next or previous start")
		}
		if zero.String() != "never" {
			t.Errorf("zero Weekly String = %q", zero.String())
		}
	})
	t.Run("a daily schedule across a year is one start per local day", func(t *testing.T) {
		newYork := mustLoad(t, "America/New_York")
		daily := mustWeekly(t, "daily 02:30")
		n := 0
		for s := range daily.Starts(at(t, "2027-01-01 00:00", newYork), at(t, "2028-01-01 00:00", newYork), newYork) {
			n++
			if h, m, _ := s.Clock(); (h != 2 && h != 3) || m != 30 {
				t.Errorf("start at %v", s)
			}
		}
		if n != 365 {
			t.Errorf("%d starts in 2027, want 365", n)
		}
	})
}

func TestWeeklyAccessors(t *testing.T) {
	w := mustWeekly(t, "Sun,Tue 07:45")
	if got := w.Days(); !slices.Equal(got, []time.Weekday{time.Tuesday, time.Sunday}) {
		t.Errorf("Days = %v", got)
	}
	if h, m := w.Clock(); h != 7 || m != 45 {
		t.Errorf("Clock = %d:%d", h, m)
	}
	if !w.On(time.Sunday) || w.On(time.Monday) || w.On(7) || w.On(-1) {
		t.Error("On is wrong")
	}
	var u Weekly
	if err := u.UnmarshalText([]byte("tue,sun 7:45")); err != nil || u != w {
		t.Errorf("UnmarshalText = %v, %v", u, err)
	}
	if b, _ := w.MarshalText(); string(b) != "Tue,Sun 07:45" {
		t.Errorf("MarshalText = %s", b)
	}
}

func FuzzParseWeekly(f *testing.F) {
	for _, s := range []string{"Tue,Thu 14:00", "Mon-Fri 09:30", "daily 03:00", "Sat 23:30", "Fri-Mon 0:00", "weekends 10:00", "Mon,,Tue 1:00", "Mon- 10:00", ""} {
		f.Add(s)
	}
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	base := time.Date(2027, 3, 14, 1, 0, 0, 0, loc)
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWeekly(s)
		if err != nil {
			if len(err.Error()) > 1200 { // the input is quoted, at most 128 bytes, escaped
				t.Errorf("error message is %d bytes long", len(err.Error()))
			}
			return
		}
		if w.IsZero() {
			t.Fatalf("ParseWeekly(%q) accepted a schedule with no day", s)
		}
		back, err := ParseWeekly(w.String())
		if err != nil || back != w {
			t.Fatalf("ParseWeekly(%q).String() = %q does not read back: %v, %v", s, w.String(), back, err)
		}
		next := w.Next(base, loc)
		if next.Before(base) || next.Sub(base) > 8*24*time.Hour {
			t.Fatalf("%q.Next(%v) = %v", s, base, next)
		}
		if prev := w.Prev(next, loc); !prev.Equal(next) {
			t.Fatalf("%q.Prev(Next) = %v, want %v", s, prev, next)
		}
		// Starts walks the days itself; it must agree with repeated Next.
		want := next
		for got := range w.Starts(base, base.Add(21*24*time.Hour), loc) {
			if !got.Equal(want) {
				t.Fatalf("%q.Starts yields %v, Next says %v", s, got, want)
			}
			want = w.Next(got.Add(time.Nanosecond), loc)
		}
	})
}
