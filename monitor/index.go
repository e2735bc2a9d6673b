package monitor

import (
	"hash/maphash"
	"iter"
)

// index is the monitor's entries by name. A map[string]*entry keeps a copy
// of each name's header beside the pointer, 24 bytes a slot, and at
// 100 000 resources cost about 35 bytes a resource; issue 10 counts the
// bytes per hosted resource, and the name is in the entry already. index
// keeps only the pointers, and one tag byte each: an open-addressing hash
// set (linear probing, at most 7/8 full, deletion by shifting back, so no
// tombstones), about 12–20 bytes a resource.
//
// Its zero value is empty and ready to use. It is not safe for concurrent
// use: the monitor guards it with Monitor.mu.
type index struct {
	seed  maphash.Seed
	slots []*entry // len is a power of two, or 0
	tags  []uint8  // per slot: 0 when empty, else tagOf the name's hash
	n     int
}

// tagOf is a hash's top seven bits with the high bit set: never 0, so it
// marks a slot taken, and a probe compares names only when tags match.
func tagOf(h uint64) uint8 { return uint8(h>>57) | 0x80 }

// hash is name's hash under x's seed, which the first grow made.
func (x *index) hash(name string) uint64 { return maphash.String(x.seed, name) }

// len returns the number of entries.
func (x *index) len() int { return x.n }

// get returns the entry named name, or nil.
func (x *index) get(name string) *entry {
	if x.n == 0 {
		return nil
	}
	h := x.hash(name)
	mask, tag := uint64(len(x.slots)-1), tagOf(h)
	for i := h & mask; x.tags[i] != 0; i = (i + 1) & mask {
		if x.tags[i] == tag && x.slots[i].name == name {
			return x.slots[i]
		}
	}
	return nil
}

// add adds e, whose name it does not hold.
func (x *index) add(e *entry) {
	if (x.n+1)*8 > len(x.slots)*7 {
		x.grow()
	}
	x.place(e, x.hash(e.name))
	x.n++
}

// place puts e in the first free slot from its hash's home.
func (x *index) place(e *entry, h uint64) {
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.tags[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i], x.tags[i] = e, tagOf(h)
}

func (x *index) grow() {
	old := x.slots
	if old == nil {
		x.seed = maphash.MakeSeed()
	}
	size := max(8, 2*len(old))
	x.slots, x.tags = make([]*entry, size), make([]uint8, size)
	for _, e := range old {
		if e != nil {
			x.place(e, x.hash(e.name))
		}
	}
}

// remove removes the entry named name, if there is one.
func (x *index) remove(name string) {
	if x.n == 0 {
		return
	}
	h := x.hash(name)
	mask, tag := uint64(len(x.slots)-1), tagOf(h)
	i := h & mask
	for ; ; i = (i + 1) & mask {
		if x.tags[i] == 0 {
			return
		}
		if x.tags[i] == tag && x.slots[i].name == name {
			break
		}
	}
	// Shift back each later entry of the run that may sit in the hole: one
	// whose home is not cyclically in (i, j].
	for j := (i + 1) & mask; x.tags[j] != 0; j = (j + 1) & mask {
		home := x.hash(x.slots[j].name) & mask
		if (j-home)&mask >= (j-i)&mask {
			x.slots[i], x.tags[i] = x.slots[j], x.tags[j]
			i = j
		}
	}
	x.slots[i], x.tags[i] = nil, 0
	x.n--
}

// all yields every entry, in no particular order. The index must not
// change while it runs.
func (x *index) all() iter.Seq[*entry] {
	return func(yield func(*entry) bool) {
		for _, e := range x.slots {
			if e != nil && !yield(e) {
				return
			}
		}
	}
}
