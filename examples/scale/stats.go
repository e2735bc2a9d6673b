package main

import (
	"slices"
	"sync/atomic"
	"time"
)

// samples records durations from many goroutines into storage allocated up
// front (so recording neither allocates nor moves the heap figures);
// samples past its capacity are counted and dropped.
type samples struct {
	buf     []int64
	n       atomic.Int64
	dropped atomic.Int64
}

func newSamples(capacity int) *samples { return &samples{buf: make([]int64, capacity)} }

func (s *samples) add(d time.Duration) {
	i := s.n.Add(1) - 1
	if i >= int64(len(s.buf)) {
		s.dropped.Add(1)
		return
	}
	atomic.StoreInt64(&s.buf[i], int64(d))
}

func (s *samples) reset() { s.n.Store(0); s.dropped.Store(0) }

func (s *samples) count() int { return int(min(s.n.Load(), int64(len(s.buf)))) }

// quantiles returns the p50 and p99 of what was recorded (0, 0 when
// nothing was), from a copy: late recorders may still be writing.
func (s *samples) quantiles() (p50, p99 time.Duration) {
	v := make([]int64, s.count())
	for i := range v {
		v[i] = atomic.LoadInt64(&s.buf[i])
	}
	if len(v) == 0 {
		return 0, 0
	}
	slices.Sort(v)
	return time.Duration(v[len(v)/2]), time.Duration(v[min(len(v)-1, len(v)*99/100)])
}
