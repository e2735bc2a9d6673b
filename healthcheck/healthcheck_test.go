package healthcheck_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/resource"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errSick = errors.New("sick")

// target is a synchronous fake: each check completes inside Check, with
// the next scripted result, unless hold is set, when it stays running.
type target struct {
	looks bool

	mu      sync.Mutex
	checks  []resource.Op
	results []error
	hold    bool
	running bool
	fails   []error
}

func (t *target) HasLooksAlive() bool { return t.looks }

func (t *target) Check(done healthcheck.Done) healthcheck.Start {
	op := done.Op()
	t.mu.Lock()
	if t.running {
		t.mu.Unlock()
		return healthcheck.StillRunning
	}
	t.checks = append(t.checks, op)
	if t.hold {
		t.running = true
		t.mu.Unlock()
		return healthcheck.Started
	}
	var err error
	if len(t.results) > 0 {
		err, t.results = t.results[0], t.results[1:]
	}
	t.mu.Unlock()
	done.Report(err)
	return healthcheck.Started
}

func (t *target) Fail(_ healthcheck.Registration, _ resource.Op, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fails = append(t.fails, err)
}

func (t *target) snapshot() ([]resource.Op, []error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]resource.Op(nil), t.checks...), append([]error(nil), t.fails...)
}

// advance moves the mock clock in steps of one second and waits, after
// each step, until the checks that were due have run (they run in timer
// goroutines).
func advance(t *testing.T, clk *clock.Mock, tg *target, d time.Duration, wantChecks int) {
	t.Helper()
	clk.Add(d)
	require.Eventually(t, func() bool { c, _ := tg.snapshot(); return len(c) >= wantChecks }, 10*time.Second, time.Millisecond)
}

func resolve(t *testing.T, p healthcheck.Policy) healthcheck.Policy {
	t.Helper()
	p, err := p.Resolve()
	require.NoError(t, err)
	return p
}

// R20: IsAlive every IsAliveInterval and, for targets that have it,
// LooksAlive every LooksAliveInterval.
func TestIntervals(t *testing.T) {
	for _, looks := range []bool{false, true} {
		clk := clock.NewMock()
		s := healthcheck.New(healthcheck.Options{Clock: clk})
		tg := &target{looks: looks}
		reg := s.Register(tg, resolve(t, healthcheck.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: 4 * time.Second}))
		want := 1 // t=10: IsAlive
		if looks {
			want += 2 // t=4, 8: LooksAlive
		}
		advance(t, clk, tg, 10*time.Second, want)
		checks, fails := tg.snapshot()
		isAlive, looksAlive := 0, 0
		for _, op := range checks {
			switch op {
			case resource.OpIsAlive:
				isAlive++
			case resource.OpLooksAlive:
				looksAlive++
			}
		}
		assert.Equal(t, 1, isAlive)
		if looks {
			assert.Equal(t, 2, looksAlive)
		} else {
			assert.Zero(t, looksAlive, "no LooksAlive for a target without it")
		}
		assert.Empty(t, fails)
		reg.Unregister()
		clk.Add(time.Minute)
		after, _ := tg.snapshot()
		assert.Len(t, after, len(checks), "no check after Unregister")
		reg.Unregister() // again: nothing
	}
}

// R21, R24: FailureThreshold failed checks in a row latch; a pass resets
// the count; each latch hands the target the last error.
func TestThreshold(t *testing.T) {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	tg := &target{results: []error{errSick, nil, errSick, errSick, errSick}}
	reg := s.Register(tg, resolve(t, healthcheck.Policy{IsAliveInterval: time.Second, FailureThreshold: 3}))
	defer reg.Unregister()
	for i := 1; i <= 4; i++ {
		advance(t, clk, tg, time.Second, i)
	}
	_, fails := tg.snapshot()
	assert.Empty(t, fails, "fail, pass, fail, fail: never three in a row")
	advance(t, clk, tg, time.Second, 5)
	require.Eventually(t, func() bool { _, f := tg.snapshot(); return len(f) == 1 }, 10*time.Second, time.Millisecond)
	_, fails = tg.snapshot()
	assert.ErrorIs(t, fails[0], errSick)
}

// R21: a tick that finds the previous check still running starts none and
// counts as a failed check with ErrCheckTimeout.
func TestRunningTickCounts(t *testing.T) {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	tg := &target{hold: true}
	reg := s.Register(tg, resolve(t, healthcheck.Policy{IsAliveInterval: time.Second, FailureThreshold: 2}))
	defer reg.Unregister()
	advance(t, clk, tg, time.Second, 1) // starts, stays running
	clk.Add(time.Second)                // 1 of 2
	clk.Add(time.Second)                // 2 of 2
	require.Eventually(t, func() bool { _, f := tg.snapshot(); return len(f) == 1 }, 10*time.Second, time.Millisecond)
	checks, fails := tg.snapshot()
	assert.Len(t, checks, 1, "no second check while one runs")
	assert.ErrorIs(t, fails[0], resource.ErrCheckTimeout)
}

// R24: inside StartupGrace failed checks do not count.
func TestStartupGrace(t *testing.T) {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	tg := &target{results: []error{errSick, errSick, errSick}}
	reg := s.Register(tg, resolve(t, healthcheck.Policy{IsAliveInterval: time.Second, StartupGrace: 2500 * time.Millisecond}))
	defer reg.Unregister()
	advance(t, clk, tg, time.Second, 1)
	advance(t, clk, tg, time.Second, 2)
	_, fails := tg.snapshot()
	assert.Empty(t, fails, "inside the grace")
	advance(t, clk, tg, time.Second, 3)
	require.Eventually(t, func() bool { _, f := tg.snapshot(); return len(f) == 1 }, 10*time.Second, time.Millisecond)
}

// SetPolicy changes the intervals of a registered target.
func TestSetPolicy(t *testing.T) {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	tg := &target{}
	reg := s.Register(tg, resolve(t, healthcheck.Policy{IsAliveInterval: time.Minute}))
	defer reg.Unregister()
	reg.SetPolicy(resolve(t, healthcheck.Policy{IsAliveInterval: time.Second}))
	advance(t, clk, tg, time.Second, 1)
	advance(t, clk, tg, time.Second, 2)
}

// Bad policies are refused with the field's name.
func TestResolve(t *testing.T) {
	p, err := healthcheck.Policy{}.Resolve()
	require.NoError(t, err)
	assert.Equal(t, healthcheck.DefaultIsAliveInterval, p.IsAliveInterval)
	assert.Equal(t, healthcheck.DefaultLooksAliveInterval, p.LooksAliveInterval)
	assert.Equal(t, 1, p.FailureThreshold)
	for field, bad := range map[string]healthcheck.Policy{
		"IsAliveInterval":    {IsAliveInterval: -time.Second},
		"LooksAliveInterval": {LooksAliveInterval: -3},
		"FailureThreshold":   {FailureThreshold: -1},
		"StartupGrace":       {StartupGrace: -time.Second},
	} {
		_, err := bad.Resolve()
		assert.ErrorIs(t, err, resource.ErrInvalidOption, field)
		assert.ErrorContains(t, err, field)
	}
	p, err = healthcheck.Policy{IsAliveInterval: resource.Never}.Resolve()
	require.NoError(t, err)
	assert.Equal(t, resource.Never, p.IsAliveInterval)
}

// slowTarget's checks stay running until the test calls their done.
type slowTarget struct {
	mu    sync.Mutex
	dones []healthcheck.Done
}

func (*slowTarget) HasLooksAlive() bool { return false }
func (t *slowTarget) Check(done healthcheck.Done) healthcheck.Start {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dones = append(t.dones, done)
	return healthcheck.Started
}
func (*slowTarget) Fail(healthcheck.Registration, resource.Op, error) {}
func (t *slowTarget) started() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.dones)
}

// MaxConcurrentChecks: a tick that finds every slot taken waits in a
// queue; a check's outcome (its return, or its time-out) frees the slot at
// once and the next queued check starts.
func TestMaxConcurrentChecks(t *testing.T) {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk, MaxConcurrentChecks: 1})
	a, b := &slowTarget{}, &slowTarget{}
	p := resolve(t, healthcheck.Policy{IsAliveInterval: time.Second})
	ra := s.Register(a, p)
	defer ra.Unregister()
	rb := s.Register(b, p)
	defer rb.Unregister()
	clk.Add(time.Second)
	require.Eventually(t, func() bool { return a.started()+b.started() == 1 }, 10*time.Second, time.Millisecond)
	first, second := a, b
	if b.started() == 1 {
		first, second = b, a
	}
	assert.Equal(t, 0, second.started(), "queued: the only slot is taken")
	first.mu.Lock()
	done := first.dones[0]
	first.mu.Unlock()
	done.Report(resource.ErrCheckTimeout) // timed out: the slot is free at once
	require.Eventually(t, func() bool { return second.started() == 1 }, 10*time.Second, time.Millisecond)
}

// R24, R5: failures count per kind: a passing LooksAlive does not hide a
// failing IsAlive, and a tick skipped because the other kind runs is
// neither a pass nor a failure.
func TestFailuresPerKind(t *testing.T) {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	tg := &kindTarget{isAlive: errSick}
	reg := s.Register(tg, resolve(t, healthcheck.Policy{IsAliveInterval: 4 * time.Second, LooksAliveInterval: time.Second, FailureThreshold: 2}))
	defer reg.Unregister()
	for range 8 {
		clk.Add(time.Second)
	}
	require.Eventually(t, func() bool { return tg.failed() == resource.OpIsAlive }, 10*time.Second, time.Millisecond)
}

type kindTarget struct {
	isAlive error
	mu      sync.Mutex
	fail    resource.Op
}

func (*kindTarget) HasLooksAlive() bool { return true }
func (t *kindTarget) Check(done healthcheck.Done) healthcheck.Start {
	if done.Op() == resource.OpIsAlive {
		done.Report(t.isAlive)
	} else {
		done.Report(nil)
	}
	return healthcheck.Started
}
func (t *kindTarget) Fail(_ healthcheck.Registration, op resource.Op, _ error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fail = op
}
func (t *kindTarget) failed() resource.Op {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fail
}

// regTarget records the registration each check and each failure comes
// with; its checks fail.
type regTarget struct {
	mu     sync.Mutex
	checks []healthcheck.Registration
	fails  []healthcheck.Registration
}

func (*regTarget) HasLooksAlive() bool { return true }
func (t *regTarget) Check(done healthcheck.Done) healthcheck.Start {
	t.mu.Lock()
	t.checks = append(t.checks, done.Registration())
	t.mu.Unlock()
	done.Report(errSick)
	return healthcheck.Started
}
func (t *regTarget) Fail(reg healthcheck.Registration, _ resource.Op, _ error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fails = append(t.fails, reg)
}
func (t *regTarget) seen() (checks, fails []healthcheck.Registration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append(checks, t.checks...), append(fails, t.fails...)
}

// Every check and failure names the registration it is of, as Register
// returned it, so that a target registered again can refuse an earlier
// registration's (package wrapper does, once per online period, R21).
func TestChecksAndFailuresNameTheirRegistration(t *testing.T) {
	clk := clock.NewMock()
	s := healthcheck.New(healthcheck.Options{Clock: clk})
	tg := &regTarget{}
	p := resolve(t, healthcheck.Policy{IsAliveInterval: 2 * time.Second, LooksAliveInterval: time.Second, FailureThreshold: 2})
	first := s.Register(tg, p)
	first.Unregister()
	reg := s.Register(tg, p)
	defer reg.Unregister()
	if reg == first {
		t.Fatal("two registrations are equal")
	}
	for range 4 {
		clk.Add(time.Second)
	}
	require.Eventually(t, func() bool { _, f := tg.seen(); return len(f) >= 2 }, 10*time.Second, time.Millisecond)
	checks, fails := tg.seen()
	for _, got := range append(checks, fails...) {
		assert.Equal(t, reg, got)
	}
}

// Issue 10: registering a target that has no LooksAlive allocates one
// record, the registration: the Done each check is handed is a value, and
// nothing else is made per registration.
func TestRegisterAllocatesOneRecord(t *testing.T) {
	s := healthcheck.New(healthcheck.Options{Clock: clock.NewMock()})
	tg := &target{}
	p := resolve(t, healthcheck.Policy{IsAliveInterval: time.Second})
	regs := make([]healthcheck.Registration, 0, 1001)
	defer func() {
		for _, r := range regs {
			r.Unregister()
		}
	}()
	regs = append(regs, s.Register(tg, p)) // the policy is cached, the timer made
	// The heap's array grows now and then: its amortised share rounds
	// down to nothing over the runs.
	if n := testing.AllocsPerRun(1000, func() { regs = append(regs, s.Register(tg, p)) }); n != 1 {
		t.Errorf("Register allocates %v times, want 1", n)
	}
}

// reporter is a Checker's registration of the test's own.
type reporter struct {
	ops  []resource.Op
	errs []error
}

func (*reporter) SetPolicy(healthcheck.Policy) {}
func (*reporter) Unregister()                  {}
func (r *reporter) ReportCheck(op resource.Op, err error) {
	r.ops, r.errs = append(r.ops, op), append(r.errs, err)
}

// A Checker other than Scheduler hands out Dones made by NewDone: they
// name its registration and report to it; the zero Done reports nowhere.
func TestNewDone(t *testing.T) {
	r := &reporter{}
	d := healthcheck.NewDone(r, resource.OpLooksAlive)
	assert.Equal(t, resource.OpLooksAlive, d.Op())
	assert.Equal(t, healthcheck.Registration(r), d.Registration())
	d.Report(errSick)
	assert.Equal(t, []resource.Op{resource.OpLooksAlive}, r.ops)
	assert.Equal(t, []error{errSick}, r.errs)

	var zero healthcheck.Done
	assert.Nil(t, zero.Registration())
	zero.Report(errSick) // nothing, and no panic
}
