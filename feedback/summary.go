package feedback

import (
	"slices"
	"sort"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// Summary is what the feedback of one sunset says.
type Summary struct {
	Sunset string `json:"sunset"`
	Total  int    `json:"total"`
	// ByMood and ByCategory count every message.
	ByMood     map[string]int `json:"by_mood"`
	ByCategory map[string]int `json:"by_category"`
	// NegativeRatio is negative / total (0 with no feedback).
	NegativeRatio float64 `json:"negative_ratio"`
	// ExtensionRequests counts need_more_time messages.
	ExtensionRequests int `json:"extension_requests"`
	// Daily counts per day in the sunset's time zone, oldest first.
	Daily []Day `json:"daily"`
	// ByTier counts moods per consumer tier, where the consumer is known.
	ByTier map[string]map[string]int `json:"by_tier,omitempty"`
	// Consumers lists the identified consumers who wrote, most negative first.
	Consumers []ConsumerCount `json:"consumers,omitempty"`
	// Themes are the key phrases of the free text, most frequent first.
	Themes []Theme `json:"themes"`
	// Survey sums up the answers to the survey after the shutdown.
	Survey SurveySummary `json:"survey"`
}

// Day is one day's feedback.
type Day struct {
	Date              string `json:"date"`
	Total             int    `json:"total"`
	Positive          int    `json:"positive"`
	Neutral           int    `json:"neutral"`
	Negative          int    `json:"negative"`
	ExtensionRequests int    `json:"extension_requests"`
}

// ConsumerCount is one consumer's feedback.
type ConsumerCount struct {
	Consumer string `json:"consumer"`
	Tier     string `json:"tier,omitempty"`
	Total    int    `json:"total"`
	Negative int    `json:"negative"`
}

// Summarize summarises items (any order). Days are cut in loc. themes may be nil to skip the
// text analysis.
func Summarize(sunsetName string, items []Feedback, loc *time.Location, themes *Themer) Summary {
	if loc == nil {
		loc = time.UTC
	}
	s := Summary{Sunset: sunsetName, Total: len(items), ByMood: map[string]int{}, ByCategory: map[string]int{}, Daily: []Day{}, Themes: []Theme{}}
	for _, m := range Moods {
		s.ByMood[m] = 0
	}
	for _, c := range Categories {
		s.ByCategory[c] = 0
	}
	days := map[string]*Day{}
	consumers := map[string]*ConsumerCount{}
	for _, f := range items {
		s.ByMood[f.Mood]++
		s.ByCategory[f.Category]++
		date := f.At.In(loc).Format("2006-01-02")
		d := days[date]
		if d == nil {
			d = &Day{Date: date}
			days[date] = d
		}
		d.Total++
		switch f.Mood {
		case Positive:
			d.Positive++
		case Neutral:
			d.Neutral++
		case Negative:
			d.Negative++
		}
		if f.Category == NeedMoreTime {
			d.ExtensionRequests++
			s.ExtensionRequests++
		}
		if f.Tier != "" {
			if s.ByTier == nil {
				s.ByTier = map[string]map[string]int{}
			}
			if s.ByTier[f.Tier] == nil {
				s.ByTier[f.Tier] = map[string]int{}
			}
			s.ByTier[f.Tier][f.Mood]++
		}
		if f.Consumer != "" {
			c := consumers[f.Consumer]
			if c == nil {
				c = &ConsumerCount{Consumer: f.Consumer, Tier: f.Tier}
				consumers[f.Consumer] = c
			}
			c.Total++
			if f.Mood == Negative {
				c.Negative++
			}
		}
	}
	if s.Total > 0 {
		s.NegativeRatio = float64(s.ByMood[Negative]) / float64(s.Total)
	}
	s.Survey = SummarizeSurvey(items)
	for _, d := range days {
		s.Daily = append(s.Daily, *d)
	}
	sort.Slice(s.Daily, func(i, j int) bool { return s.Daily[i].Date < s.Daily[j].Date })
	for _, c := range consumers {
		s.Consumers = append(s.Consumers, *c)
	}
	sort.Slice(s.Consumers, func(i, j int) bool {
		a, b := s.Consumers[i], s.Consumers[j]
		if a.Negative != b.Negative {
			return a.Negative > b.Negative
		}
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.Consumer < b.Consumer
	})
	if themes != nil {
		texts := make([]string, 0, len(items))
		for _, f := range items {
			if f.Text != "" {
				texts = append(texts, f.Text)
			}
		}
		s.Themes = themes.Themes(texts, 15)
	}
	return s
}

// Signals lists the feedback signals Measure answers.
var Signals = []string{"feedback.negative_ratio", "feedback.count", "feedback.extension_requests"}

// Measure computes a feedback signal over items at now: the messages within c.Over before now
// (all of them when Over is zero), narrowed by the labels tier, category and consumer. ok is
// false for the negative ratio when there is no feedback in the window (no data is not a trip),
// and for a signal this package does not know.
func Measure(c plan.Condition, items []Feedback, now time.Time) (value float64, ok bool) {
	if !slices.Contains(Signals, c.Signal) {
		return 0, false
	}
	var total, negative, extension int
	for _, f := range items {
		if c.Over > 0 && (f.At.Before(now.Add(-c.Over)) || f.At.After(now)) {
			continue
		}
		if v, ok := c.Labels["tier"]; ok && f.Tier != v {
			continue
		}
		if v, ok := c.Labels["category"]; ok && f.Category != v {
			continue
		}
		if v, ok := c.Labels["consumer"]; ok && f.Consumer != v {
			continue
		}
		total++
		if f.Mood == Negative {
			negative++
		}
		if f.Category == NeedMoreTime {
			extension++
		}
	}
	switch c.Signal {
	case "feedback.count":
		return float64(total), true
	case "feedback.extension_requests":
		return float64(extension), true
	default:
		if total == 0 {
			return 0, false
		}
		return float64(negative) / float64(total), true
	}
}
