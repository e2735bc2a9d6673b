package monitor_test

// Mutation pins: each test here is a schedule, run through TestFaultMonitor's
// harness and checks, that catches a small, plausible edit of the engine the
// random schedules did not notice. Each comment names the rule and the
// mutation.

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
)

// R31 (the generation check): a failover request decided for one failure
// must not be made once something newer decided otherwise. The third
// failure within RestartPeriod spends the policy; its clean-up Terminate
// takes 4 s, and the request follows it. The operator's Offline at +31 s
// (refused while the clean-up runs, but it cancels what the failure
// decided) must leave the resource Failed with no failover request. Pins
// the mutation that drops "c.gen != e.x.gen" from the check in onFailure's
// clean-up goroutine before it sets FailoverRequested and emits the event
// (random schedules rarely put an operator's command inside the clean-up
// of the one failure that spends the policy).
func TestMutationStaleFailoverRequestAfterOperatorOffline(t *testing.T) {
	sc := mScenario{Resources: 2, Policies: []int{0, 0}, SlowClean: 4 * time.Second, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mOnline, R: 1},
		{Kind: mAdvance, D: 10 * time.Second},
		{Kind: mReport, R: 1}, // failure 1 at +10 s: clean-up until +14 s, restart then
		{Kind: mAdvance, D: 10 * time.Second},
		{Kind: mReport, R: 1}, // failure 2 at +20 s: clean-up until +24 s, restart then
		{Kind: mAdvance, D: 10 * time.Second},
		{Kind: mReport, R: 1},                 // failure 3 at +30 s: the policy is spent; the request follows the clean-up at +34 s
		{Kind: mAdvance, D: time.Second},      // +31 s: the clean-up still runs
		{Kind: mOffline, R: 1},                // refused (a Terminate runs), but it cancels the failover request
		{Kind: mAdvance, D: 10 * time.Second}, // the clean-up ends: no request may follow
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R70: Offline takes dependents offline first: the dependency's Offline
// begins only once every dependent is Offline. b depends on a; b's Offline
// takes 4 s; the operator's Offline of a must leave a Online until b is
// down. Pins the off-by-one mutation of levelsLocked (a resource's level
// max(depth(x)) instead of max(depth(x)+1)), which puts every member in one
// level, run in parallel: TestFaultMonitor caught it only as a flaky
// failure (the shrunk schedule did not reproduce it), since random
// schedules rarely take a dependency offline while a dependent's Offline
// is slow.
func TestMutationR70DependentsOfflineFirst(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutPair, Deps: []mEdge{{1, 0}}, Policies: []int{0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mOnline, R: 0},
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mOnline, R: 1}, // its dependency is Online: b starts at once
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mScript, R: 1, Op: resource.OpOffline, Do: doTake, D: 4 * time.Second},
		{Kind: mOffline, R: 0},                // b first (until +4 s), then a
		{Kind: mAdvance, D: 10 * time.Second}, // a goes offline only once b is Offline
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R70: Online of a resource whose dependency is Offline brings the
// dependency online first, then the resource: both end Online. Pins the
// same levelsLocked mutation in the other direction: every member in one
// level, the dependent's Online refused ("a dependency is not Online")
// while its dependency starts beside it (its Online takes 1 s), so it never
// starts. TestFaultMonitor does not check that an Online which waits for
// dependencies ever starts the resource.
func TestMutationR70OnlineStartsDependencyThenDependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, err := monitor.New(monitor.Options{Clock: clock.New()})
		require.NoError(t, err)
		typ, err := resource.NewType("fake", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
			// Each Online takes 1 s: a dependency started beside its
			// dependent cannot be Online when the dependent is looked at.
			f := rt.NewFake(clock.New(), rt.Caps{})
			f.SetDefault(resource.OpOnline, rt.Take(time.Second, nil))
			return f.Resource(), nil
		})
		require.NoError(t, err)
		require.NoError(t, m.RegisterType(typ))
		require.NoError(t, m.Add(t.Context(), monitor.Spec{Name: "a", Type: "fake", Group: "g"}))
		require.NoError(t, m.Add(t.Context(), monitor.Spec{Name: "b", Type: "fake", Group: "g", DependsOn: []string{"a"}}))

		st, err := m.Online("b")
		require.NoError(t, err)
		assert.Equal(t, resource.Offline, st, "R70: b waits for a")
		require.NoError(t, m.Wait(t.Context(), "b"))
		synctest.Wait()
		for _, name := range []string{"a", "b"} {
			s, err := m.Status(name)
			require.NoError(t, err)
			assert.Equal(t, resource.Online, s.State, "R70: %s after Online(b)", name)
		}
		require.NoError(t, m.Shutdown(t.Context()))
	})
}
