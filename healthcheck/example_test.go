package healthcheck_test

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/resource"
)

// disk is a Target whose checks run synchronously and fail from the third.
type disk struct {
	mu     sync.Mutex
	n      int
	failed chan error
}

func (*disk) HasLooksAlive() bool { return false }
func (d *disk) Check(done healthcheck.Done) healthcheck.Start {
	d.mu.Lock()
	d.n++
	n := d.n
	d.mu.Unlock()
	if n >= 3 {
		done.Report(errors.New("I/O error"))
	} else {
		done.Report(nil)
	}
	return healthcheck.Started
}
func (d *disk) Fail(_ healthcheck.Registration, _ resource.Op, err error) { d.failed <- err }

// A scheduler checks a target every IsAliveInterval; with FailureThreshold
// 2 the second failed check in a row is handed to the target as a failure.
func Example() {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	d := &disk{failed: make(chan error, 1)}
	p, _ := healthcheck.Policy{IsAliveInterval: 10 * time.Second, FailureThreshold: 2}.Resolve()
	reg := s.Register(d, p)
	defer reg.Unregister()
	for range 4 {
		clk.Add(10 * time.Second)
	}
	fmt.Println("failure:", <-d.failed)
	// Output:
	// failure: I/O error
}

// manual is a Checker of one's own, with one registration: it checks its
// target when asked, and prints what the checks report.
type manual struct{ t healthcheck.Target }

func (m *manual) Register(t healthcheck.Target, _ healthcheck.Policy) healthcheck.Registration {
	m.t = t
	return m
}
func (*manual) SetPolicy(healthcheck.Policy) {}
func (*manual) Unregister()                  {}
func (*manual) ReportCheck(op resource.Op, err error) {
	fmt.Printf("%v: %v\n", op, err)
}

// A Checker other than Scheduler hands its targets Dones made by NewDone:
// what a target reports reaches the registration's ReportCheck.
func ExampleNewDone() {
	m := &manual{}
	reg := m.Register(&disk{}, healthcheck.Policy{})
	for range 3 {
		m.t.Check(healthcheck.NewDone(reg.(healthcheck.Reporter), resource.OpIsAlive))
	}
	// Output:
	// IsAlive: <nil>
	// IsAlive: <nil>
	// IsAlive: I/O error
}

// A Timer is a one-shot deadline on the scheduler's heap; the generation
// it fires with tells a current firing from one that a re-arm made stale.
func ExampleScheduler_Arm() {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	fired := make(chan uint64, 1)
	var timeout healthcheck.Timer
	gen := s.Arm(&timeout, 5*time.Second, func(g uint64) { fired <- g })
	clk.Add(5 * time.Second)
	fmt.Println("current firing:", <-fired == gen)

	s.Arm(&timeout, 5*time.Second, func(g uint64) { fired <- g })
	fmt.Println("stopped before it fired:", timeout.Stop())
	// Output:
	// current firing: true
	// stopped before it fired: true
}

// deadline is a record of the caller's that is its own timer handler: arming
// it costs no closure.
type deadline struct {
	name  string
	fired chan string
}

func (d *deadline) OnTimer(uint64) { d.fired <- d.name + " timed out" }

// ExampleScheduler_ArmHandler arms a timer with a handler the caller already
// has.
func ExampleScheduler_ArmHandler() {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	d := &deadline{name: "exchange-sa", fired: make(chan string, 1)}
	var timeout healthcheck.Timer
	s.ArmHandler(&timeout, time.Minute, d)
	clk.Add(time.Minute)
	fmt.Println(<-d.fired)
	// Output:
	// exchange-sa timed out
}

// ExampleScheduler_ArmHandlerFrom arms a call's time-out from the clock
// reading its start was stamped with, saving a second reading.
func ExampleScheduler_ArmHandlerFrom() {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	d := &deadline{name: "exchange-sa", fired: make(chan string, 1)}
	var timeout healthcheck.Timer
	start := clk.Now() // the call starts
	clk.Add(20 * time.Second)
	s.ArmHandlerFrom(&timeout, start, time.Minute, d) // due at start + 1 min, 40 s from now
	clk.Add(40 * time.Second)
	fmt.Println(<-d.fired)
	// Output:
	// exchange-sa timed out
}

// ExampleScheduler_Later decides in each timer's firing and leaves the
// effects to Later, which the workers run once the firings due with it have
// started.
func ExampleScheduler_Later() {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	var mu sync.Mutex
	var order []string
	effects := make(chan struct{}, 3)
	timers := make([]healthcheck.Timer, 3)
	for i := range timers {
		s.Arm(&timers[i], time.Minute, func(uint64) {
			mu.Lock()
			order = append(order, "decided")
			mu.Unlock()
			s.Later(func() {
				mu.Lock()
				order = append(order, "effect")
				mu.Unlock()
				effects <- struct{}{}
			})
		})
	}
	clk.Add(time.Minute)
	for range timers {
		<-effects
	}
	fmt.Println(len(order), "steps; the first is", order[0])
	// Output:
	// 6 steps; the first is decided
}
