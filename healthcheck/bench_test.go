//go:build unix

package healthcheck_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/internal/rusage"
	"github.com/resdll/resdll/resource"
)

// countTarget is a target whose check is a no-op that returns at once: it
// counts the checks and says when want of them have run.
type countTarget struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (*countTarget) HasLooksAlive() bool { return false }

func (t *countTarget) Check(d healthcheck.Done) healthcheck.Start {
	if t.n.Add(1) == t.want {
		close(t.done)
	}
	d.Report(nil)
	return healthcheck.Started
}

func (*countTarget) Fail(healthcheck.Registration, resource.Op, error) {}

// BenchmarkSchedulerTick is the scheduler's own cost per scheduled check
// (R20): 1000 registrations on the real clock, IsAliveInterval 10 ms (100 000
// checks/s), checking a target that returns synchronously. It measures the
// timer, the tick's locking and the result path, with no wrapper around the
// check. cpu-ns/check is the process's user+system CPU per check (both
// cores), the figure to read; ns/op is wall time per check and is set by the
// rate (10 µs), not by the cost. (An interval of 1 ns, to run ticks back to
// back, does not work: the runtime runs each newly fired timer's goroutine
// first, so unfinished ticks pile up by the hundred thousand.)
func BenchmarkSchedulerTick(b *testing.B) { benchmarkTick(b, 1000, 10*time.Millisecond, true) }

// BenchmarkSchedulerTickLarge is BenchmarkSchedulerTick at a node's scale
// (issue 10): 100 000 registrations, IsAliveInterval 1 s, the same 100 000
// checks/s. The heap no longer fits in the caches, so what a tick costs is
// mostly the alarms it touches while sifting. The registrations are made
// before the measure starts, and the first checks come one interval after
// them: read cpu-ns/check, not ns/op.
func BenchmarkSchedulerTickLarge(b *testing.B) { benchmarkTick(b, 100000, time.Second, false) }

// benchmarkTick checks b.N times, spread over targets registrations every
// interval; registering is measured when withRegister.
func benchmarkTick(b *testing.B, targets int, interval time.Duration, withRegister bool) {
	s := healthcheck.New(healthcheck.Options{})
	p, err := healthcheck.Policy{IsAliveInterval: interval, LooksAliveInterval: resource.Never}.Resolve()
	if err != nil {
		b.Fatal(err)
	}
	t := &countTarget{want: int64(b.N), done: make(chan struct{})}
	regs := make([]healthcheck.Registration, targets)
	register := func() {
		for i := range regs {
			regs[i] = s.Register(t, p)
		}
	}
	if !withRegister {
		register()
	}
	b.ReportAllocs()
	cpu0 := rusage.CPUTime()
	b.ResetTimer()
	if withRegister {
		register()
	}
	select {
	case <-t.done:
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d checks ran in a minute", t.n.Load(), b.N)
	}
	b.StopTimer()
	cpu := rusage.CPUTime() - cpu0
	for _, r := range regs {
		r.Unregister()
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/check")
}
