package main

import (
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"
)

// wakeCap bounds one wake-up sample: a goroutine that has not run on
// another processor by then is recorded as this late.
const wakeCap = 50 * time.Millisecond

// idleWakeup measures, n times, how long a goroutine made runnable while
// its maker keeps its own processor busy waits to run on another, idle
// processor: the time the Go runtime and the machine take to wake one. On
// a VM whose idle vCPUs halt it is mostly the host's latency in running
// the halted vCPU again, and it bounds how soon a burst of work (a storm,
// many operations timing out at one instant) gets its second processor,
// whichever system does the work. ok is false with one processor.
func idleWakeup(n int) (p50, p99 time.Duration, ok bool) {
	if runtime.GOMAXPROCS(0) < 2 || n <= 0 {
		return 0, 0, false
	}
	s := newSamples(n)
	for range n {
		time.Sleep(2 * time.Millisecond) // long enough for every other processor to go idle
		done := make(chan struct{})
		go func() {
			defer close(done)
			var ran atomic.Int64
			child := make(chan struct{})
			t0 := mono()
			go func() {
				ran.Store(mono())
				close(child)
			}()
			// Busy until the new goroutine has run: it is queued on this
			// processor, so it runs on another one unless this loop is
			// preempted (after 10 ms) or gives up.
			for ran.Load() == 0 && mono()-t0 < int64(wakeCap) {
			}
			if t := ran.Load(); t != 0 {
				s.add(time.Duration(t - t0))
			} else {
				s.add(wakeCap)
			}
			<-child
		}()
		<-done
	}
	p50, p99 = s.quantiles()
	return p50, p99, true
}

// printMachine prints the idle processor's wake-up latency, the property
// of the machine that most moves the burst figures from run to run
// (BENCHMARKS.md).
func printMachine(out io.Writer, n int) {
	p50, p99, ok := idleWakeup(n)
	if !ok {
		fmt.Fprintln(out, "idle processor wake-up: - (one processor)")
		return
	}
	fmt.Fprintf(out, "idle processor wake-up: p50 %.0f µs, p99 %.0f µs (%d samples: a goroutine made runnable while its maker keeps its processor busy)\n",
		us(p50), us(p99), n)
}
