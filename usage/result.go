package usage

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"time"
)

// Result is the answer of an analysis. Its JSON field names are stable and documented in
// docs/usage.md; fields are only ever added.
type Result struct {
	// Inputs lists each input with its detected format and its own counts or error.
	Inputs []InputResult `json:"inputs"`
	// Lines = Parsed + Malformed.
	Lines     int64 `json:"lines"`
	Parsed    int64 `json:"parsed"`
	Malformed int64 `json:"malformed"`
	// MalformedReasons counts malformed lines by reason.
	MalformedReasons map[string]int64 `json:"malformed_reasons"`
	// MalformedExamples are the first malformed lines, in input order.
	MalformedExamples []MalformedLine `json:"malformed_examples"`
	// Requests is the number of requests (one per parsed line).
	Requests int64 `json:"requests"`
	// Consumers is the exact number of distinct consumers.
	Consumers int64 `json:"consumers"`
	// Identity says how consumers are named: ip, ip+ua, user, header:NAME, field:NAME.
	Identity string `json:"identity"`
	// From and Until are the first and last request, at the log's own offsets.
	From  *time.Time `json:"from,omitempty"`
	Until *time.Time `json:"until,omitempty"`
	// TopConsumers are the consumers with the most requests.
	TopConsumers []ConsumerUse `json:"top_consumers"`
	// Endpoints are paths without query, by requests; EndpointsTotal counts all of them.
	Endpoints      []EndpointUse `json:"endpoints"`
	EndpointsTotal int           `json:"endpoints_total"`
	// Features is the plan's features by requests, with UnmatchedRequests outside any route.
	Features          []FeatureUse `json:"features"`
	UnmatchedRequests int64        `json:"unmatched_requests"`
	// Tiers sums consumers and requests per contact tier (with contacts only); consumers not
	// in the contacts file count under "unknown".
	Tiers []TierUse `json:"tiers,omitempty"`
	// Daily is one entry per calendar day (each line's own offset), ascending.
	Daily []DayUse `json:"daily"`
	// Trend is the least-squares line through the daily requests.
	Trend Trend `json:"trend"`
	// HourOfWeek is the 7×24 heatmap in TimeZone.
	HourOfWeek Heatmap `json:"hour_of_week"`
	// QuietWindows are the recommended shutdown windows, quietest first.
	QuietWindows []QuietWindow `json:"quiet_windows"`
	// Migration is set when the alternative's logs were read too.
	Migration *Migration `json:"migration,omitempty"`

	// consumerKeys/consumerStats keep the full consumer table for migration tracking.
	all *aggregate
	// hourly is HourlyCounts' answer (Options.Hourly).
	hourly []HourlyCount
}

// HourlyCount is the requests of one consumer to one feature in one UTC hour: the shape the
// gateway reports and the control plane stores, so notices and guardrails see analysed logs
// as they see gateway traffic.
type HourlyCount struct {
	// Feature is the plan feature's name; "" for requests that match no feature (and for all
	// requests when the analysis had no plan).
	Feature  string
	Consumer string
	// Hour is the start of the hour, UTC.
	Hour     time.Time
	Requests int64
}

// HourlyCounts returns the requests per feature, consumer and hour, ordered by hour, feature
// and consumer; nil unless the analysis ran with Options.Hourly. Their sum is Requests.
func (r *Result) HourlyCounts() []HourlyCount { return r.hourly }

// InputResult is one input's share of the analysis.
type InputResult struct {
	Name   string `json:"name"`
	Format string `json:"format,omitempty"`
	Error  string `json:"error,omitempty"`
}

// MalformedLine is a line that could not be read.
type MalformedLine struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Text   string `json:"text"`
}

// ConsumerUse is one consumer's use of the service.
type ConsumerUse struct {
	ID       string  `json:"id"`
	Name     string  `json:"name,omitempty"`
	Email    string  `json:"email,omitempty"`
	Tier     string  `json:"tier,omitempty"`
	Requests int64   `json:"requests"`
	Share    float64 `json:"share"`
	// FirstSeen and LastSeen are at the log's own offsets.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Days      int       `json:"days"`
	// Features are this consumer's requests per feature (with a plan).
	Features []NamedCount `json:"features,omitempty"`
}

// NamedCount is a name and a number of requests.
type NamedCount struct {
	Name     string `json:"name"`
	Requests int64  `json:"requests"`
}

// EndpointUse is one path's use. Consumers is exact up to 1,024 distinct consumers and a
// HyperLogLog estimate (1.6% relative standard error) above.
type EndpointUse struct {
	Path      string `json:"path"`
	Requests  int64  `json:"requests"`
	Consumers int64  `json:"consumers"`
}

// FeatureUse is one feature's use.
type FeatureUse struct {
	Name      string  `json:"name"`
	Core      bool    `json:"core"`
	Requests  int64   `json:"requests"`
	Consumers int64   `json:"consumers"`
	Share     float64 `json:"share"`
	// TopConsumers are its heaviest callers.
	TopConsumers []ConsumerCount `json:"top_consumers"`
}

// ConsumerCount is a consumer's requests to one feature.
type ConsumerCount struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Tier     string `json:"tier,omitempty"`
	Requests int64  `json:"requests"`
}

// TierUse sums a contact tier.
type TierUse struct {
	Tier      string `json:"tier"`
	Consumers int64  `json:"consumers"`
	Requests  int64  `json:"requests"`
}

// DayUse is one calendar day.
type DayUse struct {
	Date      string `json:"date"`
	Requests  int64  `json:"requests"`
	Consumers int64  `json:"consumers"`
}

// Trend is a least-squares line through the daily requests of the full days (a first or last
// day only partly covered by the logs is left out when at least two full days remain).
type Trend struct {
	// SlopePerDay is the change in requests per day per day.
	SlopePerDay float64 `json:"slope_per_day"`
	// Days is how many days the line was fitted on.
	Days int `json:"days"`
	// Direction is declining, growing or flat (|slope| under 1% of the mean per day).
	Direction string `json:"direction"`
	// ZeroDate is when the line reaches zero requests; empty unless declining.
	ZeroDate string `json:"zero_date,omitempty"`
}

// Heatmap is requests and distinct consumers per hour of week.
type Heatmap struct {
	TimeZone string `json:"timezone"`
	// Days names the rows: Mon … Sun. Requests[d][h] is day d, hour h (local time).
	Days      []string     `json:"days"`
	Requests  [7][24]int64 `json:"requests"`
	Consumers [7][24]int64 `json:"consumers"`
	// Observed[d][h] is how many hours of that slot lie between the first and last request
	// (fractions for the partly covered first and last hour).
	Observed [7][24]float64 `json:"observed"`
}

// QuietWindow is a recommended weekly shutdown window.
type QuietWindow struct {
	// Start is "Sun 02:00" in the heatmap's time zone; Hours is its length.
	Start   string `json:"start"`
	End     string `json:"end"`
	Weekday string `json:"weekday"`
	Hour    int    `json:"hour"`
	Hours   int    `json:"hours"`
	// Requests are all requests seen in the window; RequestsPerWeek averages them over the
	// weeks observed; Share is their share of all requests.
	Requests        int64   `json:"requests"`
	RequestsPerWeek float64 `json:"requests_per_week"`
	Share           float64 `json:"share"`
	// Consumers is how many distinct consumers called in the window, and ConsumerShare their
	// share of all consumers; TopConsumers names the heaviest of them.
	Consumers     int64    `json:"consumers"`
	ConsumerShare float64  `json:"consumer_share"`
	TopConsumers  []string `json:"top_consumers"`
	// Observed is false when an hour of the window was less than half covered by the logs.
	Observed bool `json:"observed"`
}

var dayNames = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// result turns a merged aggregate into the answers.
func (a *aggregate) result(inputs []inputState, opts *Options) *Result {
	top := opts.Top
	if top <= 0 {
		top = 10
	}
	res := &Result{
		Lines: a.lines, Parsed: a.parsed, Malformed: a.malformed, MalformedReasons: a.reasons,
		MalformedExamples: []MalformedLine{}, Requests: a.parsed, Consumers: int64(len(a.consumers)),
		Identity: opts.Identity.String(), all: a,
	}
	a.flush()
	for _, in := range inputs {
		ir := InputResult{Name: in.name, Format: in.format}
		if in.err != nil {
			ir.Error = in.err.Error()
		}
		res.Inputs = append(res.Inputs, ir)
	}
	res.MalformedExamples = a.malformedExamples(inputs, res.MalformedExamples)
	if a.parsed > 0 {
		from := time.Unix(a.firstUnix, 0).In(time.FixedZone("", int(a.firstOff)))
		until := time.Unix(a.lastUnix, 0).In(time.FixedZone("", int(a.lastOff)))
		res.From, res.Until = &from, &until
	}
	keys := make([]string, len(a.consumers))
	for i := range keys {
		keys[i] = a.consumerIdx.str(int32(i))
	}
	res.TopConsumers = a.topConsumers(keys, top, opts)
	res.EndpointsTotal, res.Endpoints = a.topEndpoints(top)
	res.Features = a.featureUses(keys, top, opts)
	res.UnmatchedRequests = a.unmatched
	res.Tiers = a.tierUses(keys, opts)
	var days []int32
	res.Daily, days = a.dailyUses()
	res.Trend = trend(a, days)
	var observed [168]float64
	res.HourOfWeek, observed = a.hourOfWeek(opts.Location)
	res.QuietWindows = quietWindows(a, keys, observed, opts)
	if opts.Hourly {
		res.hourly = a.hourlyCounts(keys, opts)
	}
	return res
}

// share is n's share of all parsed requests, 0 when there are none.
func (a *aggregate) share(n int64) float64 {
	if a.parsed == 0 {
		return 0
	}
	return float64(n) / float64(a.parsed)
}

// malformedExamples appends to out the first malformed lines, in the order of the inputs and
// of the lines within each.
func (a *aggregate) malformedExamples(inputs []inputState, out []MalformedLine) []MalformedLine {
	slices.SortFunc(a.examples, func(x, y example) int {
		return cmp.Or(cmp.Compare(x.block, y.block), cmp.Compare(x.line, y.line))
	})
	for i, e := range a.examples {
		if i == maxExamples {
			break
		}
		out = append(out, MalformedLine{File: inputs[e.block].name, Line: e.line, Reason: e.reason, Text: e.text})
	}
	return out
}

// topConsumers returns the top consumers by requests (ties by identity), each with its
// contact and the features it used, busiest first. keys are the consumers' identities.
func (a *aggregate) topConsumers(keys []string, top int, opts *Options) []ConsumerUse {
	byRequests := func(x, y int32) int {
		return cmp.Or(cmp.Compare(a.consumers[y].requests, a.consumers[x].requests), cmp.Compare(keys[x], keys[y]))
	}
	order := topK(len(a.consumers), top, byRequests)
	perConsumerFeatures := map[int32][]NamedCount{}
	for k, v := range a.featPairs {
		ci := int32(uint32(k))
		perConsumerFeatures[ci] = append(perConsumerFeatures[ci], NamedCount{Name: opts.Features[k>>32].Name, Requests: v})
	}
	out := []ConsumerUse{}
	for _, ci := range order {
		c := &a.consumers[ci]
		ct := opts.Contacts[keys[ci]]
		fs := perConsumerFeatures[ci]
		slices.SortFunc(fs, func(x, y NamedCount) int {
			return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.Name, y.Name))
		})
		out = append(out, ConsumerUse{
			ID: keys[ci], Name: ct.Name, Email: ct.Email, Tier: ct.Tier, Requests: c.requests, Share: a.share(c.requests),
			FirstSeen: time.Unix(c.first, 0).In(time.FixedZone("", int(c.firstOff))),
			LastSeen:  time.Unix(c.last, 0).In(time.FixedZone("", int(c.lastOff))),
			Days:      len(a.consumerDays[ci]), Features: fs,
		})
	}
	return out
}

// topEndpoints returns how many endpoints were called and the busiest of them (ten times top,
// at least 100), with their distinct consumers.
func (a *aggregate) topEndpoints(top int) (total int, out []EndpointUse) {
	paths := make([]string, len(a.endpoints))
	for i := range paths {
		paths[i] = a.endpointIdx.str(int32(i))
	}
	eorder := topK(len(a.endpoints), max(10*top, 100), func(x, y int32) int {
		return cmp.Or(cmp.Compare(a.endpoints[y].requests, a.endpoints[x].requests), cmp.Compare(paths[x], paths[y]))
	})
	out = []EndpointUse{}
	for _, i := range eorder {
		out = append(out, EndpointUse{Path: paths[i], Requests: a.endpoints[i].requests, Consumers: a.endpoints[i].consumers.count()})
	}
	return len(paths), out
}

// featureUses returns the plan's features with their requests and top consumers, busiest first
// (the plan's order among equals); none without a plan.
func (a *aggregate) featureUses(keys []string, top int, opts *Options) []FeatureUse {
	out := []FeatureUse{}
	if len(opts.Features) == 0 {
		return out
	}
	fc := make([][]ConsumerCount, len(opts.Features))
	for k, v := range a.featPairs {
		id := keys[uint32(k)]
		ct := opts.Contacts[id]
		fc[k>>32] = append(fc[k>>32], ConsumerCount{ID: id, Name: ct.Name, Tier: ct.Tier, Requests: v})
	}
	for i, f := range opts.Features {
		cs := fc[i]
		slices.SortFunc(cs, func(x, y ConsumerCount) int {
			return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.ID, y.ID))
		})
		n := int64(len(cs))
		out = append(out, FeatureUse{Name: f.Name, Core: f.Core, Requests: a.featReq[i], Consumers: n, Share: a.share(a.featReq[i]), TopConsumers: append([]ConsumerCount{}, cs[:min(top, len(cs))]...)})
	}
	slices.SortStableFunc(out, func(x, y FeatureUse) int { return cmp.Compare(y.Requests, x.Requests) })
	return out
}

// tierUses returns the consumers and requests per contact tier ("unknown" for consumers
// without one), busiest first; nil without a contacts file.
func (a *aggregate) tierUses(keys []string, opts *Options) []TierUse {
	if opts.Contacts == nil {
		return nil
	}
	tiers := map[string]*TierUse{}
	for i, c := range a.consumers {
		t := opts.Contacts[keys[i]].Tier
		if t == "" {
			t = "unknown"
		}
		if tiers[t] == nil {
			tiers[t] = &TierUse{Tier: t}
		}
		tiers[t].Consumers++
		tiers[t].Requests += c.requests
	}
	var out []TierUse
	for _, t := range tiers {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(x, y TierUse) int {
		return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.Tier, y.Tier))
	})
	return out
}

// dailyUses returns the requests and distinct consumers per day, oldest first, and the days
// themselves.
func (a *aggregate) dailyUses() ([]DayUse, []int32) {
	dayConsumers := map[int32]int64{}
	for i := range a.consumers {
		for _, d := range a.consumerDays[i] {
			dayConsumers[d]++
		}
	}
	days := make([]int32, 0, len(a.daily))
	for d := range a.daily {
		days = append(days, d)
	}
	slices.Sort(days)
	out := []DayUse{}
	for _, d := range days {
		out = append(out, DayUse{Date: dayDate(d), Requests: a.daily[d], Consumers: dayConsumers[d]})
	}
	return out, days
}

// hourOfWeek returns the heatmap of requests and distinct consumers per hour of the week in
// loc, and how much of each slot the logs covered.
func (a *aggregate) hourOfWeek(loc *time.Location) (Heatmap, [168]float64) {
	hm := Heatmap{TimeZone: loc.String(), Days: dayNames}
	var slotConsumers [168]int64
	for i := range a.consumers {
		for w, word := range a.consumers[i].how {
			for word != 0 {
				b := bits.TrailingZeros64(word)
				slotConsumers[w*64+b]++
				word &= word - 1
			}
		}
	}
	var observed [168]float64
	if a.parsed > 0 {
		observed = observedSlots(a.firstUnix, a.lastUnix, loc)
	}
	for s := range 168 {
		hm.Requests[s/24][s%24] = a.how[s]
		hm.Consumers[s/24][s%24] = slotConsumers[s]
		hm.Observed[s/24][s%24] = math.Round(observed[s]*1000) / 1000
	}
	return hm, observed
}

// hourlyCounts returns the requests per consumer, feature and hour, in time order.
func (a *aggregate) hourlyCounts(keys []string, opts *Options) []HourlyCount {
	out := make([]HourlyCount, 0, len(a.hourly))
	for k, v := range a.hourly {
		hc := HourlyCount{Consumer: keys[k.consumer], Hour: time.Unix(int64(k.hour)*3600, 0).UTC(), Requests: v}
		if k.feature >= 0 {
			hc.Feature = opts.Features[k.feature].Name
		}
		out = append(out, hc)
	}
	slices.SortFunc(out, func(x, y HourlyCount) int {
		return cmp.Or(x.Hour.Compare(y.Hour), cmp.Compare(x.Feature, y.Feature), cmp.Compare(x.Consumer, y.Consumer))
	})
	return out
}

// observedSlots measures, per hour-of-week slot, how many hours between first and last fall in
// it; the first and last hour count by the fraction covered.
func observedSlots(first, last int64, loc *time.Location) [168]float64 {
	var obs [168]float64
	if last-first > 5*366*86400 {
		last = first + 5*366*86400
	}
	end := last + 1 // the last second counts
	for h := first - first%3600; h < end; h += 3600 {
		covered := float64(min(h+3600, end)-max(h, first)) / 3600
		lt := time.Unix(h, 0).In(loc)
		obs[(int(lt.Weekday())+6)%7*24+lt.Hour()] += covered
	}
	return obs
}

func trend(a *aggregate, days []int32) Trend {
	if len(days) == 0 {
		return Trend{Direction: "flat"}
	}
	// Leave out partly covered first and last days when two full days remain.
	use := days
	firstDay, lastDay := dayOf(a.firstUnix, a.firstOff), dayOf(a.lastUnix, a.lastOff)
	startsLate := (a.firstUnix+int64(a.firstOff))%86400 > 3600
	endsEarly := (a.lastUnix+int64(a.lastOff))%86400 < 86400-3600
	lo, hi := 0, len(use)
	if startsLate && use[0] == firstDay {
		lo++
	}
	if endsEarly && use[len(use)-1] == lastDay {
		hi--
	}
	if hi-lo >= 2 {
		use = use[lo:hi]
	}
	t := Trend{Days: len(use), Direction: "flat"}
	if len(use) < 2 {
		return t
	}
	// x is the day number (missing days are real zeros only if inside the span; they are not
	// in the daily map, so they are added here as zero-request days).
	var n, sx, sy, sxx, sxy float64
	for d := use[0]; d <= use[len(use)-1]; d++ {
		x, y := float64(d-use[0]), float64(a.daily[d])
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	t.Days = int(n)
	den := n*sxx - sx*sx
	if den == 0 {
		return t
	}
	slope := (n*sxy - sx*sy) / den
	icept := (sy - slope*sx) / n
	t.SlopePerDay = math.Round(slope*100) / 100
	mean := sy / n
	switch {
	case math.Abs(slope) < 0.01*mean:
		t.Direction = "flat"
	case slope < 0:
		t.Direction = "declining"
		zero := -icept / slope
		if zero < 100*365 {
			t.ZeroDate = dayDate(use[0] + int32(math.Ceil(zero)))
		}
	default:
		t.Direction = "growing"
	}
	return t
}

// quietWindows picks the k quietest non-overlapping windows of whole hours on the weekly cycle,
// ranked by requests per observed week. Windows with hours the logs never covered are only used
// when there are not enough fully observed ones.
func quietWindows(a *aggregate, keys []string, observed [168]float64, opts *Options) []QuietWindow {
	hours := int(math.Ceil(opts.Window.Hours()))
	if opts.Window <= 0 {
		hours = 2
	}
	hours = min(max(hours, 1), 168)
	k := opts.Windows
	if k <= 0 {
		k = 3
	}
	type cand struct {
		start    int
		requests int64
		perWeek  float64
		observed bool
	}
	var cands []cand
	for s := range 168 {
		c := cand{start: s, observed: true}
		for h := range hours {
			slot := (s + h) % 168
			c.requests += a.how[slot]
			if observed[slot] < 0.5 {
				c.observed = false
			}
			if observed[slot] > 0 {
				c.perWeek += float64(a.how[slot]) / observed[slot]
			}
		}
		cands = append(cands, c)
	}
	slices.SortStableFunc(cands, func(x, y cand) int {
		if x.observed != y.observed {
			if x.observed {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(x.perWeek, y.perWeek), cmp.Compare(x.requests, y.requests))
	})
	var taken [168]bool
	out := []QuietWindow{}
	for _, c := range cands {
		if len(out) == k || a.parsed == 0 {
			break
		}
		free := true
		for h := range hours {
			free = free && !taken[(c.start+h)%168]
		}
		if !free {
			continue
		}
		var mask [3]uint64
		for h := range hours {
			slot := (c.start + h) % 168
			taken[slot] = true
			mask[slot>>6] |= 1 << (slot & 63)
		}
		var touched []int32
		for i := range a.consumers {
			h := &a.consumers[i].how
			if h[0]&mask[0]|h[1]&mask[1]|h[2]&mask[2] != 0 {
				touched = append(touched, int32(i))
			}
		}
		heaviest := topK(len(touched), 5, func(x, y int32) int {
			x, y = touched[x], touched[y]
			return cmp.Or(cmp.Compare(a.consumers[y].requests, a.consumers[x].requests), cmp.Compare(keys[x], keys[y]))
		})
		names := []string{}
		for _, ti := range heaviest {
			ci := touched[ti]
			n := keys[ci]
			if ct, ok := opts.Contacts[n]; ok && ct.Name != "" {
				n = ct.Name + " (" + n + ")"
			}
			names = append(names, n)
		}
		end := (c.start + hours) % 168
		w := QuietWindow{
			Start: slotName(c.start), End: slotName(end), Weekday: dayNames[c.start/24], Hour: c.start % 24, Hours: hours,
			Requests: c.requests, RequestsPerWeek: math.Round(c.perWeek*100) / 100,
			Share:         float64(c.requests) / float64(a.parsed),
			Consumers:     int64(len(touched)),
			ConsumerShare: float64(len(touched)) / float64(max(1, len(a.consumers))),
			TopConsumers:  names, Observed: c.observed,
		}
		out = append(out, w)
	}
	return out
}

func slotName(s int) string {
	return dayNames[s/24] + " " + twoDigits(s%24) + ":00"
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// topK returns the first k of the indices 0…n-1 in the order of less (a cmp-style function),
// without sorting all n: results list the top few of tens of thousands of consumers.
func topK(n, k int, less func(x, y int32) int) []int32 {
	k = min(k, n)
	out := make([]int32, 0, k+1)
	for i := range int32(n) {
		if len(out) == k && (k == 0 || less(i, out[k-1]) >= 0) {
			continue
		}
		j, _ := slices.BinarySearchFunc(out, i, less)
		out = slices.Insert(out, j, i)
		if len(out) > k {
			out = out[:k]
		}
	}
	return out
}
