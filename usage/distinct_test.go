package usage

import (
	"fmt"
	"math"
	"testing"
)

// hashesFor returns the key hashes of consumers "c0"…"c{n-1}".
func hashesFor(n int) []uint64 {
	h := make([]uint64, n)
	for i := range h {
		h[i] = keyHash(fmt.Appendf(nil, "c%d", i))
	}
	return h
}

func TestEndpointConsumersAreExactUpToTheLimit(t *testing.T) {
	hashes := hashesFor(exactLimit)
	var d distinct
	for round := range 3 {
		for i := range exactLimit {
			d.add(int32((i*7+round)%exactLimit), hashes)
		}
	}
	if d.regs != nil || d.count() != exactLimit {
		t.Fatalf("count = %d (sketch %v), want exactly %d", d.count(), d.regs != nil, exactLimit)
	}
}

func TestEndpointConsumersAboveTheLimitAreEstimatedWithinTheStatedError(t *testing.T) {
	const stdErr = 1.04 / 64 // 1.04/√4096
	for _, n := range []int{exactLimit + 1, 3000, 10000, 50000, 1000000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			hashes := hashesFor(n)
			var d distinct
			for i := range n {
				d.add(int32(i), hashes)
			}
			got := float64(d.count())
			if rel := math.Abs(got-float64(n)) / float64(n); rel > 3*stdErr {
				t.Errorf("estimate %v for %d: error %.2f%%, more than 3 standard errors (%.2f%%)", got, n, 100*rel, 300*stdErr)
			}
		})
	}
}

func TestMergedEndpointConsumersEqualOneWorkersCount(t *testing.T) {
	for _, n := range []int{100, exactLimit, exactLimit * 3 / 2, 2 * exactLimit, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			hashes := hashesFor(n)
			var one, a, b distinct
			// Worker b numbers consumers in reverse; cmap maps them back.
			cmap := make([]int32, n)
			hb := make([]uint64, n)
			for i := range n {
				cmap[n-1-i] = int32(i)
				hb[n-1-i] = hashes[i]
			}
			want := int64(0)
			for i := range n {
				if i%2 == 0 || i%3 == 0 {
					one.add(int32(i), hashes)
					want++
				}
				if i%3 == 0 {
					a.add(int32(i), hashes)
				}
				if i%2 == 0 || i%3 == 0 {
					b.add(int32(n-1-i), hb)
				}
			}
			a.merge(&b, cmap, hashes)
			if a.count() != one.count() {
				t.Errorf("merged count %d, one worker %d", a.count(), one.count())
			}
			if want <= exactLimit && a.count() != want {
				t.Errorf("merged exact count %d, want %d", a.count(), want)
			}
		})
	}
}
