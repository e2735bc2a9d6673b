package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// R30: the monitor never polls: checks run only on each resource's own
// intervals, which are its common properties, settable per resource.
func TestNoPollingAndPerResourceIntervals(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	a := e.add("a", monitor.Policy{Policy: wrapper.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never}})
	b := e.add("b", monitor.Policy{Policy: wrapper.Policy{IsAliveInterval: 30 * time.Second, LooksAliveInterval: resource.Never}})
	e.online("a")
	e.online("b")
	for i := 1; i <= 3; i++ {
		e.clk.Add(10 * time.Second)
		require.NoError(t, a.WaitCount(e.ctx, resource.OpIsAlive, i))
	}
	require.NoError(t, b.WaitCount(e.ctx, resource.OpIsAlive, 1))
	assert.Equal(t, 1, b.Count(resource.OpIsAlive))
	assert.Equal(t, 0, a.Count(resource.OpLooksAlive)+b.Count(resource.OpLooksAlive))

	// A new interval applies while running.
	require.NoError(t, e.m.SetPolicy(e.ctx, "b", monitor.Policy{Policy: wrapper.Policy{IsAliveInterval: 5 * time.Second, LooksAliveInterval: resource.Never}}))
	p, err := e.m.Policy("b")
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, p.IsAliveInterval)
	assert.Equal(t, 2, p.RestartThreshold, "defaults filled in")
	e.clk.Add(5 * time.Second)
	require.NoError(t, b.WaitCount(e.ctx, resource.OpIsAlive, 2))
	assert.ErrorIs(t, e.m.SetPolicy(e.ctx, "b", monitor.Policy{RestartThreshold: -1}), resource.ErrInvalidOption)
}

// R35: a call abandoned for longer than DeadlockTimeout is reported with
// its entry point and stack, and quarantines the resource: Online and
// Offline are refused until it returns; Terminate stays allowed.
func TestDeadlockAndQuarantine(t *testing.T) {
	e := newMenv(t, monitor.Options{DeadlockTimeout: 5 * time.Minute})
	f := e.add("store", monitor.Policy{Policy: wrapper.Policy{PendingTimeout: time.Minute}, RestartAction: monitor.NoRestart})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	f.Script(resource.OpOnline, rt.Hang(gate, nil))
	_, err := e.m.Online("store")
	require.NoError(t, err)
	require.NoError(t, f.WaitCount(e.ctx, resource.OpOnline, 1))
	e.clk.Add(time.Minute) // the Online times out and is abandoned
	e.wait(failed("store"), 1)
	assert.False(t, e.status("store").Quarantined)
	e.clk.Add(5 * time.Minute)
	ev := e.wait(kind("store", resource.Deadlock), 1)
	assert.Equal(t, resource.OpOnline, ev.Op)
	assert.Contains(t, string(ev.Stack), "resourcetest")
	assert.ErrorIs(t, ev.Err, resource.ErrQuarantined)
	assert.True(t, e.status("store").Quarantined)
	_, err = e.m.Online("store")
	assert.ErrorIs(t, err, resource.ErrQuarantined)
	_, err = e.m.Offline("store")
	assert.ErrorIs(t, err, resource.ErrQuarantined)
	require.NoError(t, e.m.Terminate(e.ctx, "store"), "Terminate stays allowed")
	e.clk.Add(time.Hour)
	assert.Len(t, eventsOf(e, "store", resource.Deadlock), 1, "reported once")

	gate.Open() // the call returns: the quarantine ends
	require.Eventually(t, func() bool { return !e.status("store").Quarantined }, guard, time.Millisecond)
	e.online("store")
}

// R35: exempt operations are not abandoned, so never deadlocked.
func TestExemptIsNotDeadlock(t *testing.T) {
	e := newMenv(t, monitor.Options{DeadlockTimeout: time.Minute})
	f := e.add("store", monitor.Policy{Policy: wrapper.Policy{PendingTimeout: time.Minute}})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	f.Script(resource.OpOnline, rt.WithoutTimeout(gate))
	_, err := e.m.Online("store")
	require.NoError(t, err)
	require.NoError(t, f.WaitCount(e.ctx, resource.OpOnline, 1))
	require.Eventually(t, func() bool { return e.status("store").Exempt }, guard, time.Millisecond)
	e.clk.Add(time.Hour)
	assert.Empty(t, eventsOf(e, "store", resource.Deadlock))
	assert.False(t, e.status("store").Quarantined)
	gate.Open()
	require.NoError(t, e.m.Wait(e.ctx, "store"))
}

// R36: a subscriber that does not read loses events, never blocks the
// monitor, and later receives one EventsDropped marker; Status still shows
// every failure and failover request.
func TestSubscriptionOverflow(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	slow := e.m.Subscribe(2)
	defer slow.Close()
	f := e.add("r", monitor.Policy{})
	failThrice(t, e, f, "r")
	e.wait(kind("r", resource.FailoverRequested), 1)
	st := e.status("r")
	assert.Equal(t, 3, st.Failures)
	assert.Equal(t, monitor.FailoverRequested, st.Failover)
	<-slow.C()
	<-slow.C()
	f2 := e.add("s", monitor.Policy{})
	_ = f2
	e.online("s") // produces events after room was made
	marker := <-slow.C()
	require.Equal(t, resource.EventsDropped, marker.Kind)
	assert.Greater(t, marker.Dropped, uint64(5))
}

// R37: Add, Remove, Online, Offline, Terminate, Probe, Control and Status
// from many goroutines; errors for one resource never stop the others.
func TestConcurrentUse(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("r%d", i)
			if !assert.NoError(t, e.m.Add(e.ctx, monitor.Spec{Name: name, Type: "fake"})) {
				return
			}
			_, _ = e.m.Probe(e.ctx, name)
			_, _ = e.m.Online(name)
			_ = e.m.Wait(e.ctx, name)
			_, _ = e.m.Status(name)
			_, _ = e.m.Control(e.ctx, name, resource.FirstResourceControlCode, nil)
			_ = e.m.StatusAll()
			_, _ = e.m.Offline(name)
			_ = e.m.Wait(e.ctx, name)
			if i%2 == 0 {
				assert.NoError(t, e.m.Terminate(e.ctx, name))
				assert.NoError(t, e.m.Remove(e.ctx, name))
			}
		})
	}
	wg.Wait()
	assert.Len(t, e.m.Resources(), n/2)
	for _, name := range e.m.Resources() {
		e.state(name, resource.Offline)
	}
}

// R38: Shutdown takes Online resources offline, terminates pending ones,
// closes all, and afterwards everything says ErrShutdown.
func TestShutdown(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	on := e.add("on", monitor.Policy{})
	pend := e.add("pending", monitor.Policy{})
	e.add("off", monitor.Policy{})
	e.online("on")
	pend.Script(resource.OpOnline, rt.HangUntilCancelled())
	_, err := e.m.Online("pending")
	require.NoError(t, err)
	require.NoError(t, pend.WaitCount(e.ctx, resource.OpOnline, 1))

	require.NoError(t, e.m.Shutdown(e.ctx))
	assert.Equal(t, 1, on.Count(resource.OpOffline), "Online resources go offline")
	assert.Equal(t, 1, on.Closes())
	assert.GreaterOrEqual(t, pend.Count(resource.OpTerminate), 1, "pending resources are terminated")
	assert.Equal(t, 1, pend.Closes())
	_, err = e.m.Online("on")
	assert.ErrorIs(t, err, monitor.ErrShutdown)
	assert.ErrorIs(t, e.m.Add(e.ctx, monitor.Spec{Name: "x", Type: "fake"}), monitor.ErrShutdown)
	assert.NoError(t, e.m.Shutdown(e.ctx), "a second Shutdown is a no-op")
}

// R38: a resource whose calls hang beyond the context is reported.
func TestShutdownReportsWhatIsLeft(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	e.caps = rt.Caps{NoTerminator: true}
	f := e.add("stuck", monitor.Policy{})
	gate := rt.NewGate()
	t.Cleanup(gate.Open) // runs before the env's Shutdown
	f.Script(resource.OpOnline, rt.Hang(gate, nil))
	_, err := e.m.Online("stuck")
	require.NoError(t, err)
	require.NoError(t, f.WaitCount(e.ctx, resource.OpOnline, 1))
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	err = e.m.Shutdown(ctx)
	require.Error(t, err)
	assert.ErrorContains(t, err, "stuck")
	assert.ErrorIs(t, err, context.Canceled)
}

// R39: with MaxConcurrentOps 1 a second Online waits in a queue, shows
// OnlinePending and queued at once, and its deadline starts when it leaves
// the queue.
func TestMaxConcurrentOps(t *testing.T) {
	e := newMenv(t, monitor.Options{MaxConcurrentOps: 1})
	a := e.add("a", monitor.Policy{})
	b := e.add("b", monitor.Policy{})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	a.Script(resource.OpOnline, rt.Hang(gate, nil))
	_, err := e.m.Online("a")
	require.NoError(t, err)
	st, err := e.m.Online("b")
	require.NoError(t, err)
	assert.Equal(t, resource.OnlinePending, st)
	sb := e.status("b")
	assert.True(t, sb.Queued)
	assert.True(t, sb.Deadline.IsZero())
	e.clk.Add(time.Minute)
	assert.Equal(t, 0, b.Count(resource.OpOnline), "a queue, not a refusal")
	gate.Open()
	require.NoError(t, e.m.Wait(e.ctx, "b"))
	e.state("b", resource.Online)
}

// R51: resource-specific codes pass through to the Controller; other codes
// are unsupported.
func TestControl(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	f := e.add("r", monitor.Policy{})
	f.SetControlResult([]byte("ok:"))
	out, err := e.m.Control(e.ctx, "r", resource.FirstResourceControlCode+7, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "ok:x", string(out))
	_, err = e.m.Control(e.ctx, "r", 0x42, nil)
	assert.ErrorIs(t, err, resource.ErrUnsupported)
	_, err = e.m.Control(e.ctx, "nope", resource.FirstResourceControlCode, nil)
	assert.ErrorIs(t, err, monitor.ErrNoResource)
}

// Bad input: each a clear error, and the monitor keeps running for
// everyone else.
func TestBadInput(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	e.add("r", monitor.Policy{})
	err := e.m.Add(e.ctx, monitor.Spec{Name: "r", Type: "fake"})
	assert.ErrorIs(t, err, monitor.ErrExists)
	err = e.m.Add(e.ctx, monitor.Spec{Name: "x", Type: "nope"})
	assert.ErrorIs(t, err, monitor.ErrUnknownType)
	assert.ErrorContains(t, err, "fake", "the message lists the registered types")
	err = e.m.Add(e.ctx, monitor.Spec{Type: "fake"})
	assert.ErrorIs(t, err, resource.ErrInvalidOption)
	for field, p := range map[string]monitor.Policy{
		"RestartThreshold":     {RestartThreshold: -1},
		"RestartPeriod":        {RestartPeriod: -time.Second},
		"RestartDelay":         {RestartDelay: -time.Second},
		"RetryPeriodOnFailure": {RetryPeriodOnFailure: -time.Hour},
		"PendingTimeout":       {Policy: wrapper.Policy{PendingTimeout: -time.Second}},
		"RestartAction":        {RestartAction: 9},
	} {
		err := e.m.Add(e.ctx, monitor.Spec{Name: "bad", Type: "fake", Policy: p})
		assert.ErrorIs(t, err, resource.ErrInvalidOption, field)
		assert.ErrorContains(t, err, field)
	}
	_, err = e.m.Online("missing")
	assert.ErrorIs(t, err, monitor.ErrNoResource)
	assert.ErrorIs(t, e.m.Remove(e.ctx, "missing"), monitor.ErrNoResource)
	assert.ErrorIs(t, e.m.DeclineFailover("r"), monitor.ErrNoFailoverRequest)
	e.online("r") // the others are unaffected

	for _, o := range []monitor.Options{
		{DeadlockTimeout: -time.Second}, {RestartJitter: -1}, {MaxConcurrentOps: -1}, {MaxConcurrentChecks: -1},
		{DefaultPolicy: monitor.Policy{RestartThreshold: -2}},
	} {
		_, err := monitor.New(o)
		assert.ErrorIs(t, err, resource.ErrInvalidOption)
	}
	boom := errors.New("open failed")
	typ, err := resource.NewType("broken", nil, func(context.Context, string, properties.Values) (resource.Resource, error) { return nil, boom })
	require.NoError(t, err)
	require.NoError(t, e.m.RegisterType(typ))
	err = e.m.Add(e.ctx, monitor.Spec{Name: "b", Type: "broken"})
	assert.ErrorIs(t, err, boom)
	assert.NotContains(t, e.m.Resources(), "b", "R40: nothing remains")
}
