package usage

import (
	"bytes"
	"slices"
	"time"
)

// aggregate holds the counts of one worker, or, after merging, of the whole analysis. Keys are
// interned once: a consumer or endpoint seen again costs a map lookup and no allocation.
type aggregate struct {
	lines, parsed, malformed int64
	reasons                  map[string]int64
	examples                 []example

	// consumerIdx numbers consumer keys; consumers[i] is consumer i.
	consumerIdx *interner
	consumers   []consumerStat
	// consumerDays are each consumer's calendar days with at least one request, ascending.
	consumerDays [][]int32
	// consumerHash is keyHash of each consumer's key, for the per-endpoint sketches.
	consumerHash []uint64
	endpointIdx  *interner
	// endpoints holds each endpoint's requests and distinct consumers (exact up to
	// exactLimit, then a sketch: see distinct.go), side by side so that a request touches one
	// cache line. The sketch replaced an exact set of (endpoint, consumer) pairs, which was the
	// largest structure and most of the time on logs with many paths.
	endpoints []endpointStat
	// featPairs counts requests per (feature, consumer): key = feature<<32 | consumer index.
	featPairs map[uint64]int64
	featReq   []int64
	unmatched int64
	// hourly counts requests per (UTC hour, consumer, feature) when Options.Hourly is set.
	hourly map[hourKey]int64

	daily map[int32]int64 // requests per calendar day (each line's own offset)
	// curDay counts the current day's requests outside the map: logs are nearly sorted, so
	// the map is touched once per day change instead of once per line. flush folds it in.
	curDay  int32
	curDayN int64
	how     [168]int64 // requests per hour of week, Monday 00:00 first, in the analysis zone

	firstUnix, lastUnix int64
	firstOff, lastOff   int32
}

// consumerStat is what a request updates per consumer: 64 bytes, one cache line. The consumer's
// days, touched once a day, are kept apart (aggregate.consumerDays).
type consumerStat struct {
	requests          int64
	first, last       int64
	firstOff, lastOff int32
	lastDay           int32     // a day in the consumer's days, the latest added: most requests repeat it
	how               [3]uint64 // hours of week with at least one request
}

// endpointStat is what is kept per endpoint.
type endpointStat struct {
	requests  int64
	consumers distinct
}

// hourKey is an hour (unix hours), a consumer index and a feature index (-1 for none).
type hourKey struct {
	hour     int32
	consumer int32
	feature  int32
}

// example is a malformed line as a worker sees it: block and line within block.
type example struct {
	block  int
	line   int
	reason string
	text   string
}

const maxExamples = 10

func newAggregate(features int) *aggregate {
	return &aggregate{
		reasons:     map[string]int64{},
		consumerIdx: newInterner(),
		endpointIdx: newInterner(),
		featPairs:   map[uint64]int64{},
		featReq:     make([]int64, features),
		daily:       map[int32]int64{},
		hourly:      map[hourKey]int64{},
	}
}

// worker parses blocks into its own aggregate.
type worker struct {
	a     *aggregate
	id    Identity
	loc   *time.Location
	match *featureMatcher
	// hourly keeps aggregate.hourly (Options.Hourly).
	hourly bool
	rec    Record
	key    []byte
	// hour-of-week cache: instants in the same quarter hour fall in the same slot in every
	// real time zone, and logs are nearly sorted, so the time package is rarely consulted.
	howQuarter int64
	howSlot    int
}

// block parses the lines of one block. It returns the number of lines it holds.
func (w *worker) block(b *block) int {
	data := b.data
	if b.oversize {
		w.a.lines++
		w.malformed(b, 1, errTooLong, b.data)
		return 1
	}
	n := 0
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		n++
		w.a.lines++
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		switch {
		case len(line) == 0:
			w.malformed(b, n, errEmpty, line)
			continue
		case len(line) > MaxLineBytes:
			w.malformed(b, n, errTooLong, line)
			continue
		}
		w.rec.reset()
		if err := b.format.Parser.Parse(line, &w.rec); err != nil {
			w.malformed(b, n, err, line)
			continue
		}
		w.add(&w.rec)
	}
	return n
}

func (w *worker) malformed(b *block, line int, err error, text []byte) {
	a := w.a
	a.malformed++
	a.reasons[err.Error()]++
	if len(a.examples) < maxExamples {
		a.examples = append(a.examples, example{block: b.seq, line: line, reason: err.Error(), text: exampleText(text)})
	}
}

// add counts one parsed request.
func (w *worker) add(r *Record) { w.addN(r, 1) }

// addN counts n requests alike (n > 1 comes from pre-aggregated sources such as Prometheus),
// finding their feature by method and path.
func (w *worker) addN(r *Record, n int64) {
	f := -1
	if w.match != nil {
		f = w.match.match(r.Method, r.Path)
	}
	w.addNFeature(r, n, f)
}

// addNFeature counts n requests alike of feature f: an index into the plan's features, or -1
// for none.
func (w *worker) addNFeature(r *Record, n int64, f int) {
	a := w.a
	a.parsed += n
	if a.parsed == 1 || r.Unix < a.firstUnix {
		a.firstUnix, a.firstOff = r.Unix, r.Offset
	}
	if r.Unix > a.lastUnix {
		a.lastUnix, a.lastOff = r.Unix, r.Offset
	}
	day := dayOf(r.Unix, r.Offset)
	if day != a.curDay {
		a.flush()
		a.curDay = day
	}
	a.curDayN += n
	slot := w.slot(r.Unix)
	a.how[slot] += n

	// Consumer.
	w.key = w.id.key(w.key[:0], r)
	ci, isNew := a.consumerIdx.add(w.key)
	if isNew {
		a.consumers = append(a.consumers, consumerStat{first: r.Unix, last: r.Unix, firstOff: r.Offset, lastOff: r.Offset, lastDay: day})
		a.consumerDays = append(a.consumerDays, []int32{day})
		a.consumerHash = append(a.consumerHash, keyHash(w.key))
	}
	c := &a.consumers[ci]
	c.requests += n
	if r.Unix < c.first {
		c.first, c.firstOff = r.Unix, r.Offset
	}
	if r.Unix > c.last {
		c.last, c.lastOff = r.Unix, r.Offset
	}
	c.how[slot>>6] |= 1 << (slot & 63)
	if day != c.lastDay {
		c.lastDay = day
		a.consumerDays[ci] = addDay(a.consumerDays[ci], day)
	}

	// Endpoint.
	ei, isNew := a.endpointIdx.add(r.Path)
	if isNew {
		a.endpoints = append(a.endpoints, endpointStat{})
	}
	e := &a.endpoints[ei]
	e.requests += n
	e.consumers.add(ci, a.consumerHash)

	// Feature.
	if f >= 0 {
		a.featReq[f] += n
		a.featPairs[uint64(f)<<32|uint64(uint32(ci))] += n
	} else if len(a.featReq) > 0 {
		a.unmatched += n
	}
	if w.hourly {
		h := r.Unix / 3600
		if r.Unix < 0 && r.Unix%3600 != 0 {
			h--
		}
		a.hourly[hourKey{hour: int32(h), consumer: ci, feature: int32(f)}] += n
	}
}

// addDay adds day to the ascending days and returns them.
func addDay(days []int32, day int32) []int32 {
	n := len(days)
	if n > 0 && days[n-1] == day {
		return days
	}
	if n == 0 || days[n-1] < day {
		return append(days, day)
	}
	// Out of order: insert in place (rare; logs are nearly sorted).
	i, found := slices.BinarySearch(days, day)
	if found {
		return days
	}
	return slices.Insert(days, i, day)
}

// slot returns the hour-of-week slot (Monday 00:00 = 0) of unix in the worker's zone.
func (w *worker) slot(unix int64) int {
	q := unix / 900
	if unix < 0 {
		q--
	}
	if q == w.howQuarter {
		return w.howSlot
	}
	t := time.Unix(unix, 0).In(w.loc)
	s := (int(t.Weekday())+6)%7*24 + t.Hour()
	w.howQuarter, w.howSlot = q, s
	return s
}

// flush folds the current day's count into the daily map.
func (a *aggregate) flush() {
	if a.curDayN != 0 {
		a.daily[a.curDay] += a.curDayN
		a.curDayN = 0
	}
}

// merge adds o into a. The consumer and endpoint indices of o are remapped to a's.
func (a *aggregate) merge(o *aggregate) {
	a.flush()
	o.flush()
	a.lines += o.lines
	a.parsed += o.parsed
	a.malformed += o.malformed
	for k, v := range o.reasons {
		a.reasons[k] += v
	}
	a.examples = append(a.examples, o.examples...)
	if o.parsed > 0 {
		if a.parsed == o.parsed || o.firstUnix < a.firstUnix {
			a.firstUnix, a.firstOff = o.firstUnix, o.firstOff
		}
		if o.lastUnix > a.lastUnix {
			a.lastUnix, a.lastOff = o.lastUnix, o.lastOff
		}
	}
	// Grow once to the most that can come, rather than by doubling, which would leave
	// garbage the size of the tables at the moment memory peaks.
	a.consumers = slices.Grow(a.consumers, len(o.consumers))
	a.consumerDays = slices.Grow(a.consumerDays, len(o.consumers))
	a.consumerHash = slices.Grow(a.consumerHash, len(o.consumers))
	a.endpoints = slices.Grow(a.endpoints, len(o.endpoints))
	cmap := make([]int32, len(o.consumers))
	for oi := range int32(o.consumerIdx.len()) {
		oc := &o.consumers[oi]
		ai, isNew := a.consumerIdx.add(o.consumerIdx.key(oi))
		if isNew {
			a.consumers = append(a.consumers, *oc)
			a.consumerDays = append(a.consumerDays, o.consumerDays[oi])
			a.consumerHash = append(a.consumerHash, o.consumerHash[oi])
			cmap[oi] = ai
			continue
		}
		cmap[oi] = ai
		c := &a.consumers[ai]
		c.requests += oc.requests
		if oc.first < c.first {
			c.first, c.firstOff = oc.first, oc.firstOff
		}
		if oc.last > c.last {
			c.last, c.lastOff = oc.last, oc.lastOff
		}
		for i := range c.how {
			c.how[i] |= oc.how[i]
		}
		for _, d := range o.consumerDays[oi] {
			a.consumerDays[ai] = addDay(a.consumerDays[ai], d)
		}
	}
	for oi := range int32(o.endpointIdx.len()) {
		ai, isNew := a.endpointIdx.add(o.endpointIdx.key(oi))
		if isNew {
			a.endpoints = append(a.endpoints, endpointStat{})
		}
		a.endpoints[ai].requests += o.endpoints[oi].requests
		a.endpoints[ai].consumers.merge(&o.endpoints[oi].consumers, cmap, a.consumerHash)
		o.endpoints[oi].consumers = distinct{} // release the worker's copy early
	}
	for i, v := range o.featReq {
		a.featReq[i] += v
	}
	a.unmatched += o.unmatched
	for k, v := range o.featPairs {
		a.featPairs[k&^0xffffffff|uint64(uint32(cmap[uint32(k)]))] += v
	}
	for k, v := range o.hourly {
		k.consumer = cmap[k.consumer]
		a.hourly[k] += v
	}
	for d, v := range o.daily {
		a.daily[d] += v
	}
	for i, v := range o.how {
		a.how[i] += v
	}
}
