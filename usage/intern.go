package usage

import (
	"encoding/binary"
	"hash/maphash"
)

// interner numbers distinct byte strings 0, 1, 2… in the order they are first seen. It replaces
// a map[string]int32 on the hot path: the keys live in one byte arena (no allocation per key,
// nothing for the garbage collector to scan), and each table slot holds a 32-bit tag of the
// key's hash, its length and, for keys of at most 16 bytes (IPv4 addresses, short paths), the
// key itself. So a lookup of a short key costs one cache miss, and of a longer one two, as a
// Go map's lookup does.
type interner struct {
	seed  maphash.Seed
	arena []byte
	ends  []int  // key i is arena[ends[i-1]:ends[i]]
	table []slot // a power of two long, at most half full
}

// inlineKey is the longest key kept in its slot.
const inlineKey = 16

// slot is one table entry; n == 0 is empty.
type slot struct {
	tag  uint32
	n    uint32 // key number + 1
	size int    // key length
	// data is the key when size <= inlineKey, else data[:8] is its offset in the arena.
	data [inlineKey]byte
}

// equal reports whether e holds k.
func (in *interner) equal(e *slot, k []byte) bool {
	if e.size != len(k) {
		return false
	}
	if len(k) <= inlineKey {
		return string(e.data[:len(k)]) == string(k)
	}
	off := int(binary.LittleEndian.Uint64(e.data[:8]))
	return string(in.arena[off:off+len(k)]) == string(k)
}

// slotKey returns the key e holds.
func (in *interner) slotKey(e *slot) []byte {
	if e.size <= inlineKey {
		return e.data[:e.size]
	}
	off := int(binary.LittleEndian.Uint64(e.data[:8]))
	return in.arena[off : off+e.size]
}

func newInterner() *interner {
	return &interner{seed: maphash.MakeSeed(), table: make([]slot, 64)}
}

// len returns how many keys are interned.
func (in *interner) len() int { return len(in.ends) }

// key returns key i; the bytes stay valid until the next add.
func (in *interner) key(i int32) []byte {
	start := 0
	if i > 0 {
		start = in.ends[i-1]
	}
	return in.arena[start:in.ends[i]]
}

// str returns key i as a string.
func (in *interner) str(i int32) string { return string(in.key(i)) }

// find returns the number of k, or false when it was never added.
func (in *interner) find(k []byte) (int32, bool) {
	h := maphash.Bytes(in.seed, k)
	tag := uint32(h >> 32)
	mask := uint64(len(in.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := &in.table[i]
		if e.n == 0 {
			return -1, false
		}
		if e.tag == tag && in.equal(e, k) {
			return int32(e.n - 1), true
		}
	}
}

// add returns the number of k, adding it when it is new (isNew is then true).
func (in *interner) add(k []byte) (n int32, isNew bool) {
	h := maphash.Bytes(in.seed, k)
	tag := uint32(h >> 32)
	mask := uint64(len(in.table) - 1)
	i := h & mask
	for ; ; i = (i + 1) & mask {
		e := &in.table[i]
		if e.n == 0 {
			break
		}
		if e.tag == tag && in.equal(e, k) {
			return int32(e.n - 1), false
		}
	}
	n = int32(len(in.ends))
	start := len(in.arena)
	in.arena = append(in.arena, k...)
	in.ends = append(in.ends, len(in.arena))
	e := &in.table[i]
	*e = slot{tag: tag, n: uint32(n + 1), size: len(k)}
	if len(k) <= inlineKey {
		copy(e.data[:], k)
	} else {
		binary.LittleEndian.PutUint64(e.data[:8], uint64(start))
	}
	if 2*len(in.ends) > len(in.table) {
		in.grow()
	}
	return n, true
}

// grow doubles the table; the arena stays, so only the slots move (rehashing the keys).
func (in *interner) grow() {
	t := make([]slot, 2*len(in.table))
	mask := uint64(len(t) - 1)
	for _, e := range in.table {
		if e.n == 0 {
			continue
		}
		h := maphash.Bytes(in.seed, in.slotKey(&e))
		i := h & mask
		for t[i].n != 0 {
			i = (i + 1) & mask
		}
		t[i] = e
	}
	in.table = t
}
