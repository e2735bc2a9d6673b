package healthcheck

import (
	"time"
)

// alarm is one kind of check of one registration in the scheduler's timer
// heap: when it is due, and how far apart its ticks are. Every field is
// guarded by Scheduler.tmu.
type alarm struct {
	due      int64         // nanoseconds since Scheduler.epoch; heap[index].due too
	interval time.Duration // between ticks; 0 for a Timer's one shot
	index    int32         // position in Scheduler.heap; -1 when not in it
	run      func()        // starts the tick's check; made at the first arm; nil for a Timer
	timer    *Timer        // the Timer this alarm is, or nil
}

// entry is one slot of the heap: the due time is kept inline, so that
// sifting compares within the array and touches an alarm only to move it.
type entry struct {
	due int64
	a   *alarm
}

// The timer heap: a binary min-heap of alarms on due, each alarm knowing
// its index so that it can be moved or removed in O(log n). One clock
// timer is set for the earliest; its callback starts every check that is
// due and moves each alarm on by its interval in place.

func (s *Scheduler) less(i, j int) bool { return s.heap[i].due < s.heap[j].due }

func (s *Scheduler) swap(i, j int) {
	h := s.heap
	h[i], h[j] = h[j], h[i]
	h[i].a.index, h[j].a.index = int32(i), int32(j)
}

func (s *Scheduler) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			return
		}
		s.swap(i, p)
		i = p
	}
}

func (s *Scheduler) down(i int) {
	n := len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			return
		}
		s.swap(i, m)
		i = m
	}
}

// push adds a, not in the heap, and brings the timer forward when a is the
// new earliest. Called with tmu held.
func (s *Scheduler) push(a *alarm, now int64) {
	a.index = int32(len(s.heap))
	s.heap = append(s.heap, entry{a.due, a})
	s.up(int(a.index))
	if a.index == 0 {
		s.rearm(now)
	}
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
		s.swap(i, last)
	}
	s.heap[last] = entry{}
	s.heap = s.heap[:last]
	a.index = -1
	if i != last {
		s.down(i)
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
// due to the workers (below), a Timer's firing to a goroutine of its own,
// and moves each alarm one interval on from when it was due, so that ticks do
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
// tmu held.
func (s *Scheduler) fireDue(now int64) {
	var late []*alarm
	s.wmu.Lock()
	defer s.wmu.Unlock()
	defer s.staff()
	for len(s.heap) > 0 && s.heap[0].due <= now {
		a := s.heap[0].a
		if t := a.timer; t != nil { // a one-shot Timer
			s.remove(a)
			go t.f(t.gen) // t.gen: a re-arm before f runs makes this firing stale
			continue
		}
		s.ready = append(s.ready, a.run)
		if next := a.due + int64(a.interval); next > now {
			a.due = next
			s.heap[0].due = next
			s.down(0)
			continue
		}
		s.remove(a)
		late = append(late, a)
	}
	for _, a := range late {
		a.due = now
		s.push(a, now)
	}
}

// now is the clock's reading in the heap's unit.
func (s *Scheduler) now() int64 { return int64(s.clock.Since(s.epoch)) }

// Timer is a one-shot timer on a Scheduler's heap: what a target uses for
// its checks' time-outs, so that a check costs no runtime timer and no
// allocation of its own. Its zero value is stopped. It must not be copied,
// and it belongs to one Scheduler from its first Arm.
type Timer struct {
	a   alarm
	s   *Scheduler
	gen uint64           // counts the arms
	f   func(gen uint64) // the last Arm's callback
}

// Arm sets t to call f on a goroutine of its own after d, replacing what it
// was set for, and returns this arm's generation, which f is called with:
// a firing that was on its way when t was re-armed calls the older f with
// the older generation, so f can tell it is stale.
func (s *Scheduler) Arm(t *Timer, d time.Duration, f func(gen uint64)) uint64 {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if t.s == nil {
		t.s, t.a.timer, t.a.index = s, t, -1
	}
	now := s.now()
	s.remove(&t.a)
	t.gen++
	t.f = f
	t.a.due = now + int64(d)
	s.push(&t.a, now)
	return t.gen
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

// staff starts a worker when ticks wait and no worker is free to take
// them. Called with wmu held.
func (s *Scheduler) staff() {
	if s.free == 0 && len(s.ready) > s.head {
		s.free++
		go s.work()
	}
}

// work is a worker: it runs due ticks until none wait.
func (s *Scheduler) work() {
	s.wmu.Lock()
	for len(s.ready) > s.head {
		run := s.ready[s.head]
		s.ready[s.head] = nil
		s.head++
		switch {
		case s.head == len(s.ready):
			s.ready, s.head = s.ready[:0], 0 // drained: reuse the array
		case s.head >= 256 && 2*s.head >= len(s.ready):
			// Never drained (a steady overload): drop the taken half,
			// so that the array does not grow without bound.
			n := copy(s.ready, s.ready[s.head:])
			clear(s.ready[n:])
			s.ready, s.head = s.ready[:n], 0
		}
		s.free--
		s.staff() // this one is about to be busy: keep one free while ticks wait
		s.wmu.Unlock()
		run()
		s.wmu.Lock()
		s.free++
	}
	s.free--
	s.wmu.Unlock()
}
