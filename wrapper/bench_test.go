//go:build unix

package wrapper_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/internal/rusage"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// noop succeeds at once everywhere; IsAlive counts and says when want
// checks have run.
type noop struct {
	n    *atomic.Int64
	want int64
	done chan struct{}
}

func (noop) Online(context.Context) error  { return nil }
func (noop) Offline(context.Context) error { return nil }
func (r noop) IsAlive(context.Context) error {
	if r.n != nil && r.n.Add(1) == r.want {
		close(r.done)
	}
	return nil
}

// hung is a resource whose Online hangs until its context is cancelled.
type hung struct{}

func (hung) Online(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (hung) Offline(context.Context) error    { return nil }
func (hung) IsAlive(context.Context) error    { return nil }

func closeAll(b *testing.B, ws []*wrapper.Wrapper) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, w := range ws {
		if err := w.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHealthCheck is the engine's overhead per scheduled health check
// with a no-op IsAlive (R20–R22): 1000 Online wrappers sharing one
// scheduler on the real clock, IsAliveInterval 10 ms (100 000 checks/s).
// cpu-ns/check (user+system CPU of the process per check, both cores) is the
// figure; ns/op is wall time per check, set by the rate (10 µs). Compare
// healthcheck's BenchmarkSchedulerTick, the same without the wrapper.
func BenchmarkHealthCheck(b *testing.B) {
	const n = 1000
	var count atomic.Int64
	done := make(chan struct{})
	checker := healthcheck.New(healthcheck.Options{})
	// A tick that finds the previous check still running counts as a
	// failed check (R21); under load a check's goroutine can wait longer
	// than 10 ms to run, so the threshold is high enough never to latch.
	pol := wrapper.Policy{IsAliveInterval: 10 * time.Millisecond, LooksAliveInterval: resource.Never, CheckTimeout: 5 * time.Second, FailureThreshold: 1 << 30}
	ws := make([]*wrapper.Wrapper, n)
	for i := range ws {
		w, err := wrapper.New(noop{n: &count, want: int64(b.N), done: done}, wrapper.Options{Checker: checker, Policy: pol})
		if err != nil {
			b.Fatal(err)
		}
		ws[i] = w
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := rusage.CPUTime()
	for _, w := range ws {
		if _, err := w.Online(); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d checks ran in a minute", count.Load(), b.N)
	}
	cpu := rusage.CPUTime() - cpu0
	b.StopTimer()
	closeAll(b, ws)
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/check")
}

// BenchmarkCheckNow is one fresh check run through the engine and waited
// for (R25): the per-check path (a goroutine, a context, a time-out timer,
// the result) without the scheduler's timer.
func BenchmarkCheckNow(b *testing.B) {
	w, err := wrapper.New(noop{}, wrapper.Options{Policy: wrapper.Policy{IsAliveInterval: resource.Never, LooksAliveInterval: resource.Never, CheckTimeout: 5 * time.Second}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := w.Online(); err != nil {
		b.Fatal(err)
	}
	if err := w.Wait(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := w.CheckNow(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	closeAll(b, []*wrapper.Wrapper{w})
}

// BenchmarkOnlineOffline is the cost of the transitions (R10): one wrapper
// on the real clock, health checks off, taken Online then Offline and
// waited for each time. An op is the pair; ns/transition is half of it.
func BenchmarkOnlineOffline(b *testing.B) {
	w, err := wrapper.New(noop{}, wrapper.Options{Policy: wrapper.Policy{IsAliveInterval: resource.Never, LooksAliveInterval: resource.Never}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := w.Online(); err != nil {
			b.Fatal(err)
		}
		if err := w.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Offline(); err != nil {
			b.Fatal(err)
		}
		if err := w.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/transition")
	closeAll(b, []*wrapper.Wrapper{w})
}

// BenchmarkPendingTimeoutLateness is how late the time-out action starts
// (R11) with many hung Online calls: per op, 1000 wrappers whose Online
// hangs, with deadlines spread evenly over 100 ms, or all on one instant.
// Lateness is the Failed event's time (taken when the deadline's handler
// runs) minus the deadline; the deadline is taken from a clock reading
// just before Online, so the figure is an upper bound by Online's own
// cost (about a microsecond).
func BenchmarkPendingTimeoutLateness(b *testing.B) {
	for _, tc := range []struct {
		name   string
		spread time.Duration
	}{{"spread=100ms", 100 * time.Millisecond}, {"one-deadline", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 1000
			const lead = 50 * time.Millisecond // from the first Online to the first deadline
			var all []time.Duration
			b.ReportAllocs()
			for range b.N {
				var mu sync.Mutex
				lat := make([]time.Duration, 0, n)
				var wg sync.WaitGroup
				wg.Add(n)
				checker := healthcheck.New(healthcheck.Options{})
				ws := make([]*wrapper.Wrapper, n)
				first := time.Now().Add(lead)
				for i := range ws {
					due := first.Add(tc.spread * time.Duration(i) / n)
					start := time.Now()
					pt := due.Sub(start)
					if pt <= 0 {
						b.Fatalf("setting up %d wrappers took longer than the %v lead: the deadlines passed before their Onlines (a slow or loaded machine, or a profiler)", n, lead)
					}
					w, err := wrapper.New(hung{}, wrapper.Options{Checker: checker, Policy: wrapper.Policy{PendingTimeout: pt, TerminateTimeout: time.Second},
						Sink: func(ev resource.Event) {
							if ev.To == resource.Failed && errors.Is(ev.Err, resource.ErrPendingTimeout) {
								mu.Lock()
								lat = append(lat, ev.Time.Sub(start.Add(pt)))
								mu.Unlock()
								wg.Done()
							}
						}})
					if err != nil {
						b.Fatal(err)
					}
					ws[i] = w
					if _, err := w.Online(); err != nil {
						b.Fatal(err)
					}
				}
				wg.Wait()
				b.StopTimer()
				closeAll(b, ws)
				all = append(all, lat...)
				b.StartTimer()
			}
			slices.Sort(all)
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "lateness-p50-µs")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "lateness-p99-µs")
			b.ReportMetric(float64(all[len(all)-1].Microseconds()), "lateness-max-µs")
		})
	}
}
