package feedback

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// NewSurvey checks the answers to the survey s and returns them as Feedback from source
// "survey": the satisfaction rating (if asked) sets the mood, free-text answers become the text,
// and the contact is kept only when the user allowed it (contact_ok: yes). Unanswered questions
// are fine; unknown questions and malformed answers are sunset.EINVALID with every problem.
func NewSurvey(sunsetName string, s plan.Survey, answers map[string]string, contact, locale string, at time.Time) (Feedback, error) {
	var problems []string
	kinds := map[string]string{}
	for _, q := range s.Questions {
		kinds[q.ID] = q.Kind
	}
	clean := map[string]string{}
	var texts []string
	for _, id := range sortedKeys(answers) {
		v := strings.TrimSpace(answers[id])
		kind, ok := kinds[id]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: not a question of this survey", clip(id, 30)))
			continue
		case v == "":
			continue
		case !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxText:
			problems = append(problems, fmt.Sprintf("%s: at most %d characters of valid text", id, MaxText))
			continue
		}
		switch kind {
		case "rating":
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 5 {
				problems = append(problems, fmt.Sprintf("%s: answer with a number from 1 to 5", id))
				continue
			}
		case "yesno":
			v = strings.ToLower(v)
			if v != "yes" && v != "no" {
				problems = append(problems, fmt.Sprintf("%s: answer yes or no", id))
				continue
			}
		case "text":
			texts = append(texts, v)
		}
		clean[id] = v
	}
	if len(problems) > 0 {
		return Feedback{}, &sunset.Error{Code: sunset.EINVALID, Message: "the survey answers are invalid: " + strings.Join(problems, "; "), Details: problems}
	}
	if len(clean) == 0 {
		return Feedback{}, &sunset.Error{Code: sunset.EINVALID, Message: "the survey has no answer", Details: []string{"answer at least one question"}}
	}
	in := Input{Mood: Neutral, Category: Other, Text: strings.Join(texts, "\n\n"), Locale: locale}
	if r, ok := clean["satisfaction"]; ok {
		n, _ := strconv.Atoi(r)
		in.Mood, in.Rating = "", n
	}
	if clean["contact_ok"] == "yes" {
		in.Contact = contact
	}
	f, err := New(sunsetName, in, at, "survey")
	if err != nil {
		return Feedback{}, err
	}
	f.Answers = clean
	return f, nil
}

// SurveySummary sums up the survey answers.
type SurveySummary struct {
	Responses int `json:"responses"`
	// Satisfaction is the mean of the 1–5 satisfaction answers (0 when none).
	Satisfaction float64 `json:"satisfaction"`
	// Yes and No count the answers of every yes/no question by question id.
	Yes map[string]int `json:"yes"`
	No  map[string]int `json:"no"`
}

// SummarizeSurvey sums up the survey feedback among items.
func SummarizeSurvey(items []Feedback) SurveySummary {
	s := SurveySummary{Yes: map[string]int{}, No: map[string]int{}}
	var sum, n int
	for _, f := range items {
		if f.Source != "survey" {
			continue
		}
		s.Responses++
		for id, v := range f.Answers {
			switch v {
			case "yes":
				s.Yes[id]++
			case "no":
				s.No[id]++
			}
		}
		if r, err := strconv.Atoi(f.Answers["satisfaction"]); err == nil {
			sum += r
			n++
		}
	}
	if n > 0 {
		s.Satisfaction = float64(sum) / float64(n)
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
