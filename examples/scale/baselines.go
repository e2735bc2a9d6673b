package main

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The three baselines, each doing the same work as the engine with nothing
// else: (a) the seed's design, EXRES's IsAliveMonitor + CheckIsAliveWrapper
// pair: per resource a monitor goroutine with a ticker waking a check
// goroutine, and a time-out timer per check; (b) a bare time.AfterFunc per
// resource; (c) a central timer heap with one timer and a worker pool, the
// floor.

// noopIsAlive is every system's check: it does nothing.
func noopIsAlive() error { return nil }

// ---- (a) the seed's design ----

type seedChecks struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func (s *seedChecks) start(n int, interval time.Duration, st *checkStats) {
	s.stop = make(chan struct{})
	s.wg.Add(2 * n)
	for i := range n {
		phase := interval * time.Duration(i) / time.Duration(n)
		checkC := make(chan int64)
		resC := make(chan error, 1)
		go func() { // CheckIsAliveWrapper's thread: runs IsAlive when woken
			defer s.wg.Done()
			for due := range checkC {
				st.observe(mono() - due)
				select {
				case resC <- noopIsAlive():
				case <-s.stop:
					return
				}
			}
		}()
		go func() { // IsAliveMonitor: sleeps, wakes the check, waits under a time-out
			defer s.wg.Done()
			defer close(checkC)
			first := time.NewTimer(phase)
			select {
			case <-first.C:
			case <-s.stop:
				return
			}
			t0 := mono()
			tk := time.NewTicker(interval)
			defer tk.Stop()
			for {
				select {
				case <-tk.C:
				case <-s.stop:
					return
				}
				now := mono()
				due := t0 + (now-t0)/int64(interval)*int64(interval)
				select { // the result of a check that timed out, come at last
				case <-resC:
				default:
				}
				select {
				case checkC <- due:
				case <-s.stop:
					return
				}
				to := time.NewTimer(checkTimeout)
				select {
				case <-resC:
					to.Stop()
				case <-to.C:
				case <-s.stop:
					return
				}
			}
		}()
	}
}

func (s *seedChecks) shutdown() { close(s.stop); s.wg.Wait() }

// ---- (b) a bare time.AfterFunc per resource ----

type afterFuncChecks struct {
	stopped atomic.Bool
	timers  []*afterFuncRes
}

type afterFuncRes struct {
	t   atomic.Pointer[time.Timer]
	due int64
}

func (s *afterFuncChecks) start(n int, interval time.Duration, st *checkStats) {
	s.timers = make([]*afterFuncRes, n)
	now := mono()
	for i := range n {
		r := &afterFuncRes{due: now + int64(interval) + int64(interval)*int64(i)/int64(n)}
		s.timers[i] = r
		r.t.Store(time.AfterFunc(time.Duration(r.due-now), func() {
			if s.stopped.Load() {
				return
			}
			st.observe(mono() - r.due)
			_ = noopIsAlive()
			r.due += int64(interval)
			r.t.Load().Reset(time.Duration(r.due - mono()))
		}))
	}
}

func (s *afterFuncChecks) shutdown() {
	s.stopped.Store(true)
	for _, r := range s.timers {
		r.t.Load().Stop()
	}
	s.timers = nil
}

// ---- (c) a central timer heap, one timer, a worker pool: the floor ----

const batchSize = 256

type heapChecks struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func (s *heapChecks) start(n int, interval time.Duration, st *checkStats) {
	s.stop = make(chan struct{})
	h := make(timerHeap, 0, n)
	now := mono()
	for i := range n {
		h.push(item{due: now + int64(interval) + int64(interval)*int64(i)/int64(n), id: int32(i)})
	}
	work := make(chan []item, 64)
	free := make(chan []item, 64)
	workers := runtime.GOMAXPROCS(0)
	s.wg.Add(workers + 1)
	for range workers {
		go func() {
			defer s.wg.Done()
			for b := range work {
				for _, it := range b {
					st.observe(mono() - it.due)
					_ = noopIsAlive()
				}
				select {
				case free <- b[:0]:
				default:
				}
			}
		}()
	}
	go func() {
		defer s.wg.Done()
		defer close(work)
		timer := time.NewTimer(time.Hour)
		for {
			now := mono()
			var b []item
			for h[0].due <= now {
				if b == nil {
					select {
					case b = <-free:
					default:
						b = make([]item, 0, batchSize)
					}
				}
				b = append(b, h[0])
				h[0].due += int64(interval)
				h.fix()
				if len(b) == batchSize {
					work <- b
					b = nil
				}
			}
			if b != nil {
				work <- b
			}
			timer.Reset(time.Duration(h[0].due - mono()))
			select {
			case <-timer.C:
			case <-s.stop:
				timer.Stop()
				return
			}
		}
	}()
}

func (s *heapChecks) shutdown() { close(s.stop); s.wg.Wait() }

// ---- failure → restart begins ----

// restartFunc is each system's restart action: it records the latency
// from the failure's report at t (mono).
type restartFunc func(t int64)

type seedFail struct {
	chans []chan int64
	wg    sync.WaitGroup
}

func (s *seedFail) setup(n int, restart restartFunc) {
	s.chans = make([]chan int64, n)
	s.wg.Add(n)
	for i := range s.chans {
		c := make(chan int64, 1)
		s.chans[i] = c
		go func() { // a goroutine per resource waiting for its failure event
			defer s.wg.Done()
			for t := range c {
				restart(t)
			}
		}()
	}
}
func (s *seedFail) fail(i int) { s.chans[i] <- mono() }
func (s *seedFail) teardown() {
	for _, c := range s.chans {
		close(c)
	}
	s.wg.Wait()
}

type afterFuncFail struct{ restart restartFunc }

func (s *afterFuncFail) setup(_ int, restart restartFunc) { s.restart = restart }
func (s *afterFuncFail) fail(int) {
	t := mono()
	time.AfterFunc(0, func() { s.restart(t) })
}
func (s *afterFuncFail) teardown() {}

type heapFail struct {
	work chan int64
	wg   sync.WaitGroup
}

func (s *heapFail) setup(n int, restart restartFunc) {
	s.work = make(chan int64, n)
	workers := runtime.GOMAXPROCS(0)
	s.wg.Add(workers)
	for range workers {
		go func() {
			defer s.wg.Done()
			for t := range s.work {
				restart(t)
			}
		}()
	}
}
func (s *heapFail) fail(int)  { s.work <- mono() }
func (s *heapFail) teardown() { close(s.work); s.wg.Wait() }

// ---- pending time-outs of hung operations ----

// hungOp is a hung operation: it returns when its context is cancelled.
func hungOp(ctx context.Context, done *sync.WaitGroup) {
	<-ctx.Done()
	done.Done()
}

// Each runs one hung operation per deadline (mono ns) and, at each
// deadline, its time-out action: record the lateness, cancel the
// operation. It returns when every operation has returned.

func seedTimeouts(dues []int64, lat *samples) {
	var ops, timers sync.WaitGroup
	ops.Add(len(dues))
	timers.Add(len(dues))
	for _, due := range dues {
		ctx, cancel := context.WithCancel(context.Background())
		go hungOp(ctx, &ops)
		go func() { // the waiting thread: WaitForSingleObject with a time-out
			defer timers.Done()
			t := time.NewTimer(time.Duration(due - mono()))
			<-t.C
			lat.add(time.Duration(mono() - due))
			cancel()
		}()
	}
	timers.Wait()
	ops.Wait()
}

func afterFuncTimeouts(dues []int64, lat *samples) {
	var ops sync.WaitGroup
	ops.Add(len(dues))
	for _, due := range dues {
		ctx, cancel := context.WithCancel(context.Background())
		go hungOp(ctx, &ops)
		time.AfterFunc(time.Duration(due-mono()), func() {
			lat.add(time.Duration(mono() - due))
			cancel()
		})
	}
	ops.Wait()
}

func heapTimeouts(dues []int64, lat *samples) {
	var ops sync.WaitGroup
	ops.Add(len(dues))
	cancels := make([]context.CancelFunc, len(dues))
	h := make(timerHeap, 0, len(dues))
	for i, due := range dues {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		go hungOp(ctx, &ops)
		h.push(item{due: due, id: int32(i)})
	}
	work := make(chan []item, 64)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for b := range work {
				for _, it := range b {
					lat.add(time.Duration(mono() - it.due))
					cancels[it.id]()
				}
			}
		}()
	}
	timer := time.NewTimer(time.Hour)
	for len(h) > 0 {
		now := mono()
		var b []item
		for len(h) > 0 && h[0].due <= now {
			b = append(b, h.pop())
			if len(b) == batchSize {
				work <- b
				b = nil
			}
		}
		if b != nil {
			work <- b
		}
		if len(h) > 0 {
			timer.Reset(time.Duration(h[0].due - mono()))
			<-timer.C
		}
	}
	close(work)
	wg.Wait()
	ops.Wait()
}
