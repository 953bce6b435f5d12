package feedback

import (
	"time"

	"github.com/sunsetops/sunset/plan"
)

// A guardrail trip on a feedback signal is suspect when the messages that drove it came mostly
// from senders never seen before the window it was measured over: a hostile page that makes its
// visitors post, or a script posting from many addresses, looks like that, while the users of a
// retiring service have usually written before or named a consumer the gateway has served.
//
// A message of the window is from a new sender when it came through public intake (the form,
// the survey or the API, so it carries a Sender) and neither its sender posted feedback about
// the sunset before the window began nor the consumer it names had been served by the gateway
// before the window began. Imports are never new: an operator brought them. The trip is suspect
// when at least SuspectMinNew of the messages that drove the signal are from new senders and
// they are at least SuspectShare of those messages.

// Thresholds of a suspect trip.
const (
	// SuspectMinNew is the fewest messages from new senders that make a burst.
	SuspectMinNew = 5
	// SuspectShare is the smallest share of the driving messages from new senders.
	SuspectShare = 0.8
	// SuspectWindow is the window judged when the condition has no `over`.
	SuspectWindow = 24 * time.Hour
)

// Provenance is where the messages behind a feedback signal came from.
type Provenance struct {
	// Driving is how many messages of the window pushed the signal towards its threshold; New
	// how many of them came from senders never seen before the window.
	Driving, New int
}

// Suspect reports whether the messages came in a burst from new senders.
func (p Provenance) Suspect() bool {
	return p.New >= SuspectMinNew && float64(p.New) >= SuspectShare*float64(p.Driving)
}

// Driving returns the messages of items that push condition c's signal up at now, in c's
// window and labels: the negative ones for feedback.negative_ratio, the requests for more time
// for feedback.extension_requests, all of them for feedback.count. Nil for any other signal.
func Driving(c plan.Condition, items []Feedback, now time.Time) []Feedback {
	var out []Feedback
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
		switch c.Signal {
		case "feedback.count":
		case "feedback.negative_ratio":
			if f.Mood != Negative {
				continue
			}
		case "feedback.extension_requests":
			if f.Category != NeedMoreTime {
				continue
			}
		default:
			return nil
		}
		out = append(out, f)
	}
	return out
}

// Judge counts which of the driving messages came from new senders; seen reports whether a
// message's sender or consumer was known before the window.
func Judge(driving []Feedback, seen func(Feedback) bool) Provenance {
	p := Provenance{Driving: len(driving)}
	for _, f := range driving {
		if f.Sender != "" && f.Source != "import" && !seen(f) {
			p.New++
		}
	}
	return p
}
