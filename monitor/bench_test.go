package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// restarter is a no-op resource that reports failures (R23) and says,
// with the time, when its Online begins.
type restarter struct {
	report resource.ReportFunc
	failed atomic.Int64 // UnixNano of the last report; 0: none outstanding
	lat    chan time.Duration
}

func (r *restarter) SetFailureReporter(f resource.ReportFunc) { r.report = f }
func (r *restarter) Online(context.Context) error {
	if t := r.failed.Swap(0); t != 0 {
		r.lat <- time.Duration(time.Now().UnixNano() - t)
	}
	return nil
}
func (*restarter) Offline(context.Context) error { return nil }
func (*restarter) IsAlive(context.Context) error { return nil }

func (r *restarter) fail() {
	r.failed.Store(time.Now().UnixNano())
	r.report(errBench)
}

var errBench = errors.New("bench: disk gone")

// hostRestarters hosts n Online restarters with RestartDelay NoDelay and no
// limit on restarts.
func hostRestarters(b *testing.B, n int) (*monitor.Monitor, []*restarter, chan time.Duration) {
	b.Helper()
	lat := make(chan time.Duration, n)
	m, err := monitor.New(monitor.Options{DefaultPolicy: monitor.Policy{
		Policy:           wrapper.Policy{IsAliveInterval: time.Hour, LooksAliveInterval: resource.Never},
		RestartDelay:     resource.NoDelay,
		RestartThreshold: 1 << 30,
		RestartPeriod:    time.Second,
	}})
	if err != nil {
		b.Fatal(err)
	}
	rs := make([]*restarter, 0, n)
	typ, err := resource.NewType("restarter", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
		r := &restarter{lat: lat}
		rs = append(rs, r)
		return r, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.RegisterType(typ); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range n {
		name := fmt.Sprint("r", i)
		if err := m.Add(ctx, monitor.Spec{Name: name, Type: "restarter"}); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Online(name); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		if err := m.Wait(ctx, fmt.Sprint("r", i)); err != nil {
			b.Fatal(err)
		}
	}
	return m, rs, lat
}

func percentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkFailureToRestart is a sparse failure's path through the
// notifier (R23) to the restart (R31, RestartDelay NoDelay): 1000 hosted
// resources, one fails at a time. An op is one whole cycle: the report, the
// restart, and the wait until the resource is Online again (the timer
// runs throughout: stopping it per op stops the world to read the memory
// statistics, which dominated the profile); p50-µs and p99-µs are report
// → Online entered, the figure the issue asks for.
func BenchmarkFailureToRestart(b *testing.B) {
	const n = 1000
	m, rs, lat := hostRestarters(b, n)
	ctx := context.Background()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprint("r", i)
	}
	all := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := rs[i%n]
		r.fail()
		all = append(all, <-lat)
		if err := m.Wait(ctx, names[i%n]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	percentiles(b, all)
	if err := m.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFailureStorm is 1000 hosted resources failing at once, each
// through its notifier; an op is the storm, drained when every resource's
// restart has begun. p50/p99 are each failure's report → Online latency.
func BenchmarkFailureStorm(b *testing.B) {
	const n = 1000
	m, rs, lat := hostRestarters(b, n)
	ctx := context.Background()
	var all []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, r := range rs {
			r.fail()
		}
		for range n {
			all = append(all, <-lat)
		}
		b.StopTimer()
		for i := range n {
			if err := m.Wait(ctx, fmt.Sprint("r", i)); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	percentiles(b, all)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/storm")
	if err := m.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
}
