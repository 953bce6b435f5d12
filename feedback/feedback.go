// Package feedback hears users while a service is phased out: it validates what they send
// (the public form, the API, a CSV export from a support tool), summarises it — counts by day,
// category and mood, the negative ratio, extension requests and the themes of the free text in
// English and Chinese — and measures the feedback signals guardrails watch.
//
// The package is pure: storage and HTTP live in the adapters.
package feedback

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sunsetops/sunset"
)

// Moods.
const (
	Positive = "positive"
	Neutral  = "neutral"
	Negative = "negative"
)

// Categories.
const (
	NeedMoreTime            = "need_more_time"
	AlternativeLacksFeature = "alternative_lacks_feature"
	MigrationProblem        = "migration_problem"
	ExportProblem           = "export_problem"
	Other                   = "other"
)

// Moods lists the moods in display order.
var Moods = []string{Positive, Neutral, Negative}

// Categories lists the categories in display order.
var Categories = []string{NeedMoreTime, AlternativeLacksFeature, MigrationProblem, ExportProblem, Other}

// Limits on what one piece of feedback may hold.
const (
	MaxText    = 4000 // characters
	MaxContact = 200
	MaxField   = 100
)

// Feedback is one message from a user.
type Feedback struct {
	ID       int64     `json:"id"`
	Sunset   string    `json:"sunset"`
	At       time.Time `json:"at"`
	Mood     string    `json:"mood"`
	Rating   int       `json:"rating,omitempty"`
	Category string    `json:"category"`
	Text     string    `json:"text,omitempty"`
	Contact  string    `json:"contact,omitempty"`
	Consumer string    `json:"consumer,omitempty"`
	Tier     string    `json:"tier,omitempty"`
	Locale   string    `json:"locale,omitempty"`
	// Source is form, api, import or survey.
	Source string `json:"source"`
	// Answers are a survey's answers by question id (survey feedback only).
	Answers map[string]string `json:"answers,omitempty"`
	// Sender is a keyed hash of the address a public post came from, never the address
	// itself; empty for imports. It tells new senders from known ones (suspect.go) and is
	// not shown in any answer.
	Sender string `json:"-"`
}

// Input is what a user or a tool sends; JSON names match the API.
type Input struct {
	Mood     string `json:"mood,omitempty"`
	Rating   int    `json:"rating,omitempty"`
	Category string `json:"category,omitempty"`
	Text     string `json:"text,omitempty"`
	Contact  string `json:"contact,omitempty"`
	Consumer string `json:"consumer,omitempty"`
	Locale   string `json:"locale,omitempty"`
}

// New checks in and returns the Feedback it describes, received at at from source. Every
// problem is reported in one sunset.EINVALID error (Details lists them, one per field). A rating
// sets the mood when none is given: 1–2 negative, 3 neutral, 4–5 positive. Text is kept as sent
// (trimmed), never interpreted: whoever shows it must escape it.
func New(sunsetName string, in Input, at time.Time, source string) (Feedback, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	f := Feedback{
		Sunset:   sunsetName,
		At:       at,
		Mood:     strings.ToLower(strings.TrimSpace(in.Mood)),
		Rating:   in.Rating,
		Category: strings.ToLower(strings.TrimSpace(in.Category)),
		Text:     strings.TrimSpace(in.Text),
		Contact:  strings.TrimSpace(in.Contact),
		Consumer: strings.TrimSpace(in.Consumer),
		Locale:   strings.TrimSpace(in.Locale),
		Source:   source,
	}
	if f.Rating != 0 && (f.Rating < 1 || f.Rating > 5) {
		bad("rating: %d is not between 1 and 5", f.Rating)
	}
	switch {
	case f.Mood == "" && f.Rating != 0:
		f.Mood = MoodOfRating(f.Rating)
	case f.Mood == "":
		bad("mood: give a mood (positive, neutral, negative) or a rating from 1 to 5")
	case !contains(Moods, f.Mood):
		bad("mood: %q is not one of positive, neutral, negative", clip(f.Mood, 20))
	}
	if f.Category == "" {
		f.Category = Other
	} else if !contains(Categories, f.Category) {
		bad("category: %q is not one of %s", clip(f.Category, 30), strings.Join(Categories, ", "))
	}
	for _, c := range []struct {
		name, v string
		max     int
	}{{"text", f.Text, MaxText}, {"contact", f.Contact, MaxContact}, {"consumer", f.Consumer, MaxField}, {"locale", f.Locale, 16}} {
		switch {
		case !utf8.ValidString(c.v):
			bad("%s: not valid UTF-8", c.name)
		case utf8.RuneCountInString(c.v) > c.max:
			bad("%s: longer than %d characters", c.name, c.max)
		case strings.ContainsFunc(c.v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
			bad("%s: holds control characters", c.name)
		}
	}
	if len(problems) > 0 {
		return Feedback{}, &sunset.Error{Code: sunset.EINVALID, Message: "the feedback is invalid: " + strings.Join(problems, "; "), Details: problems}
	}
	return f, nil
}

// MoodOfRating maps a 1–5 rating to a mood.
func MoodOfRating(r int) string {
	switch {
	case r <= 2:
		return Negative
	case r == 3:
		return Neutral
	default:
		return Positive
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
