package usage

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// TimingWarning is a step of the plan that falls into the service's busiest hours.
type TimingWarning struct {
	// Path is the plan field the step comes from ("milestones.shutdown", "brownouts[0]",
	// "runbook").
	Path    string
	At      time.Time
	Message string
}

// busyHours returns, per hour-of-week slot, whether it is among the busiest: its requests per
// observed hour are in the top quarter of the observed slots and at least 20% above the median
// (so that flat traffic has no busiest hours). Unobserved slots are never busy.
func (r *Result) busyHours() (busy [168]bool, rate [168]float64, median float64) {
	var rates []float64
	for s := range 168 {
		obs := r.HourOfWeek.Observed[s/24][s%24]
		if obs >= 0.5 {
			rate[s] = float64(r.HourOfWeek.Requests[s/24][s%24]) / obs
			rates = append(rates, rate[s])
		} else {
			rate[s] = -1
		}
	}
	if len(rates) < 4 {
		return busy, rate, 0
	}
	slices.Sort(rates)
	median = rates[len(rates)/2]
	p75 := rates[len(rates)*3/4]
	for s := range 168 {
		busy[s] = rate[s] >= 0 && rate[s] >= p75 && rate[s] > 1.2*median
	}
	return busy, rate, median
}

// CheckTimeline warns when a traffic-affecting step of the plan — the read_only, shutdown or a
// custom milestone, a brownout window, the runbook start — falls into the busiest hours of the
// usage result, and names the quietest window it could move to. tl is p's compiled timeline.
func (r *Result) CheckTimeline(p *plan.Plan, tl *plan.Timeline) []TimingWarning {
	loc, err := time.LoadLocation(r.HourOfWeek.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	busy, rate, median := r.busyHours()
	if median == 0 {
		return nil
	}
	alt := ""
	if len(r.QuietWindows) > 0 {
		q := r.QuietWindows[0]
		alt = fmt.Sprintf("; the quietest %dh window is %s–%s %s (%.1f%% of traffic, %d consumers)", q.Hours, q.Start, q.End, r.HourOfWeek.TimeZone, q.Share*100, q.Consumers)
	}
	slotOf := func(t time.Time) int {
		lt := t.In(loc)
		return (int(lt.Weekday())+6)%7*24 + lt.Hour()
	}
	check := func(path string, at time.Time, length time.Duration, what string) *TimingWarning {
		for t := at; t.Before(at.Add(max(length, time.Second))); t = t.Add(time.Hour) {
			s := slotOf(t)
			if busy[s] {
				return &TimingWarning{Path: path, At: at, Message: fmt.Sprintf("%s at %s falls in a busy hour (%s %s: %s requests/hour, median %s)%s",
					what, at.In(tl.Location).Format("2006-01-02 15:04 MST"), slotName(s), r.HourOfWeek.TimeZone,
					strconv.FormatFloat(rate[s], 'f', 0, 64), strconv.FormatFloat(median, 'f', 0, 64), alt)}
			}
		}
		return nil
	}
	var out []TimingWarning
	seenBrownout := map[string]bool{}
	for _, a := range tl.Actions {
		var w *TimingWarning
		switch a.Kind {
		case plan.KindMilestone:
			if a.Name == plan.Announce || a.Name == plan.Deprecate || a.Name == plan.DeleteData {
				continue // messages and data deletion do not touch traffic
			}
			w = check("milestones."+a.Name, a.At, 0, "milestone "+a.Name)
		case plan.KindRunbook:
			w = check("runbook", a.At, 0, "the runbook start")
		case plan.KindBrownout:
			// Keys are brownout/<index>/<n|start|end>; only weekly windows have a length.
			parts := strings.Split(a.Key, "/")
			if len(parts) != 3 || parts[2] == "end" || seenBrownout[parts[1]] {
				continue
			}
			i, err := strconv.Atoi(parts[1])
			if err != nil || i >= len(p.Brownouts) || p.Brownouts[i].Every == "" {
				continue
			}
			path := "brownouts[" + parts[1] + "]"
			if w = check(path, a.At, time.Duration(p.Brownouts[i].For), "brownout window"); w != nil {
				seenBrownout[parts[1]] = true // one warning per brownout schedule
			}
		}
		if w != nil {
			out = append(out, *w)
		}
	}
	return out
}
