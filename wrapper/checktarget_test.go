package wrapper

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/resource"
)

// handChecker is a checker of the test's own (a Checker other than
// healthcheck.Scheduler, so its Dones come from healthcheck.NewDone): it
// keeps every registration, and a check runs only when the test ticks one.
type handChecker struct {
	mu   sync.Mutex
	regs []*handReg
}

func (c *handChecker) Register(t healthcheck.Target, _ healthcheck.Policy) healthcheck.Registration {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &handReg{t: t, results: make(chan error, 4)}
	c.regs = append(c.regs, r)
	return r
}

// reg returns the i-th registration made.
func (c *handChecker) reg(t *testing.T, i int) *handReg {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if i >= len(c.regs) {
		t.Fatalf("%d registrations, want registration %d", len(c.regs), i)
	}
	return c.regs[i]
}

// handReg is one registration of a handChecker; it is a
// healthcheck.Reporter.
type handReg struct {
	t       healthcheck.Target
	off     atomic.Bool
	results chan error // what the target reported of the checks it started
}

func (r *handReg) SetPolicy(healthcheck.Policy) {}
func (r *handReg) Unregister()                  { r.off.Store(true) }

func (r *handReg) ReportCheck(_ resource.Op, err error) { r.results <- err }

// tick hands r's target a check of kind op, as a tick that was on its way
// would even after Unregister.
func (r *handReg) tick(op resource.Op) healthcheck.Start {
	return r.t.Check(healthcheck.NewDone(r, op))
}

// countingRes is a healthy resource that counts its IsAlive calls.
type countingRes struct {
	healthy
	isAlive atomic.Int32
}

func (r *countingRes) IsAlive(context.Context) error { r.isAlive.Add(1); return nil }

// R21: a tick or a failure of the registration of an online period that has
// ended (it was on its way when the wrapper unregistered) starts no check
// and latches nothing in the next online period; the current
// registration's do. The wrapper tells them apart by the registration they
// come with (checkTarget).
func TestEndedPeriodsTickAndFailureRefused(t *testing.T) {
	ctx := t.Context()
	c := &handChecker{}
	res := &countingRes{}
	w, err := New(res, Options{Clock: clock.NewMock(), Checker: c})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := w.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	online := func() {
		t.Helper()
		if _, err := w.Online(); err != nil {
			t.Fatal(err)
		}
		if err := w.Wait(ctx); err != nil || w.State() != resource.Online {
			t.Fatalf("Online: %v, %v", w.State(), err)
		}
	}
	online()
	first := c.reg(t, 0)
	if _, err := w.Offline(); err != nil {
		t.Fatal(err)
	}
	if err := w.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if !first.off.Load() {
		t.Fatal("R15: Offline did not unregister")
	}
	online() // the second online period
	second := c.reg(t, 1)
	if first == second {
		t.Fatal("one registration for two online periods")
	}

	if got := first.tick(resource.OpIsAlive); got != healthcheck.Skipped {
		t.Errorf("the first period's tick in the second: %v, want Skipped", got)
	}
	if n := res.isAlive.Load(); n != 0 {
		t.Errorf("the first period's tick called IsAlive %d times in the second", n)
	}
	first.t.Fail(first, resource.OpIsAlive, errors.New("the first period's failure"))
	if s := w.State(); s != resource.Online {
		t.Fatalf("the first period's failure latched in the second: %v", s)
	}

	if got := second.tick(resource.OpIsAlive); got != healthcheck.Started {
		t.Fatalf("the second period's tick: %v, want Started", got)
	}
	if err := <-second.results; err != nil { // the check ran on this goroutine: reported
		t.Errorf("the second period's check: %v", err)
	}
	if n := res.isAlive.Load(); n != 1 {
		t.Errorf("IsAlive called %d times, want 1", n)
	}
	if len(first.results) != 0 {
		t.Error("a check's outcome went to the first period's registration")
	}
	second.t.Fail(second, resource.OpIsAlive, errors.New("sick"))
	if s := w.State(); s != resource.Failed {
		t.Errorf("the second period's failure: %v, want Failed", s)
	}
}

// fixedChecker returns one registration, made beforehand, every time: what
// registering costs the wrapper is then all that is measured.
type fixedChecker struct{ reg handReg }

func (c *fixedChecker) Register(healthcheck.Target, healthcheck.Policy) healthcheck.Registration {
	return &c.reg
}

// Issue 10: the wrapper registers itself as the target; registering
// allocates nothing of the wrapper's (an adapter per online period was a
// 16-byte allocation).
func TestRegisterAllocatesNothing(t *testing.T) {
	w, err := New(healthy{}, Options{Clock: clock.NewMock(), Checker: &fixedChecker{}})
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := testing.AllocsPerRun(100, w.register); n != 0 {
		t.Errorf("register allocates %v times, want 0", n)
	}
}
