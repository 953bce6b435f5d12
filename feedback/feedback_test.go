package feedback

import (
	"bufio"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// themer is shared by the tests: its dictionary takes seconds to load.
var themer = sync.OnceValue(NewThemer)

// corpus reads testdata/corpus_LANG.txt: mood|category|text per line.
func corpus(t *testing.T, lang string, start time.Time) []Feedback {
	t.Helper()
	f, err := os.Open("testdata/corpus_" + lang + ".txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Feedback
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		parts := strings.SplitN(sc.Text(), "|", 3)
		fb, err := New("orders-api-v1", Input{Mood: parts[0], Category: parts[1], Text: parts[2], Locale: lang}, start.Add(time.Duration(i)*time.Hour), "form")
		if err != nil {
			t.Fatalf("corpus line %d: %v", i+1, err)
		}
		out = append(out, fb)
	}
	return out
}

func phrases(ts []Theme) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Phrase)
	}
	return out
}

func TestThemesOfTheEnglishCorpus(t *testing.T) {
	items := corpus(t, "en", time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	s := Summarize("orders-api-v1", items, time.UTC, themer())
	got := phrases(s.Themes)
	t.Logf("themes: %q", got)
	for _, want := range []string{"migration guide", "more time", "sales reports", "export link", "shutdown date"} {
		if !contains(got, want) {
			t.Errorf("themes %q lack %q", got, want)
		}
	}
	for _, noise := range []string{"the", "and", "our", "v2"} {
		if contains(got, noise) {
			t.Errorf("themes %q hold the stop word %q", got, noise)
		}
	}
}

func TestThemesOfTheChineseCorpusAreWordsNotCharacters(t *testing.T) {
	items := corpus(t, "zh", time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	s := Summarize("moments-album", items, time.UTC, themer())
	got := phrases(s.Themes)
	t.Logf("themes: %q", got)
	for _, want := range []string{"迁移文档", "下载链接", "延期", "销售报表", "限流"} {
		if !contains(got, want) {
			t.Errorf("themes %q lack %q", got, want)
		}
	}
	for _, p := range got {
		if len([]rune(p)) < 2 {
			t.Errorf("theme %q is a single character", p)
		}
	}
}

func TestSummaryCounts(t *testing.T) {
	items := append(corpus(t, "en", time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)), corpus(t, "zh", time.Date(2027, 2, 3, 0, 0, 0, 0, time.UTC))...)
	s := Summarize("x", items, time.UTC, nil)
	// Counted independently: cut -d'|' -f1 testdata/corpus_*.txt | sort | uniq -c
	if s.Total != 60 || s.ByMood[Negative] != 43 || s.ByMood[Positive] != 8 || s.ByMood[Neutral] != 9 {
		t.Errorf("moods = %v (total %d)", s.ByMood, s.Total)
	}
	if s.ExtensionRequests != 11 || s.ByCategory[NeedMoreTime] != 11 || s.ByCategory[Other] != 20 {
		t.Errorf("extension requests = %d", s.ExtensionRequests)
	}
	if want := 43.0 / 60; s.NegativeRatio != want {
		t.Errorf("negative ratio = %v, want %v", s.NegativeRatio, want)
	}
	if len(s.Daily) != 4 || s.Daily[0].Date != "2027-02-01" || s.Daily[0].Total != 24 {
		t.Errorf("daily = %+v", s.Daily)
	}
}

func TestNewRefusesBadInput(t *testing.T) {
	at := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		in   Input
		want string
	}{
		{"no mood or rating", Input{Text: "hi"}, "give a mood"},
		{"unknown mood", Input{Mood: "angry"}, `"angry" is not one of`},
		{"rating out of range", Input{Rating: 9}, "not between 1 and 5"},
		{"unknown category", Input{Mood: "negative", Category: "bugs"}, `"bugs" is not one of`},
		{"text too long", Input{Mood: "negative", Text: strings.Repeat("长", MaxText+1)}, "text: longer than"},
		{"control characters", Input{Mood: "negative", Text: "a\x00b"}, "control characters"},
		{"invalid utf-8", Input{Mood: "negative", Text: "\xff\xfe"}, "not valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New("x", tc.in, at, "api")
			if sunset.ErrorCode(err) != sunset.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want invalid with %q", err, tc.want)
			}
		})
	}
	f, err := New("x", Input{Rating: 2, Text: "  <script>alert(1)</script>  "}, at, "form")
	if err != nil || f.Mood != Negative || f.Category != Other || f.Text != "<script>alert(1)</script>" {
		t.Errorf("rating 2 → %+v, %v; want negative, other, text kept verbatim (escaped where shown)", f, err)
	}
}

func TestImportCSV(t *testing.T) {
	csvText := "at,mood,category,text,contact,ticket_id\n" +
		"2027-02-01 10:00,negative,need_more_time,\"We need more time, please\",ops@acme.example.com,T-1\n" +
		"2027-02-01 11:00,furious,other,bad mood,,T-2\n" +
		"someday,negative,other,bad date,,T-3\n" +
		"2027-02-02T09:00:00+08:00,positive,,\"引号\"\"里\"\"的文字\",,T-4\n"
	loc := time.FixedZone("CST", 8*3600)
	items, problems, err := ImportCSV("x", strings.NewReader(csvText), loc, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Text != "We need more time, please" || items[1].Text != `引号"里"的文字` {
		t.Fatalf("items = %+v", items)
	}
	if !items[0].At.Equal(time.Date(2027, 2, 1, 10, 0, 0, 0, loc)) {
		t.Errorf("at = %s, want read in the plan's zone", items[0].At)
	}
	var lines []int
	for _, p := range problems {
		lines = append(lines, p.Line)
	}
	if len(problems) != 3 || lines[0] != 1 || lines[1] != 3 || lines[2] != 4 || !strings.Contains(problems[0].Message, "ticket_id") {
		t.Errorf("problems = %+v, want the ignored column and lines 3 and 4", problems)
	}
	if _, _, err := ImportCSV("x", strings.NewReader(""), loc, time.Now()); err == nil {
		t.Error("an empty file was accepted")
	}
	if _, _, err := ImportCSV("x", strings.NewReader("text,contact\nhello,x\n"), loc, time.Now()); err == nil {
		t.Error("a file with no mood or rating column was accepted")
	}
}

func TestMeasure(t *testing.T) {
	now := time.Date(2027, 2, 2, 12, 0, 0, 0, time.UTC)
	items := []Feedback{
		{At: now.Add(-30 * time.Hour), Mood: Negative, Category: NeedMoreTime},
		{At: now.Add(-2 * time.Hour), Mood: Negative, Category: NeedMoreTime, Tier: "critical"},
		{At: now.Add(-1 * time.Hour), Mood: Positive, Category: Other},
		{At: now.Add(-1 * time.Hour), Mood: Negative, Category: ExportProblem},
	}
	cases := []struct {
		cond string
		want float64
		ok   bool
	}{
		{"feedback.negative_ratio > 0.4 over 24h", 2.0 / 3, true},
		{"feedback.negative_ratio > 0.4", 3.0 / 4, true},
		{"feedback.extension_requests > 10 over 7d", 2, true},
		{"feedback.count{tier=critical} > 0 over 24h", 1, true},
		{"feedback.negative_ratio > 0.4 over 30m", 0, false},
		{"consumers.active > 0", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.cond, func(t *testing.T) {
			c, err := plan.ParseCondition(tc.cond)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := Measure(c, items, now)
			if got != tc.want || ok != tc.ok {
				t.Errorf("= %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func FuzzImportCSV(f *testing.F) {
	f.Add("at,mood,text\n2027-02-01,negative,hi\n")
	f.Add("mood,rating\n,7\n\"unterminated")
	f.Add("\ufeffMood,Text\nPOSITIVE,\"a,b\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		items, _, _ := ImportCSV("x", strings.NewReader(s), time.UTC, time.Unix(0, 0))
		for _, it := range items {
			if !contains(Moods, it.Mood) || !contains(Categories, it.Category) {
				t.Fatalf("imported an invalid item %+v", it)
			}
		}
	})
}

func TestSurveyAnswers(t *testing.T) {
	at := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
	s := plan.DefaultSurvey
	f, err := NewSurvey("x", s, map[string]string{"satisfaction": "2", "moved": "Yes", "hardest": "导出照片很慢", "contact_ok": "no"}, "me@example.com", "zh", at)
	if err != nil {
		t.Fatal(err)
	}
	if f.Mood != Negative || f.Rating != 2 || f.Text != "导出照片很慢" || f.Contact != "" || f.Answers["moved"] != "yes" || f.Source != "survey" {
		t.Errorf("feedback = %+v (the contact must be dropped without consent)", f)
	}
	g, _ := NewSurvey("x", s, map[string]string{"satisfaction": "5", "moved": "no", "contact_ok": "yes"}, "me@example.com", "en", at)
	if g.Contact != "me@example.com" || g.Mood != Positive {
		t.Errorf("with consent: %+v", g)
	}
	for _, bad := range []map[string]string{
		{"satisfaction": "9"}, {"moved": "maybe"}, {"favourite_colour": "blue"}, {},
	} {
		if _, err := NewSurvey("x", s, bad, "", "en", at); sunset.ErrorCode(err) != sunset.EINVALID {
			t.Errorf("%v: err = %v, want invalid", bad, err)
		}
	}
	sum := SummarizeSurvey([]Feedback{f, g, {Source: "form", Mood: Negative}})
	if sum.Responses != 2 || sum.Satisfaction != 3.5 || sum.Yes["moved"] != 1 || sum.No["moved"] != 1 || sum.Yes["contact_ok"] != 1 {
		t.Errorf("survey summary = %+v", sum)
	}
}
