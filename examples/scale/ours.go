package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// ---- health checks through the monitor ----

// checkRes is a resource with a no-op IsAlive that measures how late each
// check runs: the scheduler's ticks are due one interval apart from the
// registration, which follows the return of Online by a microsecond or
// so, so (now − online) mod interval is each check's lateness (an upper
// bound by that microsecond; valid while checks are less than an interval
// late).
type checkRes struct {
	st       *checkStats
	interval int64
	online   int64 // mono at Online's return; written by Online, read by checks after it
}

func (r *checkRes) Online(context.Context) error { r.online = mono(); return nil }
func (*checkRes) Offline(context.Context) error  { return nil }
func (r *checkRes) IsAlive(context.Context) error {
	r.st.observe((mono() - r.online) % r.interval)
	return noopIsAlive()
}

type oursChecks struct {
	m *monitor.Monitor

	// The resources' own state, made before the baseline reading
	// (prepare): the authors' structs, in the order they are added, and
	// their names.
	res   []checkRes
	names []string
}

func (s *oursChecks) prepare(n int, interval time.Duration, st *checkStats) {
	s.res = make([]checkRes, n)
	s.names = make([]string, n)
	for i := range n {
		s.res[i] = checkRes{st: st, interval: int64(interval)}
		s.names[i] = fmt.Sprint("r", i)
	}
}

func (s *oursChecks) start(n int, interval time.Duration, st *checkStats) {
	if len(s.res) != n {
		s.prepare(n, interval, st)
	}
	m, err := monitor.New(monitor.Options{DefaultPolicy: monitor.Policy{Policy: wrapper.Policy{
		IsAliveInterval: interval, LooksAliveInterval: resource.Never, CheckTimeout: checkTimeout,
	}}})
	must(err)
	s.m = m
	next := 0 // Add opens one resource at a time, in order
	typ, err := resource.NewType("noop", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
		r := &s.res[next]
		next++
		return r, nil
	})
	must(err)
	must(m.RegisterType(typ))
	ctx := context.Background()
	t0 := mono()
	step := max(1, n/1000)
	for i := range n {
		// Registration time sets a resource's phase: spread the Onlines
		// over one interval in 1000 steps (later ones wrap round when
		// adding is slower).
		if i%step == 0 {
			if d := t0 + int64(interval)*int64(i)/int64(n) - mono(); d > 0 {
				time.Sleep(time.Duration(d))
			}
		}
		name := s.names[i]
		must(m.Add(ctx, monitor.Spec{Name: name, Type: "noop"}))
		_, err := m.Online(name)
		must(err)
	}
}

// notOnline counts the hosted resources that are not Online: a check that
// failed (timed out) made them Failed, and a restart may be under way.
func (s *oursChecks) notOnline() int {
	n := 0
	for _, st := range s.m.StatusAll() {
		if st.State != resource.Online || st.Failures > 0 {
			n++
		}
	}
	return n
}

func (s *oursChecks) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	must(s.m.Shutdown(ctx))
}

// ---- failure (through the notifier) → restart begins ----

// failRes reports failures through its notifier (R23); its Online, when a
// failure is outstanding, is the restart beginning.
type failRes struct {
	report  resource.ReportFunc
	failed  atomic.Int64 // mono of the outstanding report; 0: none
	restart restartFunc
}

func (r *failRes) SetFailureReporter(f resource.ReportFunc) { r.report = f }
func (r *failRes) Online(context.Context) error {
	if t := r.failed.Swap(0); t != 0 {
		r.restart(t)
	}
	return nil
}
func (*failRes) Offline(context.Context) error { return nil }
func (*failRes) IsAlive(context.Context) error { return nil }

var errDiskGone = errors.New("scale: disk gone")

type oursFail struct {
	m     *monitor.Monitor
	res   []*failRes
	names []string // "r0", "r1", …, made once
}

func (s *oursFail) setup(n int, restart restartFunc) {
	m, err := monitor.New(monitor.Options{DefaultPolicy: monitor.Policy{
		Policy:           wrapper.Policy{IsAliveInterval: time.Hour, LooksAliveInterval: resource.Never},
		RestartDelay:     resource.NoDelay,
		RestartThreshold: 1 << 30,
	}})
	must(err)
	s.m = m
	var mu sync.Mutex
	typ, err := resource.NewType("failing", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
		r := &failRes{restart: restart}
		mu.Lock()
		s.res = append(s.res, r)
		mu.Unlock()
		return r, nil
	})
	must(err)
	must(m.RegisterType(typ))
	ctx := context.Background()
	for i := range n {
		name := fmt.Sprint("r", i)
		s.names = append(s.names, name)
		must(m.Add(ctx, monitor.Spec{Name: name, Type: "failing"}))
		_, err := m.Online(name)
		must(err)
	}
	s.settle()
}

// settle waits until every resource is Online again.
func (s *oursFail) settle() {
	for i := range s.names {
		s.settleOne(i)
	}
}

// settleOne waits until resource i is Online again: after a sparse failure
// only the failed one has anything to settle, and walking all of them
// between two failures made garbage and cold caches that only our side of
// the comparison paid for.
func (s *oursFail) settleOne(i int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	must(s.m.Wait(ctx, s.names[i]))
}

func (s *oursFail) fail(i int) {
	r := s.res[i]
	r.failed.Store(mono())
	r.report(errDiskGone)
}

func (s *oursFail) teardown() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	must(s.m.Shutdown(ctx))
}

// ---- pending time-outs ----

// hungRes's Online hangs until the engine cancels it.
type hungRes struct{}

func (hungRes) Online(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (hungRes) Offline(context.Context) error    { return nil }
func (hungRes) IsAlive(context.Context) error    { return nil }

// oursTimeouts runs one wrapper per deadline, its Online hung, with
// PendingTimeout set so the deadline falls at due. The time-out action's
// start is the Failed event's time: the wrapper reads its clock when the
// deadline's handler begins.
func oursTimeouts(dues []int64, lat *samples) {
	checker := healthcheck.New(healthcheck.Options{})
	ws := make([]*wrapper.Wrapper, len(dues))
	var timedOut sync.WaitGroup
	timedOut.Add(len(dues))
	for i, due := range dues {
		now := time.Now()
		pt := time.Duration(due - mono())
		deadline := now.Add(pt)
		w, err := wrapper.New(hungRes{}, wrapper.Options{Checker: checker, Policy: wrapper.Policy{PendingTimeout: pt, TerminateTimeout: time.Second},
			Sink: func(ev resource.Event) {
				if ev.To == resource.Failed && errors.Is(ev.Err, resource.ErrPendingTimeout) {
					lat.add(ev.Time.Sub(deadline))
					timedOut.Done()
				}
			}})
		must(err)
		ws[i] = w
		_, err = w.Online()
		must(err)
	}
	timedOut.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, w := range ws {
		must(w.Close(ctx))
	}
}
