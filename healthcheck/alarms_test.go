package healthcheck

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/resdll/resdll/resource"
)

// checkHeap fails t unless s.heap is a min-heap on due whose entries agree
// with their alarms.
func checkHeap(t require.TestingT, s *Scheduler) {
	for i, e := range s.heap {
		require.Equal(t, int32(i), e.a.index, "entry %d's alarm knows its index", i)
		if i > 0 {
			require.LessOrEqual(t, s.heap[(i-1)/arity].due, e.due, "entry %d is not before its parent", i)
		}
	}
}

// The heap stays a heap, and every alarm knows its place, whatever is
// pushed, removed and fired; firing takes exactly the alarms that are due,
// and the one timer is never set later than the earliest alarm.
func TestHeapProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// The mock clock never moves, so the timer never fires: the test
		// plays the times itself.
		s := New(Options{Clock: clock.NewMock()})
		var ran sync.WaitGroup
		tg := &funcTarget{check: ran.Done}
		alarms := make([]*alarm, rapid.IntRange(1, 40).Draw(t, "alarms"))
		for i := range alarms {
			every := time.Duration(rapid.IntRange(1, 50).Draw(t, "interval"))
			alarms[i] = &s.newRegistration(tg, Policy{IsAliveInterval: every, FailureThreshold: 1}).isAlive
		}
		s.tmu.Lock()
		defer s.tmu.Unlock()
		var now int64
		for range rapid.IntRange(1, 200).Draw(t, "steps") {
			a := alarms[rapid.IntRange(0, len(alarms)-1).Draw(t, "alarm")]
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				s.remove(a)
				if s.push(a, now+int64(rapid.IntRange(0, 100).Draw(t, "due"))) {
					s.rearm(now)
				}
			case 1:
				s.remove(a)
				require.Equal(t, int32(-1), a.index)
			case 2:
				now += int64(rapid.IntRange(0, 60).Draw(t, "advance"))
				before := map[*alarm]int64{}
				due := 0
				for _, e := range s.heap {
					before[e.a] = e.due
					if e.due <= now {
						due++
					}
				}
				ran.Add(due)
				s.fireDue(now)
				s.rearm(now)
				ran.Wait() // exactly the due ones ran: one more would panic the WaitGroup
				for a, due := range before {
					require.GreaterOrEqual(t, a.index, int32(0), "a ticking alarm stays in the heap")
					switch {
					case due > now:
						require.Equal(t, due, s.due(a), "not due: not moved")
					case due+int64(a.every()) > now:
						require.Equal(t, due+int64(a.every()), s.due(a), "due: one interval on from when it was due")
					default:
						require.Equal(t, now, s.due(a), "a whole interval late: due again at once")
					}
				}
			}
			checkHeap(t, s)
			if len(s.heap) > 0 {
				require.True(t, s.timerSet)
				require.LessOrEqual(t, s.timerAt, s.heap[0].due, "the timer is not set later than the earliest alarm")
			}
		}
		for _, a := range alarms {
			s.remove(a)
		}
		s.rearm(now)
		require.False(t, s.timerSet, "no alarm, no timer")
	})
}

// R20: a tick whose callback comes a whole interval late starts one check
// and is due again at once — not one check per missed tick, and not a
// drifting schedule.
func TestLateTickDueAtOnce(t *testing.T) {
	clk := clock.NewMock()
	s := New(Options{Clock: clk})
	var mu sync.Mutex
	var checks []time.Time
	started := make(chan struct{}, 10)
	tg := &funcTarget{check: func() {
		mu.Lock()
		checks = append(checks, clk.Now())
		mu.Unlock()
		started <- struct{}{}
	}}
	reg := s.Register(tg, Policy{IsAliveInterval: time.Second, LooksAliveInterval: resource.Never, FailureThreshold: 1})
	defer reg.Unregister()

	s.tmu.Lock()
	s.timer.Stop() // the callback comes late: as if the process had stalled
	s.timerSet = false
	s.tmu.Unlock()
	clk.Add(3500 * time.Millisecond)
	s.fire()
	<-started
	s.tmu.Lock()
	a := &reg.(*registration).isAlive
	assert.Equal(t, s.now(), s.due(a), "due again at once")
	s.tmu.Unlock()
	clk.Add(0) // fires the timer set for now
	<-started
	clk.Add(time.Second)
	<-started
	mu.Lock()
	defer mu.Unlock()
	at := make([]time.Duration, len(checks))
	for i, c := range checks {
		at[i] = c.Sub(s.epoch)
	}
	assert.Equal(t, []time.Duration{3500 * time.Millisecond, 3500 * time.Millisecond, 4500 * time.Millisecond}, at)
}

// funcTarget runs check, synchronously, for each IsAlive.
type funcTarget struct{ check func() }

func (*funcTarget) HasLooksAlive() bool { return false }
func (t *funcTarget) Check(d Done) Start {
	t.check()
	d.Report(nil)
	return Started
}
func (*funcTarget) Fail(Registration, resource.Op, error) {}

// A Timer fires once after its time with the generation of its arm; a
// re-arm makes a firing on its way stale, ArmHandlerFrom counts from the
// reading it is given, Stop reports whether it stopped one, and a stopped
// Timer leaves nothing in the heap.
func TestTimer(t *testing.T) {
	// A bubble: synctest.Wait makes "nothing fired" exact, where a mock
	// clock could return before a wrong firing arrived.
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{Clock: clock.New()})
		fired := make(chan uint64, 4)
		f := func(gen uint64) { fired <- gen }
		var tm Timer
		assert.False(t, tm.Stop(), "a zero Timer is stopped")

		g1 := s.Arm(&tm, time.Second, f)
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		assert.Empty(t, fired)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		require.Len(t, fired, 1)
		assert.Equal(t, g1, <-fired)
		assert.False(t, tm.Stop(), "fired: nothing to stop")

		g2 := s.Arm(&tm, time.Second, f)
		assert.NotEqual(t, g1, g2)
		g3 := s.Arm(&tm, 2*time.Second, f) // re-armed: the first arm's time no longer counts
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Empty(t, fired)
		time.Sleep(time.Second)
		synctest.Wait()
		require.Len(t, fired, 1)
		assert.Equal(t, g3, <-fired)

		// ArmHandlerFrom counts from the caller's reading, not from the
		// arm: here a second before it.
		start := s.Clock().Now()
		time.Sleep(time.Second)
		g4 := s.ArmHandlerFrom(&tm, start, 3*time.Second, TimerFunc(f))
		time.Sleep(2*time.Second - time.Millisecond)
		synctest.Wait()
		assert.Empty(t, fired, "fired before start + 3 s")
		time.Sleep(time.Millisecond)
		synctest.Wait()
		require.Len(t, fired, 1, "not fired at start + 3 s")
		assert.Equal(t, g4, <-fired)

		s.Arm(&tm, time.Second, f)
		assert.True(t, tm.Stop())
		assert.Empty(t, s.heap)
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Empty(t, fired)
	})
}

// blockTarget's checks block inside Check until release is closed, as a
// wrapper's IsAlive runs on the worker that calls Check.
type blockTarget struct {
	entered chan<- int
	id      int
	release <-chan struct{}
}

func (*blockTarget) HasLooksAlive() bool { return false }
func (t *blockTarget) Check(d Done) Start {
	t.entered <- t.id
	<-t.release
	d.Report(nil)
	return Started
}
func (*blockTarget) Fail(Registration, resource.Op, error) {}

// R21: checks due at one instant run on the scheduler's workers, and a
// check that blocks holds up no other: every one of them is entered while
// the others still block.
func TestBlockedCheckHoldsUpNoOther(t *testing.T) {
	clk := clock.NewMock()
	s := New(Options{Clock: clk})
	const n = 5
	entered := make(chan int, n)
	release := make(chan struct{})
	p := Policy{IsAliveInterval: time.Second, LooksAliveInterval: resource.Never, FailureThreshold: 1}
	for i := range n {
		reg := s.Register(&blockTarget{entered: entered, id: i, release: release}, p)
		defer reg.Unregister()
	}
	clk.Add(time.Second)
	seen := map[int]bool{}
	for range n {
		select {
		case id := <-entered:
			seen[id] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d checks due at one instant entered while the others block", len(seen), n)
		}
	}
	close(release) // the workers return and end: goleak checks at the end
}

// failTarget counts the failures handed to it.
type failTarget struct {
	funcTarget
	fails atomic.Int32
}

func (t *failTarget) Fail(Registration, resource.Op, error) { t.fails.Add(1) }

// R24: a failure count stops at its type's bound rather than wrap, so a
// threshold above the bound never latches, and one at it does.
func TestFailureCountSaturates(t *testing.T) {
	s := New(Options{Clock: clock.NewMock()})
	for _, c := range []struct {
		threshold int
		fails     int32
	}{
		{threshold: math.MaxUint32, fails: 1},
		{threshold: math.MaxUint32 + 1, fails: 0},
	} {
		tg := &failTarget{}
		r := s.newRegistration(tg, Policy{FailureThreshold: c.threshold})
		r.failures.Store(math.MaxUint32 - 1)
		r.result(resource.OpIsAlive, assert.AnError)
		r.result(resource.OpIsAlive, assert.AnError)
		assert.Equal(t, c.fails, tg.fails.Load(), "threshold %d", c.threshold)
	}
}

// A time-out of math.MaxInt64 (a common "forever") must not wrap round to
// the front of the heap: the scheduler's one timer would be set for
// centuries and every other registration and Timer would stall.
func TestHugeDurationsStallNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{Clock: clock.New()})
		time.Sleep(time.Second) // the epoch is in the past: now + MaxInt64 overflows
		var ticks atomic.Int32
		reg := s.Register(&funcTarget{check: func() { ticks.Add(1) }}, Policy{IsAliveInterval: time.Second, LooksAliveInterval: resource.Never, FailureThreshold: 1})
		defer reg.Unregister()
		var forever, soon Timer
		s.Arm(&forever, time.Duration(math.MaxInt64), func(uint64) { t.Error("a forever timer fired") })
		fired := make(chan uint64, 1)
		s.Arm(&soon, 3*time.Second, func(g uint64) { fired <- g })
		time.Sleep(5 * time.Second)
		synctest.Wait()
		assert.Len(t, fired, 1, "a 3 s timer beside a forever one")
		assert.GreaterOrEqual(t, ticks.Load(), int32(4), "ticks every second beside a forever timer")
		checkHeap(t, s)
		assert.True(t, forever.Stop())
	})
}

// Later's work waits for the ticks and firings that are due: a worker
// takes it once none waits, or after lowEvery of them while it waits, so
// that a steady overload of ticks does not starve it. Ticks keep their
// order (issue 10: a time-out's effects after every due decision).
func TestTakeRunsLaterAfterDueWork(t *testing.T) {
	s := New(Options{Clock: clock.NewMock()})
	s.wmu.Lock()
	defer s.wmu.Unlock()
	const ticks = 2*lowEvery + 10
	for i := range ticks {
		s.ready.push(due{gen: uint64(i)})
	}
	lows := 0
	for range 4 {
		s.lows.push(func() { lows++ })
	}
	var got []int // a tick's gen, or -1 for Later's work
	for {
		d, low, ok := s.take()
		if !ok {
			break
		}
		if low != nil {
			low()
			got = append(got, -1)
			continue
		}
		got = append(got, int(d.gen))
	}
	var want []int
	for i := range ticks {
		want = append(want, i)
		if (i+1)%lowEvery == 0 {
			want = append(want, -1)
		}
	}
	want = append(want, -1, -1) // the rest, once no tick waits
	assert.Equal(t, want, got)
	assert.Equal(t, 4, lows)
}

// Later runs what it is handed on a worker, which ends afterwards
// (goleak, TestMain).
func TestLaterRuns(t *testing.T) {
	s := New(Options{Clock: clock.NewMock()})
	ran := make(chan int, 3)
	for i := range 3 {
		s.Later(func() { ran <- i })
	}
	got := map[int]bool{}
	for range 3 {
		select {
		case i := <-ran:
			got[i] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("Later's work ran %d times of 3", len(got))
		}
	}
	assert.Len(t, got, 3)
}

// fifo acts as a queue whatever the pushes and pops, across its reuse of
// the array once drained and its compaction once mostly taken.
func TestFifoIsAQueue(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var f fifo[int]
		var model []int
		next := 0
		for range rapid.IntRange(0, 2000).Draw(t, "steps") {
			if len(model) == 0 || rapid.IntRange(0, 2).Draw(t, "op") > 0 {
				for range rapid.IntRange(1, 300).Draw(t, "pushes") {
					f.push(next)
					model = append(model, next)
					next++
				}
			} else {
				for range rapid.IntRange(1, len(model)).Draw(t, "pops") {
					require.Equal(t, model[0], f.pop())
					model = model[1:]
				}
			}
			require.Equal(t, len(model), f.len())
			require.LessOrEqual(t, len(f.q), 2*len(model)+512, "the array keeps no more than twice what waits, plus the compaction's threshold")
		}
	})
}
