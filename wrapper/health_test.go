package wrapper_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

var checkPolicy = wrapper.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never, CheckTimeout: 5 * time.Second}

// R20, R21: a failed IsAlive latches: Online → Failed, once per online
// period, reported as an event with the check's error.
func TestFailedCheckLatches(t *testing.T) {
	e := newEnv(t, rt.Caps{}, checkPolicy)
	e.online()
	e.f.Script(resource.OpIsAlive, rt.Succeed(), rt.Fail(rt.ErrInjected))
	e.clk.Add(10 * time.Second)
	e.entered(resource.OpIsAlive, 1)
	require.NoError(t, e.f.WaitRunning(e.ctx, resource.OpIsAlive, 0))
	e.state(resource.Online)
	e.clk.Add(10 * time.Second)
	ev := e.wait(rt.To(resource.Failed), 1)
	assert.ErrorIs(t, ev.Err, rt.ErrInjected)
	assert.Equal(t, resource.OpIsAlive, ev.Op)
	assert.Equal(t, time.Unix(20, 0), ev.Time)
	e.clk.Add(time.Minute)
	assert.Equal(t, 2, e.f.Count(resource.OpIsAlive), "no checks once Failed")
	assert.Len(t, e.rec.Transitions(), 3, "latched once")
}

// R21: a check that does not return within CheckTimeout counts as failed
// with ErrCheckTimeout; the hung check stays tracked until it returns.
func TestHungCheckLatches(t *testing.T) {
	e := newEnv(t, rt.Caps{}, checkPolicy)
	e.online()
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpIsAlive, rt.Hang(gate, nil))
	e.clk.Add(10 * time.Second)
	e.entered(resource.OpIsAlive, 1)
	e.clk.Add(5 * time.Second)
	ev := e.wait(rt.To(resource.Failed), 1)
	assert.ErrorIs(t, ev.Err, resource.ErrCheckTimeout)
	ab := e.w.Abandoned()
	require.Len(t, ab, 1)
	assert.Equal(t, resource.OpIsAlive, ab[0].Op)
	// R5, R14: the restart waits for the hung check.
	_, err := e.w.Online()
	require.NoError(t, err)
	assert.Equal(t, 1, e.f.Count(resource.OpOnline))
	gate.Open()
	require.NoError(t, e.w.Wait(e.ctx))
	e.state(resource.Online)
}

// R21, R24: with FailureThreshold 2, one failed check does not latch; a
// tick that finds the previous check still running counts as a failure.
func TestFailureThresholdAndRunningTick(t *testing.T) {
	p := checkPolicy
	p.FailureThreshold = 2
	p.CheckTimeout = resource.Never // a hung check is found by the next tick
	e := newEnv(t, rt.Caps{}, p)
	e.online()
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpIsAlive, rt.Fail(rt.ErrInjected), rt.Succeed(), rt.Hang(gate, nil))
	e.clk.Add(10 * time.Second) // fails: 1 of 2
	e.entered(resource.OpIsAlive, 1)
	require.NoError(t, e.f.WaitRunning(e.ctx, resource.OpIsAlive, 0))
	e.clk.Add(10 * time.Second) // passes: count reset
	e.entered(resource.OpIsAlive, 2)
	require.NoError(t, e.f.WaitRunning(e.ctx, resource.OpIsAlive, 0))
	require.Eventually(t, func() bool { return e.w.IsAlive() == nil }, guard, time.Millisecond)
	e.clk.Add(10 * time.Second) // hangs
	e.entered(resource.OpIsAlive, 3)
	e.state(resource.Online)
	e.clk.Add(10 * time.Second) // still running: 1 of 2
	e.clk.Add(10 * time.Second) // still running: 2 of 2
	ev := e.wait(rt.To(resource.Failed), 1)
	assert.ErrorIs(t, ev.Err, resource.ErrCheckTimeout)
	assert.Equal(t, 3, e.f.Count(resource.OpIsAlive), "R21: a tick that finds a check running starts none")
}

// R22: IsAlive and LooksAlive return the cached result at once and never
// call the resource; a successful Online counts as a pass until the first
// check; outside Online they say ErrNotOnline.
func TestCachedResults(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: 3 * time.Second, CheckTimeout: time.Second, FailureThreshold: 5})
	assert.ErrorIs(t, e.w.IsAlive(), resource.ErrNotOnline)
	assert.ErrorIs(t, e.w.LooksAlive(), resource.ErrNotOnline)
	e.online()
	assert.NoError(t, e.w.IsAlive(), "a pass until the first check")
	assert.NoError(t, e.w.LooksAlive())
	e.f.Script(resource.OpLooksAlive, rt.Fail(rt.ErrInjected))
	e.clk.Add(3 * time.Second)
	e.entered(resource.OpLooksAlive, 1)
	require.NoError(t, e.f.WaitRunning(e.ctx, resource.OpLooksAlive, 0))
	require.Eventually(t, func() bool { return e.w.LooksAlive() != nil }, guard, time.Millisecond)
	calls := len(e.f.Calls())
	for range 100 {
		assert.ErrorIs(t, e.w.LooksAlive(), rt.ErrInjected)
		assert.NoError(t, e.w.IsAlive())
	}
	assert.Len(t, e.f.Calls(), calls, "cached: the resource is not called")
	st := e.w.Status()
	assert.ErrorIs(t, st.LooksAlive.Err, rt.ErrInjected)
	assert.Equal(t, time.Unix(3, 0), st.LooksAlive.At)
}

// R23: a report while Online latches at once, without a tick.
func TestReportWhileOnline(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	e.online()
	require.True(t, e.f.ReportFailure(rt.ErrInjected))
	e.state(resource.Failed) // synchronous: no clock moved, no goroutine waited for
	ev := e.wait(rt.To(resource.Failed), 1)
	assert.Equal(t, resource.OpReport, ev.Op)
	assert.ErrorIs(t, ev.Err, rt.ErrInjected)
	e.f.ReportFailure(errors.New("again"))
	assert.Len(t, e.rec.Transitions(), 3, "once per online period")
}

// R23: a report during OnlinePending fails the Online; in other states it
// is ignored.
func TestReportOtherStates(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	e.f.ReportFailure(rt.ErrInjected) // Offline: ignored
	e.state(resource.Offline)
	e.f.Script(resource.OpOnline, rt.Report(rt.ErrInjected))
	_, err := e.w.Online()
	require.NoError(t, err)
	assert.ErrorIs(t, e.w.Wait(e.ctx), rt.ErrInjected)
	e.state(resource.Failed)
	e.f.ReportFailure(errors.New("ignored"))
	assert.Len(t, e.rec.Transitions(), 2)
}

// R74: in maintenance checks run and failures are recorded, nothing
// latches; ending it runs a fresh check, which latches normally.
func TestMaintenance(t *testing.T) {
	e := newEnv(t, rt.Caps{}, checkPolicy)
	e.online()
	require.NoError(t, e.w.SetMaintenance(e.ctx, true))
	e.f.SetDefault(resource.OpIsAlive, rt.Fail(rt.ErrInjected))
	e.clk.Add(10 * time.Second)
	e.entered(resource.OpIsAlive, 1)
	require.NoError(t, e.f.WaitRunning(e.ctx, resource.OpIsAlive, 0))
	require.Eventually(t, func() bool { return e.w.Status().MaintErr != nil }, guard, time.Millisecond)
	e.f.ReportFailure(errors.New("reported in maintenance"))
	e.state(resource.Online)
	assert.Error(t, e.w.IsAlive(), "the failure shows in the cached result")
	st := e.w.Status()
	assert.True(t, st.Maintenance)

	err := e.w.SetMaintenance(e.ctx, false)
	require.ErrorIs(t, err, rt.ErrInjected, "the fresh check's error")
	ev := e.wait(rt.To(resource.Failed), 1)
	assert.ErrorIs(t, ev.Err, rt.ErrInjected)
}
