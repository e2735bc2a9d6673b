package main

// item is one entry of a timer heap: due is nanoseconds on the program's
// monotonic clock (see mono), id the resource or operation.
type item struct {
	due int64
	id  int32
}

// timerHeap is a binary min-heap of items by due: the floor's whole
// scheduler state, one timer in front of it.
type timerHeap []item

func (h *timerHeap) push(it item) {
	*h = append(*h, it)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].due <= s[i].due {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

// fix restores the heap after the root's due changed.
func (h timerHeap) fix() {
	n := len(h)
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r].due < h[l].due {
			m = r
		}
		if h[i].due <= h[m].due {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// pop removes the root.
func (h *timerHeap) pop() item {
	s := *h
	it := s[0]
	s[0] = s[len(s)-1]
	*h = s[:len(s)-1]
	h.fix()
	return it
}
