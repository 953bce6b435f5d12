package usage

import (
	"math"
	"math/bits"
	"slices"
)

// Per-endpoint distinct consumers are counted exactly up to exactLimit and estimated above it
// with a HyperLogLog sketch of 2^hllP one-byte registers (4 KiB), whose relative standard error
// is 1.04/√4096 ≈ 1.6%. The exact set never takes more room than the sketch that replaces it:
// at most 1024 four-byte consumer indices. The total number of distinct consumers, the daily and
// hour-of-week consumer counts and the per-feature consumers stay exact: they come from the
// consumer table, not from these sets.
const (
	hllP       = 12
	hllM       = 1 << hllP
	exactLimit = 1024 // 4 KiB of consumer indices, the size of the sketch
)

// distinct counts the distinct consumers of one endpoint. Consumers are the worker's consumer
// indices; their hashes (the same for the same key in every worker) feed the sketch, so sets and
// sketches of different workers merge into what one worker would have counted.
type distinct struct {
	// set holds the consumer indices seen, ascending and without gaps (4 bytes per consumer:
	// most endpoints have few consumers, and a hash table's empty slots would double that);
	// nil once the sketch took over.
	set []uint32
	// regs are the sketch's registers, nil while the count is exact.
	regs *[hllM]uint8
}

// add records consumer ci, whose key hashes to hashes[ci].
func (d *distinct) add(ci int32, hashes []uint64) {
	if d.regs != nil {
		d.sketch(hashes[ci])
		return
	}
	v := uint32(ci)
	// Consumers repeat: look at the last one inserted before searching.
	n := len(d.set)
	if n > 0 && d.set[n-1] == v {
		return
	}
	i, found := slices.BinarySearch(d.set, v)
	if found {
		return
	}
	if n == exactLimit {
		d.toSketch(hashes)
		d.sketch(hashes[ci])
		return
	}
	d.set = slices.Insert(d.set, i, v)
}

// toSketch moves the exact set into a new sketch.
func (d *distinct) toSketch(hashes []uint64) {
	d.regs = new([hllM]uint8)
	for _, v := range d.set {
		d.sketch(hashes[v])
	}
	d.set = nil
}

// sketch adds a consumer hash to the registers: the top hllP bits choose the register, which
// keeps the longest run of leading zeros (+1) seen in the remaining bits.
func (d *distinct) sketch(h uint64) {
	r := uint8(min(bits.LeadingZeros64(h<<hllP), 64-hllP) + 1)
	if i := h >> (64 - hllP); r > d.regs[i] {
		d.regs[i] = r
	}
}

// merge adds o, whose consumer indices map to d's through cmap, into d.
func (d *distinct) merge(o *distinct, cmap []int32, hashes []uint64) {
	if o.regs == nil {
		if d.regs != nil {
			for _, v := range o.set {
				d.sketch(hashes[cmap[v]])
			}
			return
		}
		// Remap o's set in place (it is released after the merge), sort it, and merge the two
		// sorted sets into one allocation.
		theirs := o.set
		for i, v := range theirs {
			theirs[i] = uint32(cmap[v])
		}
		slices.Sort(theirs)
		ours := d.set
		out := make([]uint32, 0, min(len(ours)+len(theirs), exactLimit+1))
		i, j := 0, 0
		for (i < len(ours) || j < len(theirs)) && len(out) <= exactLimit {
			switch {
			case j == len(theirs) || i < len(ours) && ours[i] < theirs[j]:
				out = append(out, ours[i])
				i++
			case i == len(ours) || theirs[j] < ours[i]:
				out = append(out, theirs[j])
				j++
			default:
				out = append(out, ours[i])
				i++
				j++
			}
		}
		if len(out) <= exactLimit {
			d.set = out
			return
		}
		// More than exactLimit together: sketch them all.
		d.toSketch(hashes)
		for _, v := range theirs {
			d.sketch(hashes[v])
		}
		return
	}
	if d.regs == nil {
		d.toSketch(hashes)
	}
	for i, r := range o.regs {
		d.regs[i] = max(d.regs[i], r)
	}
}

// count returns the exact count, or the sketch's estimate.
func (d *distinct) count() int64 {
	if d.regs == nil {
		return int64(len(d.set))
	}
	return hllEstimate(d.regs[:])
}

// hllEstimate is Otmar Ertl's improved raw estimator ("New cardinality estimation algorithms for
// HyperLogLog sketches", 2017, algorithm 6): unbiased from small to large cardinalities without
// the empirical bias tables of HyperLogLog++ or a switch to linear counting.
func hllEstimate(regs []uint8) int64 {
	const q = 64 - hllP
	var c [q + 2]float64
	for _, r := range regs {
		c[r]++
	}
	m := float64(len(regs))
	z := m * hllTau(1-c[q+1]/m)
	for k := q; k >= 1; k-- {
		z = 0.5 * (z + c[k])
	}
	z += m * hllSigma(c[0]/m)
	return int64(math.Round(m * m / (2 * math.Ln2) / z))
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += x * y
		y += y
		if z == prev {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == prev {
			return z / 3
		}
	}
}

// keyHash is a 64-bit hash of a consumer key, the same in every worker and every run (FNV-1a
// with a final avalanche, so that every bit depends on every input byte as the sketch needs).
func keyHash(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
