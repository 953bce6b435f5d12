package plan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// smallTimeline is a hand-made timeline in Shanghai: a milestone, three windows of one
// brownout and a shutdown.
func smallTimeline(t *testing.T) *Timeline {
	t.Helper()
	loc := mustLoad(t, "Asia/Shanghai")
	window := func(n int, day string) Action {
		return Action{Key: "brownout/0/" + string(rune('0'+n)), At: at(t, day+" 14:00", loc), Kind: KindBrownout, Name: "brownout",
			Detail: "window " + string(rune('0'+n)) + "/3, Tue,Thu 14:00 for 15m: 503 for all consumers (whole service)"}
	}
	return &Timeline{Service: "orders-api-v1", TimeZone: "Asia/Shanghai", Location: loc, Actions: []Action{
		{Key: "milestone/announce", At: at(t, "2027-02-01 10:00", loc), Kind: KindMilestone, Name: "announce", Detail: "the sunset is announced"},
		window(1, "2027-02-16"), window(2, "2027-02-18"), window(3, "2027-02-23"),
		{Key: "milestone/shutdown", At: at(t, "2027-03-01 10:00", loc), Kind: KindMilestone, Name: "shutdown", Detail: "the service answers 410 Gone"},
	}}
}

func writeText(t *testing.T, tl *Timeline, now time.Time, width int) string {
	t.Helper()
	var b bytes.Buffer
	if err := tl.WriteText(&b, now, width); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteText(t *testing.T) {
	tl := smallTimeline(t)
	loc := tl.Location
	t.Run("a chart with now inside the span", func(t *testing.T) {
		got := writeText(t, tl, at(t, "2027-02-15 10:00", loc), 80)
		want := `Timeline of orders-api-v1 (Asia/Shanghai)
Span  2027-02-01 10:00 CST → 2027-03-01 10:00 CST (28 days, 5 actions)
Now   2027-02-15 10:00 CST, 14 days into the span (│ on the tracks)

When                  Track       Kind       Name      Detail
2027-02-01 10:00 CST  ●····│····  milestone  announce  the sunset is announced
2027-02-16 14:00 CST  ·····━━━··  brownout   brownout  3 windows Tue,Thu 14:00
                           │                           for 15m, 2027-02-16 …
                           │                           2027-02-23: 503 for all
                           │                           consumers (whole service)
2027-03-01 10:00 CST  ·····│···●  milestone  shutdown  the service answers 410
                           │                           Gone
`
		if got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("now before the span is said, not drawn", func(t *testing.T) {
		got := writeText(t, tl, at(t, "2027-01-01 00:00", loc), 80)
		if !strings.Contains(got, "Now   2027-01-01 00:00 CST, before the span\n") || strings.Contains(got, "│") {
			t.Errorf("got\n%s", got)
		}
	})
	t.Run("now after the span is said, not drawn", func(t *testing.T) {
		got := writeText(t, tl, at(t, "2027-04-01 00:00", loc), 80)
		if !strings.Contains(got, ", after the span\n") || strings.Contains(got, "│") {
			t.Errorf("got\n%s", got)
		}
	})
	t.Run("a zero now leaves the now line out", func(t *testing.T) {
		if got := writeText(t, tl, time.Time{}, 80); strings.Contains(got, "Now") {
			t.Errorf("got\n%s", got)
		}
	})
	t.Run("lines fit the width and have no trailing spaces", func(t *testing.T) {
		for _, width := range []int{80, 100, 160} {
			for line := range strings.Lines(writeText(t, tl, at(t, "2027-02-15 10:00", loc), width)) {
				line = strings.TrimSuffix(line, "\n")
				if displayWidth(line) > width {
					t.Errorf("width %d: line of %d columns: %q", width, displayWidth(line), line)
				}
				if strings.TrimRight(line, " ") != line {
					t.Errorf("trailing spaces: %q", line)
				}
			}
		}
	})
	t.Run("a narrow width shrinks the track and keeps every column", func(t *testing.T) {
		got := writeText(t, tl, at(t, "2027-02-15 10:00", loc), 40)
		if !strings.Contains(got, "2027-02-01 10:00 CST  ●···│···  milestone  announce  the sunset is\n") {
			t.Errorf("got\n%s", got)
		}
	})
	t.Run("no width means the default width", func(t *testing.T) {
		if writeText(t, tl, time.Time{}, 0) != writeText(t, tl, time.Time{}, DefaultTextWidth) {
			t.Error("width 0 differs from DefaultTextWidth")
		}
	})
	t.Run("a one-window brownout is shown as it is", func(t *testing.T) {
		one := smallTimeline(t)
		one.Actions = slices.Delete(one.Actions, 2, 4)
		one.Actions[1].Detail = "window 1/1, Tue,Thu 14:00 for 15m: 503 for all consumers (whole service)"
		if got := writeText(t, one, time.Time{}, 120); !strings.Contains(got, "window 1/1, Tue,Thu") {
			t.Errorf("got\n%s", got)
		}
	})
	t.Run("windows decoded from JSON, without keys, are summarised too", func(t *testing.T) {
		js, err := json.Marshal(tl)
		if err != nil {
			t.Fatal(err)
		}
		var back Timeline
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if got := writeText(t, &back, time.Time{}, 120); !strings.Contains(got, "3 windows Tue,Thu 14:00 for 15m") {
			t.Errorf("got\n%s", got)
		}
	})
	t.Run("an empty timeline says so", func(t *testing.T) {
		got := writeText(t, &Timeline{Service: "x", TimeZone: "UTC"}, time.Time{}, 80)
		if got != "Timeline of x (UTC)\nNo actions.\n" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("a timeline of one instant puts everything at the start", func(t *testing.T) {
		one := &Timeline{Service: "x", TimeZone: "UTC", Actions: []Action{{At: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Kind: KindMilestone, Name: "shutdown"}}}
		if got := writeText(t, one, one.Actions[0].At, 80); !strings.Contains(got, "●··") {
			t.Errorf("got\n%s", got)
		}
	})
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		width int
		want  []string
	}{
		{"short text is one line", "gone: 410", 20, []string{"gone: 410"}},
		{"breaks at spaces", "to all via email, banner, feed", 12, []string{"to all via", "email,", "banner, feed"}},
		{"cuts a word longer than the line", "redirect: 308 to https://example.com/very/long", 12, []string{"redirect:", "308 to", "https://exam", "ple.com/very", "/long"}},
		{"counts wide characters twice", "时光相册 即将停止", 8, []string{"时光相册", "即将停止"}},
		{"empty text is one empty line", "", 10, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wrap(tt.in, tt.width); !slices.Equal(got, tt.want) {
				t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
			}
		})
	}
}

func TestTimelineMarshalJSON(t *testing.T) {
	t.Run("the exact shape, at in the plan's zone, keys left out", func(t *testing.T) {
		tl := smallTimeline(t)
		tl.Actions = tl.Actions[:2]
		tl.Actions[0].At = tl.Actions[0].At.UTC() // shown in the timeline's zone all the same
		got, err := tl.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want := `{"service":"orders-api-v1","timezone":"Asia/Shanghai","actions":[` +
			`{"at":"2027-02-01T10:00:00+08:00","kind":"milestone","name":"announce","detail":"the sunset is announced"},` +
			`{"at":"2027-02-16T14:00:00+08:00","kind":"brownout","name":"brownout","detail":"window 1/3, Tue,Thu 14:00 for 15m: 503 for all consumers (whole service)"}]}`
		if string(got) != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("no actions is an empty array", func(t *testing.T) {
		got, err := json.Marshal(&Timeline{Service: "x", TimeZone: "UTC"})
		if err != nil || string(got) != `{"service":"x","timezone":"UTC","actions":[]}` {
			t.Errorf("got %s, %v", got, err)
		}
	})
	t.Run("without a Location the zone is loaded from TimeZone", func(t *testing.T) {
		tl := &Timeline{Service: "x", TimeZone: "America/New_York", Actions: []Action{{At: time.Date(2027, 7, 1, 16, 0, 0, 0, time.UTC), Kind: KindMilestone, Name: "shutdown"}}}
		got, _ := tl.MarshalJSON()
		if !strings.Contains(string(got), `"at":"2027-07-01T12:00:00-04:00"`) {
			t.Errorf("got %s", got)
		}
	})
	t.Run("a compiled plan lists every window", func(t *testing.T) {
		p := ordersPlan(t)
		tl := mustCompile(t, p)
		var out struct {
			Actions []map[string]string `json:"actions"`
		}
		js, _ := json.Marshal(tl)
		if err := json.Unmarshal(js, &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Actions) != len(tl.Actions) {
			t.Errorf("%d actions in JSON, %d in the timeline", len(out.Actions), len(tl.Actions))
		}
		for _, a := range out.Actions {
			if len(a) != 4 || a["at"] == "" || a["kind"] == "" || a["name"] == "" {
				t.Errorf("action %v", a)
			}
		}
	})
}
