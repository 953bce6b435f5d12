package policy

import (
	"fmt"
	"math"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// percentSlot is the window of a percentage brownout without a weekly schedule: a consumer
// picked for one hour fails for that whole hour, then is drawn again, so a 10% brownout hurts
// one caller in ten consistently instead of one request in ten at random.
const percentSlot = time.Hour

// defaultBrownoutStatus is the status of a brownout that names none.
const defaultBrownoutStatus = http503

const http503 = 503

// brownout is one compiled brownout entry.
type brownout struct {
	index       int
	from, until time.Time
	// end is the last instant a window may still be open: until plus one window.
	end    time.Time
	weekly plan.Weekly
	dur    time.Duration
	// share is the percentage in hundredths (0..10000); 10000 means every request.
	share    uint64
	status   int
	scope    []uint64 // bit set of feature indices, the service at bit len(features); nil for all
	laggards bool
}

func newBrownout(bs BrownoutSnapshot, index map[string]int, nFeatures int) (brownout, error) {
	b := brownout{from: bs.From, until: bs.Until, status: bs.Status, laggards: bs.Audience == "laggards"}
	if b.status == 0 {
		b.status = defaultBrownoutStatus
	}
	if b.status < 400 || b.status > 599 {
		return b, fmt.Errorf("status %d is not an error status", b.status)
	}
	switch {
	case bs.Percent <= 0 || bs.Percent >= 100 || math.IsNaN(bs.Percent):
		b.share = 10000
	default:
		b.share = uint64(math.Round(bs.Percent * 100))
	}
	if bs.Every != "" {
		w, err := plan.ParseWeekly(bs.Every)
		if err != nil {
			return b, err
		}
		if bs.ForSeconds <= 0 {
			return b, fmt.Errorf("weekly windows need a duration")
		}
		b.weekly, b.dur = w, time.Duration(bs.ForSeconds)*time.Second
	} else {
		if bs.Percent <= 0 {
			return b, fmt.Errorf("a brownout needs either every or percent")
		}
		b.dur = percentSlot
	}
	b.end = b.until.Add(b.dur)
	if len(bs.Features) > 0 {
		b.scope = make([]uint64, (nFeatures+1+63)/64)
		for _, name := range bs.Features {
			i, ok := index[name]
			if !ok {
				return b, fmt.Errorf("unknown feature %q", name)
			}
			b.scope[i/64] |= 1 << (i % 64)
		}
	}
	return b, nil
}

// covers reports whether the brownout applies to feature index i (-1 the service).
func (b *brownout) covers(i, nFeatures int) bool {
	if b.scope == nil {
		return true
	}
	if i < 0 {
		i = nFeatures
	}
	return b.scope[i/64]&(1<<(i%64)) != 0
}

// window returns the window of the brownout open at now, if any.
func (b *brownout) window(now time.Time, loc *time.Location) (start, end time.Time, ok bool) {
	if now.Before(b.from) || !now.Before(b.end) {
		return time.Time{}, time.Time{}, false
	}
	if b.weekly.IsZero() {
		if !now.Before(b.until) {
			return time.Time{}, time.Time{}, false
		}
		start = b.from.Add(now.Sub(b.from).Truncate(b.dur))
		end = start.Add(b.dur)
		if end.After(b.until) {
			end = b.until
		}
		return start, end, true
	}
	start = b.weekly.Prev(now, loc)
	if start.IsZero() || start.Before(b.from) || !start.Before(b.until) {
		return time.Time{}, time.Time{}, false
	}
	end = start.Add(b.dur)
	if !now.Before(end) {
		return time.Time{}, time.Time{}, false
	}
	return start, end, true
}

// picks reports whether consumer fails in the window that starts at start: always for a
// brownout without a share, otherwise for a deterministic share of consumers, drawn again in
// every window (FNV-1a of the consumer, the window start and the brownout).
func (b *brownout) picks(consumer string, start time.Time) bool {
	if b.share >= 10000 {
		return true
	}
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(consumer); i++ {
		h ^= uint64(consumer[i])
		h *= prime
	}
	u := uint64(start.Unix())
	for i := 0; i < 8; i++ {
		h ^= u & 0xff
		h *= prime
		u >>= 8
	}
	h ^= uint64(b.index)
	h *= prime
	// Finish with a mixer so that nearby inputs spread over the whole range.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h%10000 < b.share
}
