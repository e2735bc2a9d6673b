package wrapper_test

// Mutation pins: each test here catches a small, plausible edit of the
// engine that TestFaultWrapper's random schedules did not notice (its
// invariants are deliberately loose where they must tolerate what happens at
// one instant in several goroutines). Each comment names the rule and the
// mutation. All run in testing/synctest bubbles on fake time.

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// R13: progress pushes the deadline to now + PendingTimeout, never beyond
// MaxPendingTime after the operation began. Pins the mutation of
// core.progress that caps the deadline at now + MaxPendingTime instead of
// start + MaxPendingTime (which never caps at all). TestFaultWrapper's
// check allows MaxPendingTime + TerminateTimeout of pending, and only looks
// at the end of each step.
func TestMutationR13ProgressCappedAtMaxPendingTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{}, wrapper.Policy{PendingTimeout: 30 * time.Second, MaxPendingTime: time.Minute,
			TerminateTimeout: 10 * time.Second, IsAliveInterval: resource.Never, LooksAliveInterval: resource.Never})
		b.f.Script(resource.OpOnline, rt.ProgressEvery(25*time.Second, 10)) // reports at +25 s, +50 s, …; would end at +250 s
		start := time.Now()
		_, err := b.w.Online()
		require.NoError(t, err)

		time.Sleep(26 * time.Second) // the report at +25 s: deadline +55 s
		synctest.Wait()
		assert.Equal(t, start.Add(55*time.Second), b.w.Status().Deadline, "R13: a report pushes the deadline to now + PendingTimeout")

		time.Sleep(25 * time.Second) // the report at +50 s: +80 s, capped at +60 s
		synctest.Wait()
		st := b.w.Status()
		assert.Equal(t, resource.OnlinePending, st.State)
		assert.Equal(t, start.Add(time.Minute), st.Deadline, "R13: no deadline beyond MaxPendingTime after the start:%s", b.rec.Timeline())

		time.Sleep(10 * time.Second) // +61 s: the capped deadline has passed
		synctest.Wait()
		assert.Equal(t, resource.Failed, b.w.State(), "R11, R13: still pending past MaxPendingTime:%s", b.rec.Timeline())
		assert.ErrorIs(t, b.w.Wait(t.Context()), resource.ErrPendingTimeout)
		require.NoError(t, b.w.Close(t.Context()))
	})
}

// R16: an Offline that does not return within PendingTimeout escalates to
// Terminate; a resource without a Terminator is then Failed — not forced
// Offline, and with no terminated event. Pins the mutation of core.escalate
// that drops its "no Terminator" branch (startTerminate copes with no
// Terminator, and ends the escalation as if one had succeeded).
// TestFaultWrapper draws resources without a Terminator but never checks
// how their escalation ends.
func TestMutationR16EscalationWithoutTerminatorFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{NoTerminator: true}, wrapper.Policy{PendingTimeout: 30 * time.Second,
			TerminateTimeout: 10 * time.Second, IsAliveInterval: resource.Never, LooksAliveInterval: resource.Never})
		_, err := b.w.Online()
		require.NoError(t, err)
		require.NoError(t, b.w.Wait(t.Context()))
		b.f.Script(resource.OpOffline, rt.HangUntilCancelled())
		_, err = b.w.Offline()
		require.NoError(t, err)

		time.Sleep(31 * time.Second) // the Offline timed out at +30 s
		synctest.Wait()
		assert.Equal(t, resource.Failed, b.w.State(), "R16: no Terminator: the escalation must end Failed:%s", b.rec.Timeline())
		err = b.w.Wait(t.Context())
		assert.ErrorIs(t, err, resource.ErrPendingTimeout)
		for _, e := range b.rec.Events() {
			assert.False(t, e.Forced, "R16: %v forced without a Terminator", e)
			assert.NotEqual(t, resource.Terminated, e.Kind, "R16: %v without a Terminator", e)
		}
		evs := b.rec.Events()
		last := evs[len(evs)-1]
		assert.True(t, last.From == resource.OfflinePending && last.To == resource.Failed && errors.Is(last.Err, resource.ErrPendingTimeout),
			"R16: the last event is %v, want OfflinePending → Failed with ErrPendingTimeout", last)
		require.NoError(t, b.w.Close(t.Context()))
	})
}

// R21, R24: FailureThreshold failed checks in a row latch the failure —
// the first failed IsAlive under the default threshold 1, the second under
// threshold 2, each at the tick it fails. Pins the off-by-one mutation of
// the scheduler's count (n > threshold instead of n >= threshold), which
// latches one check late: TestFaultMonitor allows an Online resource whose
// IsAlive fails (2 × threshold + 1) check intervals before it must have
// latched, and TestFaultWrapper checks only hung checks.
func TestMutationR21ThresholdLatchesOnTheNthFailure(t *testing.T) {
	for _, threshold := range []int{1, 2} {
		synctest.Test(t, func(t *testing.T) {
			b := newBubble(t, rt.Caps{NoLooksAlive: true}, wrapper.Policy{IsAliveInterval: 10 * time.Second,
				CheckTimeout: 5 * time.Second, FailureThreshold: threshold})
			_, err := b.w.Online()
			require.NoError(t, err)
			require.NoError(t, b.w.Wait(t.Context()))
			b.f.SetDefault(resource.OpIsAlive, rt.Fail(rt.ErrInjected))

			for n := 1; n < threshold; n++ {
				time.Sleep(10 * time.Second) // failed check n of threshold
				synctest.Wait()
				require.Equal(t, resource.Online, b.w.State(), "threshold %d: latched after %d failed checks:%s", threshold, n, b.rec.Timeline())
			}
			time.Sleep(10 * time.Second) // failed check number threshold: it latches now
			synctest.Wait()
			assert.Equal(t, threshold, b.f.Count(resource.OpIsAlive))
			assert.Equal(t, resource.Failed, b.w.State(), "threshold %d: not latched after %d failed checks:%s", threshold, threshold, b.rec.Timeline())
			require.NoError(t, b.w.Close(t.Context()))
		})
	}
}

// R14, R16: an Offline that waits for an abandoned call fails with
// ErrWorkerStuck once its own PendingTimeout passes; it escalates to
// Terminate first, so the failure comes when Terminate ends — here after
// the abandoned call returned meanwhile. The wait ended at the time-out,
// with the call still running (TestFaultWrapper's model once checked the
// event's instant instead: -rapid.seed=17488811255913179652).
func TestR14StuckWaitEndsAtPendingTimeoutThoughTerminateComesLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{}, wrapper.Policy{PendingTimeout: 30 * time.Second, TerminateTimeout: 10 * time.Second,
			IsAliveInterval: resource.Never, LooksAliveInterval: resource.Never})
		g := rt.NewGate()
		b.f.Script(resource.OpOnline, rt.Hang(g, nil))
		b.f.Script(resource.OpTerminate, rt.HangUntilCancelled())
		_, err := b.w.Online()
		require.NoError(t, err)
		time.Sleep(31 * time.Second) // Online abandoned at +30 s: Failed
		synctest.Wait()
		require.Equal(t, resource.Failed, b.w.State())

		_, err = b.w.Offline() // waits for the abandoned Online (R14)
		require.NoError(t, err)
		time.Sleep(30 * time.Second) // its PendingTimeout: escalates to Terminate (R16)
		synctest.Wait()
		st := b.w.Status()
		assert.Equal(t, resource.OfflinePending, st.State)
		assert.True(t, st.Terminating, "R16: Terminate runs")
		time.Sleep(5 * time.Second)
		g.Open() // the abandoned Online returns while Terminate runs
		synctest.Wait()
		time.Sleep(5 * time.Second) // Terminate's TerminateTimeout
		synctest.Wait()
		assert.Equal(t, resource.Failed, b.w.State(), "R14, R16:%s", b.rec.Timeline())
		assert.ErrorIs(t, b.w.Wait(t.Context()), resource.ErrWorkerStuck)
		require.NoError(t, b.w.Close(t.Context()))
	})
}
