package monitor_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
)

// failThrice brings r online, then lets its IsAlive fail three times
// within the period: two restarts, then the policy is spent (R31).
func failThrice(t *testing.T, e *menv, f *rt.Fake, name string) {
	t.Helper()
	f.SetDefault(resource.OpIsAlive, rt.Fail(rt.ErrInjected))
	e.online(name)
	for i := 1; i <= 3; i++ {
		e.clk.Add(10 * time.Second) // the check is due
		e.wait(failed(name), i)
		if i < 3 {
			e.clk.Add(500 * time.Millisecond) // RestartDelay
			e.wait(onlineM(name), i+1)
		}
	}
}

// R31, R32: the seed's story: a resource whose IsAlive starts failing is
// restarted twice, fails a third time inside the period, and ends Failed
// with one failover request for its group.
func TestRestartTwiceThenFailover(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	f := e.add("mta", monitor.Policy{})
	failThrice(t, e, f, "mta")
	ev := e.wait(kind("mta", resource.FailoverRequested), 1)
	assert.Equal(t, "mta", ev.Group, "a resource added without a group is its own")
	e.state("mta", resource.Failed)
	st := e.status("mta")
	assert.Equal(t, monitor.FailoverRequested, st.Failover)
	assert.Equal(t, 3, st.Failures)
	assert.Equal(t, 2, st.Restarts)
	assert.ErrorIs(t, st.LastFailure, rt.ErrInjected)
	assert.True(t, st.NextRestart.IsZero(), "R34: no local retry while the request is pending")
	assert.Equal(t, 3, f.Count(resource.OpOnline))
	assert.GreaterOrEqual(t, f.Count(resource.OpTerminate), 3, "R31: each failure's work is terminated")

	e.clk.Add(2 * time.Hour)
	assert.Equal(t, 3, f.Count(resource.OpOnline), "R34: never retried while requested")
	assert.Equal(t, 1, len(eventsOf(e, "mta", resource.FailoverRequested)), "one request")
}

func eventsOf(e *menv, name string, k resource.EventKind) []resource.Event {
	var out []resource.Event
	for _, ev := range e.rec.Events() {
		if ev.Resource == name && ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// R31, R71: an accepted request takes the group offline and says it is
// ready to move.
func TestFailoverAccepted(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	f := e.add("mta", monitor.Policy{})
	failThrice(t, e, f, "mta")
	e.wait(kind("mta", resource.FailoverRequested), 1)
	require.NoError(t, e.m.AcceptFailover("mta"))
	ev := e.wait(kind("mta", resource.GroupReadyToMove), 1)
	assert.Equal(t, "mta", ev.Group)
	e.state("mta", resource.Offline)
	assert.Equal(t, monitor.FailoverAccepted, e.status("mta").Failover)
	e.clk.Add(2 * time.Hour)
	assert.Equal(t, 3, f.Count(resource.OpOnline), "R34: an accepted group is never retried locally")
	assert.ErrorIs(t, e.m.AcceptFailover("mta"), monitor.ErrNoFailoverRequest)
}

// R31, R34: a declined request leaves everything as it is, and the resource
// is tried again after RetryPeriodOnFailure with a fresh window.
func TestFailoverDeclined(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	f := e.add("mta", monitor.Policy{})
	failThrice(t, e, f, "mta")
	e.wait(kind("mta", resource.FailoverRequested), 1)
	require.NoError(t, e.m.DeclineFailover("mta"))
	st := e.status("mta")
	assert.Equal(t, monitor.FailoverDeclined, st.Failover)
	assert.Equal(t, e.clk.Now().Add(time.Hour), st.NextRestart)
	e.state("mta", resource.Failed)
	f.SetDefault(resource.OpIsAlive, rt.Succeed())
	e.clk.Add(time.Hour - time.Millisecond)
	assert.Equal(t, 3, f.Count(resource.OpOnline))
	e.clk.Add(time.Millisecond)
	e.wait(onlineM("mta"), 4)
	st = e.status("mta")
	assert.Equal(t, 0, st.Failures, "R34: a fresh window")
	assert.Equal(t, monitor.FailoverNone, st.Failover)
}

// R32, R34: with RestartNoFailover the resource ends Failed without a
// request and is retried after RetryPeriodOnFailure.
func TestRestartNoFailover(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	f := e.add("mta", monitor.Policy{Policy: checks, RestartAction: monitor.RestartNoFailover, RetryPeriodOnFailure: 30 * time.Minute})
	failThrice(t, e, f, "mta")
	require.Eventually(t, func() bool { return !e.status("mta").NextRestart.IsZero() }, guard, time.Millisecond)
	assert.Empty(t, eventsOf(e, "mta", resource.FailoverRequested))
	f.SetDefault(resource.OpIsAlive, rt.Succeed())
	e.clk.Add(30 * time.Minute)
	e.wait(onlineM("mta"), 4)
	assert.Empty(t, eventsOf(e, "mta", resource.FailoverRequested))
}

// R32: NoRestart leaves a failed resource Failed.
func TestNoRestart(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	f := e.add("r", monitor.Policy{Policy: checks, RestartAction: monitor.NoRestart})
	f.SetDefault(resource.OpIsAlive, rt.Fail(rt.ErrInjected))
	e.online("r")
	e.clk.Add(10 * time.Second)
	e.wait(failed("r"), 1)
	e.clk.Add(2 * time.Hour)
	assert.Equal(t, 1, f.Count(resource.OpOnline))
	assert.Empty(t, eventsOf(e, "r", resource.FailoverRequested))
	e.state("r", resource.Failed)
}

// R33: failures older than RestartPeriod no longer count: a third failure
// after the first left the window is restarted, not failed over.
func TestSlidingWindow(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	f := e.add("r", monitor.Policy{Policy: checks, RestartPeriod: time.Minute})
	f.Script(resource.OpIsAlive, rt.Fail(rt.ErrInjected), rt.Fail(rt.ErrInjected))
	e.online("r")
	for i := 1; i <= 2; i++ {
		e.clk.Add(10 * time.Second)
		e.wait(failed("r"), i)
		e.clk.Add(500 * time.Millisecond)
		e.wait(onlineM("r"), i+1)
	}
	// Failures at 10 s and 20.5 s; the checks of the next minute pass.
	e.clk.Add(time.Minute)
	f.Script(resource.OpIsAlive, rt.Fail(rt.ErrInjected))
	e.clk.Add(10 * time.Second)
	e.wait(failed("r"), 3)
	e.clk.Add(500 * time.Millisecond)
	e.wait(onlineM("r"), 4)
	assert.Empty(t, eventsOf(e, "r", resource.FailoverRequested))
	assert.Equal(t, 1, e.status("r").Failures, "the earlier two left the window (R33)")
}

// R31: a failed restart counts as a failure; an operator's Online resets
// the count.
func TestFailedRestartCountsAndOperatorResets(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	f := e.add("r", monitor.Policy{})
	e.online("r")
	f.Script(resource.OpOnline, rt.Fail(rt.ErrInjected), rt.Fail(rt.ErrInjected))
	f.ReportFailure(rt.ErrInjected) // failure 1
	e.wait(failed("r"), 1)
	e.clk.Add(500 * time.Millisecond) // restart fails: failure 2
	e.wait(failed("r"), 2)
	e.clk.Add(500 * time.Millisecond) // restart fails: failure 3 → failover
	e.wait(failed("r"), 3)
	e.wait(kind("r", resource.FailoverRequested), 1)
	assert.Equal(t, 3, e.status("r").Failures)
	e.online("r") // the operator
	st := e.status("r")
	assert.Equal(t, 0, st.Failures)
	assert.Equal(t, monitor.FailoverNone, st.Failover)
}

// R39: RestartJitter spreads restarts by a random part of up to it.
func TestRestartJitter(t *testing.T) {
	e := newMenv(t, monitor.Options{RestartJitter: time.Second, Rand: func(n int64) int64 { return n / 4 }})
	f := e.add("r", monitor.Policy{})
	e.online("r")
	f.ReportFailure(rt.ErrInjected)
	e.wait(failed("r"), 1)
	assert.Equal(t, e.clk.Now().Add(750*time.Millisecond), e.status("r").NextRestart)
	e.clk.Add(749 * time.Millisecond)
	assert.Equal(t, 1, f.Count(resource.OpOnline))
	e.clk.Add(time.Millisecond)
	e.wait(onlineM("r"), 2)
}

// R31: RestartDelay NoDelay restarts at once.
func TestNoDelay(t *testing.T) {
	e := newMenv(t, monitor.Options{})
	f := e.add("r", monitor.Policy{Policy: checks, RestartDelay: resource.NoDelay})
	e.online("r")
	f.ReportFailure(rt.ErrInjected)
	e.wait(onlineM("r"), 2)
}
