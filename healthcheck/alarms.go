package healthcheck

import (
	"math"
	"time"
	"unsafe"

	"github.com/resdll/resdll/resource"
)

// alarm is one kind of check of one registration, or one Timer, in the
// scheduler's timer heap. When it is due is its heap entry's due (an alarm
// not in the heap has no due time); how often a registration's alarm ticks
// is in the registration's policy (every), not kept twice. It finds what to
// run through owner and op, not through a closure: a closure per alarm
// would cost an allocation per registration and kind.
type alarm struct {
	// owner is the *registration whose check of kind op this alarm ticks,
	// or, when op is resource.OpNone, the *Timer this alarm is: one word
	// for either, converted back only to the type op says. Set with op
	// before the alarm is first pushed, never changed: a worker reads
	// both without tmu.
	owner unsafe.Pointer
	index int32       // position in Scheduler.heap; -1 when not in it; guarded by Scheduler.tmu
	op    resource.Op // OpIsAlive or OpLooksAlive, or OpNone for a Timer
}

// every returns the time between the ticks of a, a registration's alarm:
// its kind's interval under the registration's policy. Called with tmu
// held, which keeps the policy from changing (registration.policy).
func (a *alarm) every() time.Duration {
	p := (*registration)(a.owner).policy
	if a.op == resource.OpLooksAlive {
		return p.LooksAliveInterval
	}
	return p.IsAliveInterval
}

// due is an alarm that is due, waiting for a worker: a registration's
// tick, or a Timer's firing with the generation it fired for.
type due struct {
	a   *alarm
	gen uint64       // a Timer's: the arm that fired
	h   TimerHandler // a Timer's: that arm's handler, read under tmu when it fired
}

// run runs d's tick or firing, on a worker.
func (d due) run() {
	if d.a.op == resource.OpNone {
		d.h.OnTimer(d.gen)
		return
	}
	(*registration)(d.a.owner).tick(d.a.op)
}

// entry is one slot of the heap: the due time is kept inline, so that
// sifting compares within the array and touches an alarm only to move it.
type entry struct {
	due int64 // nanoseconds since Scheduler.epoch
	a   *alarm
}

// The timer heap: a 4-ary min-heap of alarms on due, each alarm knowing
// its index so that it can be moved or removed in O(log n). One clock
// timer is set for the earliest; its callback starts every check that is
// due and moves each alarm on by its interval in place.
//
// Four children, not two, as the runtime's own timer heap: sifting
// compares within the array, which is cheap, but every level it moves an
// entry it writes that entry's alarm, in a registration somewhere on the
// heap; with a node's hundred thousand targets each such write is a cache
// miss, and a 4-ary heap has half the levels. Sifting moves a hole rather
// than swapping, so each level moves one entry, not two.

// arity is the number of children of a heap node.
const arity = 4

// up moves the entry at i towards the root until its parent is not later.
func (s *Scheduler) up(i int) {
	h := s.heap
	e := h[i]
	for i > 0 {
		p := (i - 1) / arity
		if h[p].due <= e.due {
			break
		}
		h[i] = h[p]
		h[i].a.index = int32(i)
		i = p
	}
	h[i] = e
	e.a.index = int32(i)
}

// down moves the entry at i away from the root until no child is earlier,
// and reports whether it moved.
func (s *Scheduler) down(i int) bool {
	h := s.heap
	n := len(h)
	e, i0 := h[i], i
	for {
		c := arity*i + 1
		if c >= n {
			break
		}
		m := c // the earliest child, the first of equals
		for j := c + 1; j < min(c+arity, n); j++ {
			if h[j].due < h[m].due {
				m = j
			}
		}
		if h[m].due >= e.due {
			break
		}
		h[i] = h[m]
		h[i].a.index = int32(i)
		i = m
	}
	h[i] = e
	e.a.index = int32(i)
	return i != i0
}

// due returns when a, which is in the heap, is due. Called with tmu held.
func (s *Scheduler) due(a *alarm) int64 { return s.heap[a.index].due }

// push adds a, not in the heap, due at due, and reports whether a is the
// new earliest, for which the caller brings the timer forward (rearm).
// Called with tmu held.
func (s *Scheduler) push(a *alarm, due int64) (earliest bool) {
	a.index = int32(len(s.heap))
	s.heap = append(s.heap, entry{due, a})
	s.up(int(a.index))
	return a.index == 0
}

// remove takes a out of the heap, when it is in it. The timer is left as
// it is: when a was the earliest it fires once for nothing and re-arms.
// Called with tmu held.
func (s *Scheduler) remove(a *alarm) {
	i := int(a.index)
	if i < 0 {
		return
	}
	last := len(s.heap) - 1
	if i != last {
		s.heap[i] = s.heap[last] // the last entry fills the hole, then sifts
	}
	s.heap[last] = entry{}
	s.heap = s.heap[:last]
	a.index = -1
	if i != last && !s.down(i) {
		s.up(i)
	}
	if len(s.heap) == 0 && cap(s.heap) > 64 {
		s.heap = nil // a scheduler whose many targets all went holds nothing
	}
}

// rearm sets the one timer for the earliest alarm, or stops it when there
// is none. Called with tmu held.
func (s *Scheduler) rearm(now int64) {
	if len(s.heap) == 0 {
		if s.timerSet {
			s.timer.Stop()
			s.timerSet = false
		}
		return
	}
	at := s.heap[0].due
	if s.timerSet && s.timerAt == at {
		return
	}
	s.timerAt, s.timerSet = at, true
	d := time.Duration(at - now)
	if s.timer == nil {
		s.timer = s.clock.AfterFunc(d, s.fire)
		return
	}
	s.timer.Reset(d)
}

// fire is the timer's callback: it hands the tick of every alarm that is
// due, and the firing of every Timer, to the workers (below), and moves
// each alarm one interval on from when it was due, so that ticks do
// not drift when the callback runs late (R20). An alarm that has fallen a
// whole interval behind is due again at once, not once per missed tick.
func (s *Scheduler) fire() {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	s.timerSet = false
	now := s.now()
	s.fireDue(now)
	s.rearm(now)
}

// fireDue starts what is due at now and moves the alarms on. Called with
// tmu held; the caller rearms.
func (s *Scheduler) fireDue(now int64) {
	var late []*alarm
	s.wmu.Lock()
	defer s.wmu.Unlock()
	defer s.staff()
	for len(s.heap) > 0 && s.heap[0].due <= now {
		e := s.heap[0]
		a := e.a
		if a.op == resource.OpNone { // a one-shot Timer
			s.remove(a)
			// With this arm's generation: a re-arm before the handler
			// runs makes this firing stale.
			t := (*Timer)(a.owner)
			s.ready.push(due{a, t.gen, t.h})
			continue
		}
		s.ready.push(due{a: a})
		if next := later(e.due, a.every()); next > now {
			s.heap[0].due = next
			s.down(0)
			continue
		}
		s.remove(a)
		late = append(late, a)
	}
	for _, a := range late {
		s.push(a, now) // fire rearms after fireDue
	}
}

// later returns t + d in the heap's unit, saturated: a duration that
// would run past the end of int64 (math.MaxInt64 is a common "forever")
// must not wrap round to the front of the heap, where its alarm would be
// due at once and leave the timer set for centuries, stalling every other
// alarm of the scheduler.
func later(t int64, d time.Duration) int64 {
	if d > 0 && t+int64(d) < t {
		return math.MaxInt64
	}
	return t + int64(d)
}

// now is the clock's reading in the heap's unit.
func (s *Scheduler) now() int64 { return int64(s.clock.Since(s.epoch)) }

// Timer is a one-shot timer on a Scheduler's heap: what a target uses for
// its checks' time-outs, so that a check costs no runtime timer and no
// allocation of its own. Its zero value is stopped. It must not be copied,
// and it belongs to one Scheduler from its first Arm, until it is set to
// its zero value again, which is allowed once nothing of it is pending:
// Stop returned true, or its last firing's handler has run.
type Timer struct {
	a   alarm
	s   *Scheduler
	gen uint64       // counts the arms
	h   TimerHandler // the last arm's
}

// TimerHandler is what a Timer calls when it fires, with the generation of
// the arm that fired. A value the caller already has (a record of its own
// with this method) costs nothing per arm, where a closure made per arm
// costs an allocation.
type TimerHandler interface {
	OnTimer(gen uint64)
}

// TimerFunc adapts a function to a TimerHandler.
type TimerFunc func(gen uint64)

// OnTimer calls f(gen).
func (f TimerFunc) OnTimer(gen uint64) { f(gen) }

// Arm sets t to call f after d, replacing what it was set for, and returns
// this arm's generation, which f is called with. It is ArmHandler with
// TimerFunc(f).
func (s *Scheduler) Arm(t *Timer, d time.Duration, f func(gen uint64)) uint64 {
	return s.ArmHandler(t, d, TimerFunc(f))
}

// ArmHandler sets t to call h.OnTimer after d, replacing what it was set
// for, and returns this arm's generation, which OnTimer is called with. The
// call runs on one of the scheduler's workers, as checks do (a handler
// that blocks holds up no other firing or tick); a firing that was on its
// way when t was re-armed calls the older handler with the older
// generation, so it can tell it is stale.
func (s *Scheduler) ArmHandler(t *Timer, d time.Duration, h TimerHandler) uint64 {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	now := s.now()
	if s.setTimer(t, later(now, d), h) {
		s.rearm(now)
	}
	return t.gen
}

// ArmHandlerFrom is ArmHandler for a duration that began at start, a
// reading of the scheduler's clock the caller has just taken: t fires d
// after start. It reads the clock itself only when t becomes the heap's
// earliest (to set the timer); otherwise the caller's reading saves
// ArmHandler's (a health check's time-out, armed as the check starts;
// issue 10).
func (s *Scheduler) ArmHandlerFrom(t *Timer, start time.Time, d time.Duration, h TimerHandler) uint64 {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if s.setTimer(t, later(int64(start.Sub(s.epoch)), d), h) {
		s.rearm(s.now()) // the clock is read only when t is the new earliest
	}
	return t.gen
}

// setTimer arms t for due, on the heap's clock, with handler h, and
// reports whether t is the new earliest, for which the caller rearms (not
// here: the runtime's timer code then runs a frame shallower, on a
// caller's goroutine that may have started with a small stack). Called
// with tmu held.
func (s *Scheduler) setTimer(t *Timer, due int64, h TimerHandler) (earliest bool) {
	if t.s == nil {
		t.s, t.a = s, alarm{owner: unsafe.Pointer(t), index: -1, op: resource.OpNone}
	}
	s.remove(&t.a)
	t.gen++
	t.h = h
	return s.push(&t.a, due)
}

// Stop disarms t. It reports whether it stopped a firing: false when t was
// not armed, or has fired and its callback is on its way.
func (t *Timer) Stop() bool {
	s := t.s
	if s == nil {
		return false
	}
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if t.a.index < 0 {
		return false
	}
	s.remove(&t.a)
	return true
}

// The ticks that are due run on workers: goroutines that take due ticks
// from s.ready one after another and end when it is empty. A worker that
// takes a tick while others wait keeps going, so a burst of due checks
// costs a few goroutine starts and stack growths, not one per check; and
// whenever ticks wait, at least one worker is not inside a check, so a check
// that blocks or hangs holds up only its own worker: no other tick waits
// for it (Target.Check).
//
// The workers also run what Later hands them, after the ticks and firings
// that are due: when ten thousand operations time out at one instant, the
// decisions come first and their slower effects after (at most one effect
// after every lowEvery decisions; issue 10).

// staff starts a worker when work waits and no worker is free to take it.
// Called with wmu held.
func (s *Scheduler) staff() {
	if s.free == 0 && (s.ready.len() > 0 || s.lows.len() > 0) {
		s.free++
		go s.work()
	}
}

// lowEvery bounds how long Later's work waits under a steady overload of
// due ticks: a worker takes one of it after this many ticks at most.
const lowEvery = 64

// take returns the next work: a due tick or firing, or, when none waits or
// lowEvery of them went first, a function handed to Later. ok is false
// when nothing waits. Called with wmu held.
func (s *Scheduler) take() (d due, low func(), ok bool) {
	if s.lows.len() > 0 && (s.ready.len() == 0 || s.sinceLow >= lowEvery) {
		s.sinceLow = 0
		return due{}, s.lows.pop(), true
	}
	if s.ready.len() == 0 {
		return due{}, nil, false
	}
	if s.lows.len() > 0 {
		s.sinceLow++
	}
	return s.ready.pop(), nil, true
}

// work is a worker: it runs due ticks, and Later's work, until none waits.
func (s *Scheduler) work() {
	s.wmu.Lock()
	for {
		d, low, ok := s.take()
		if !ok {
			break
		}
		s.free--
		s.staff() // this one is about to be busy: keep one free while work waits
		s.wmu.Unlock()
		if low != nil {
			low()
		} else {
			d.run()
		}
		s.wmu.Lock()
		s.free++
	}
	s.free--
	s.wmu.Unlock()
}

// Later runs f on one of the scheduler's workers (the functions start in
// the order Later was called) once no due tick or firing waits for a
// worker — or, under a steady overload of due ticks, after the workers
// have taken 64 of them while f waited, so that f is not starved. It is
// for the part of a firing's work that need not delay the next firing:
// package wrapper decides a timed-out operation's outcome in the firing,
// and cancels its call and delivers its events through Later, so that when
// many operations time out at one instant the decisions come first (with
// at most one effect run after every 64 of them) and the effects after. f
// must not block for long: it holds a worker.
func (s *Scheduler) Later(f func()) {
	s.wmu.Lock()
	s.lows.push(f)
	s.staff()
	s.wmu.Unlock()
}

// fifo is a queue that reuses its array: drained, it starts again at the
// front; never drained (a steady overload), it drops the taken half once
// that is most of it, so that the array does not grow without bound.
type fifo[T any] struct {
	q    []T
	head int
}

func (f *fifo[T]) len() int { return len(f.q) - f.head }
func (f *fifo[T]) push(v T) { f.q = append(f.q, v) }
func (f *fifo[T]) pop() (v T) { // f.len() > 0
	var zero T
	v, f.q[f.head] = f.q[f.head], zero
	f.head++
	switch {
	case f.head == len(f.q):
		f.q, f.head = f.q[:0], 0
	case f.head >= 256 && 2*f.head >= len(f.q):
		n := copy(f.q, f.q[f.head:])
		clear(f.q[n:])
		f.q, f.head = f.q[:n], 0
	}
	return v
}
