package gateway

import (
	"hash/maphash"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/sunsetops/sunset/usage"
)

// usageShards is the number of independent counter maps. A request picks one at random, so
// goroutines on different CPUs rarely meet on one lock, even when one consumer sends everything.
const usageShards = 64

// maxUsageKeys bounds the distinct (feature, consumer, hour) keys one shard holds between
// flushes; past it, new consumers are counted as OtherConsumer so that a caller inventing ids
// cannot exhaust memory.
const maxUsageKeys = 50_000

// maxAware bounds the consumers whose first warning is remembered.
const maxAware = 1_000_000

// OtherConsumer stands for the consumers counted past the memory bound; it is
// usage.OtherConsumer.
const OtherConsumer = usage.OtherConsumer

// Usage counts requests per feature, consumer and hour, and remembers when each consumer was
// first served a Deprecation header. It is safe for concurrent use; Drain hands the counts over.
type Usage struct {
	shards [usageShards]usageShard
	aware  [usageShards]awareShard
	seed   maphash.Seed
}

type usageKey struct {
	feature  string
	consumer string
	hour     int64 // Unix seconds of the hour's start
}

type usageShard struct {
	mu     sync.Mutex
	counts map[usageKey]usageCount
	_      [40]byte // keep shards on separate cache lines
}

// usageCount is what one key counted: requests, and of those the answers that were errors; last
// is the Unix nanosecond of the latest request counted.
type usageCount struct {
	n, errors uint64
	last      int64
}

type awareShard struct {
	// seen holds the consumers already told (string → struct{}). A sync.Map, because after the
	// first request of each consumer it is only read, and its reads take no lock: concurrent
	// requests of one consumer do not bounce a lock's cache line between CPUs.
	seen sync.Map
	// mu guards n and pending, and makes the check-then-store of a new consumer atomic.
	mu      sync.Mutex
	n       int
	pending []Awareness
}

// Count is one counter of a Batch; the type lives in the usage domain, which the control plane
// stores without importing the gateway.
type Count = usage.Count

// Awareness records the first time a consumer was served a Deprecation header; the type lives in
// the usage domain.
type Awareness = usage.Awareness

// NewUsage returns empty counters.
func NewUsage() *Usage {
	u := &Usage{seed: maphash.MakeSeed()}
	for i := range u.shards {
		u.shards[i].counts = map[usageKey]usageCount{}
	}
	return u
}

// Count adds one request of consumer to feature at now.
func (u *Usage) Count(feature, consumer string, now time.Time) {
	k := usageKey{feature: feature, consumer: consumer, hour: now.Unix() - mod(now.Unix(), 3600)}
	s := &u.shards[rand.Uint32()%usageShards]
	s.mu.Lock()
	if _, ok := s.counts[k]; !ok && len(s.counts) >= maxUsageKeys {
		k.consumer = OtherConsumer
	}
	c := s.counts[k]
	c.n++
	c.last = max(c.last, now.UnixNano())
	s.counts[k] = c
	s.mu.Unlock()
}

// Error records that a request of consumer to feature, counted at now, was answered with a
// server error.
func (u *Usage) Error(feature, consumer string, now time.Time) {
	k := usageKey{feature: feature, consumer: consumer, hour: now.Unix() - mod(now.Unix(), 3600)}
	s := &u.shards[rand.Uint32()%usageShards]
	s.mu.Lock()
	if _, ok := s.counts[k]; !ok && len(s.counts) >= maxUsageKeys {
		k.consumer = OtherConsumer
	}
	c := s.counts[k]
	c.errors++
	s.counts[k] = c
	s.mu.Unlock()
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// Told records that consumer was served a Deprecation header at now, if it is the first time
// this process sees it. Anonymous requests ("") are not recorded.
func (u *Usage) Told(consumer string, now time.Time) {
	if consumer == "" {
		return
	}
	s := &u.aware[maphash.String(u.seed, consumer)%usageShards]
	if _, ok := s.seen.Load(consumer); ok {
		return
	}
	s.mu.Lock()
	if _, ok := s.seen.Load(consumer); !ok && s.n < maxAware/usageShards {
		s.seen.Store(consumer, struct{}{})
		s.n++
		s.pending = append(s.pending, Awareness{Consumer: consumer, FirstSeen: now.UTC()})
	}
	s.mu.Unlock()
}

// Drain returns every count and first warning recorded since the last Drain, and resets the
// counts. Counts are merged across shards and sorted.
func (u *Usage) Drain() ([]Count, []Awareness) {
	merged := map[usageKey]usageCount{}
	for i := range u.shards {
		s := &u.shards[i]
		s.mu.Lock()
		counts := s.counts
		s.counts = make(map[usageKey]usageCount, len(counts))
		s.mu.Unlock()
		for k, c := range counts {
			m := merged[k]
			m.n += c.n
			m.errors += c.errors
			m.last = max(m.last, c.last)
			merged[k] = m
		}
	}
	var out []Count
	for k, c := range merged {
		cnt := Count{Feature: k.feature, Consumer: k.consumer, Hour: time.Unix(k.hour, 0).UTC(), Count: c.n, Errors: min(c.errors, c.n)}
		if c.last > 0 {
			cnt.LastAt = time.Unix(0, c.last).UTC()
		}
		out = append(out, cnt)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Hour.Equal(b.Hour) {
			return a.Hour.Before(b.Hour)
		}
		if a.Feature != b.Feature {
			return a.Feature < b.Feature
		}
		return a.Consumer < b.Consumer
	})
	var aware []Awareness
	for i := range u.aware {
		s := &u.aware[i]
		s.mu.Lock()
		aware = append(aware, s.pending...)
		s.pending = nil
		s.mu.Unlock()
	}
	sort.Slice(aware, func(i, j int) bool { return aware[i].Consumer < aware[j].Consumer })
	return out, aware
}
