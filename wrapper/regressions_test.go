package wrapper_test

// Regressions: each test pins a bug a review of the engine found (and that
// is fixed); the comment on each says what went wrong.

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// R5, R21: IsAlive and LooksAlive may not run at once, so a tick of one kind
// that finds the other kind's check running starts none; the scheduler then
// counts it as a failed check. With the default intervals (60 s, 5 s) both
// ticks fall due at the same instant every minute, so a healthy resource
// whose checks take any time at all is Failed after its first minute Online.
func TestReviewCoincidentTicksFailHealthyResource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{}, wrapper.Policy{}) // all defaults
		b.f.SetDefault(resource.OpIsAlive, rt.Take(500*time.Millisecond, nil))
		b.f.SetDefault(resource.OpLooksAlive, rt.Take(500*time.Millisecond, nil))
		_, err := b.w.Online()
		require.NoError(t, err)
		require.NoError(t, b.w.Wait(t.Context()))
		time.Sleep(61 * time.Second) // fake time: 12 LooksAlive, 1 IsAlive, all pass
		synctest.Wait()
		assert.Equal(t, resource.Online, b.w.State(), "a healthy resource failed:%s", b.rec.Timeline())
		require.NoError(t, b.w.Close(t.Context()))
	})
}

// R74, R25: ending maintenance runs a fresh IsAlive; if a (healthy,
// merely running) LooksAlive happens to be in progress, CheckNow answers
// ErrCheckTimeout at once and SetMaintenance latches that as a failure.
func TestReviewEndMaintenanceDuringLooksAliveLatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{}, wrapper.Policy{IsAliveInterval: time.Hour, LooksAliveInterval: 5 * time.Second})
		b.f.SetDefault(resource.OpLooksAlive, rt.Take(time.Second, nil))
		_, err := b.w.Online()
		require.NoError(t, err)
		require.NoError(t, b.w.Wait(t.Context()))
		require.NoError(t, b.w.SetMaintenance(t.Context(), true))
		time.Sleep(5 * time.Second) // a LooksAlive starts; it takes 1 s and passes
		synctest.Wait()
		require.Equal(t, 1, b.f.Running(resource.OpLooksAlive))
		err = b.w.SetMaintenance(t.Context(), false)
		assert.NoError(t, err, "the fresh IsAlive would pass")
		assert.Equal(t, resource.Online, b.w.State(), b.rec.Timeline())
		require.NoError(t, b.w.Close(t.Context()))
	})
}

// R18, R41: Close's doc says it returns once the resource's Close ran
// "followed by Options.Release"; when the resource has a Close, Close
// returns as soon as the resource's Close returned, before Release ran.
func TestReviewCloseReturnsBeforeRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var released atomic.Bool
		f := rt.NewFake(clock.New(), rt.Caps{})
		w, err := wrapper.New(f.Resource(), wrapper.Options{Clock: clock.New(), Release: func() error {
			<-gate
			released.Store(true)
			return nil
		}})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		err = w.Close(ctx)
		if err == nil {
			assert.True(t, released.Load(), "Close returned nil, but Release has not run")
		}
		close(gate)
		synctest.Wait()
	})
}

// R24: FailureThreshold counts failed checks in a row; the scheduler keeps
// one counter for both kinds, so a passing LooksAlive resets a failing
// IsAlive's streak and an IsAlive that always fails never latches.
func TestReviewLooksAlivePassMasksFailingIsAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{}, wrapper.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: 7 * time.Second, FailureThreshold: 2})
		b.f.SetDefault(resource.OpIsAlive, rt.Fail(rt.ErrInjected))
		_, err := b.w.Online()
		require.NoError(t, err)
		require.NoError(t, b.w.Wait(t.Context()))
		time.Sleep(65 * time.Second) // IsAlive fails at 10, 20; LooksAlive passes at 7, 14
		synctest.Wait()
		assert.Equal(t, 2, b.f.Count(resource.OpIsAlive))
		assert.Equal(t, resource.Failed, b.w.State(), "two IsAlive failures in a row latch, passing LooksAlives between them")
		require.NoError(t, b.w.Close(t.Context()))
	})
}

// R21, R20: a tick that finds a CheckNow check running shares it by
// starting a goroutine that waits for its result. With CheckTimeout Never
// and a hung fresh check, every tick adds one more goroutine and none counts
// as a failed check: the hang is never detected (a hung scheduled check
// would latch at the next tick).
func TestReviewHungFreshCheckGoroutinePerTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{}, wrapper.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never, CheckTimeout: resource.Never})
		gate := rt.NewGate()
		b.f.Script(resource.OpIsAlive, rt.Hang(gate, nil))
		_, err := b.w.Online()
		require.NoError(t, err)
		require.NoError(t, b.w.Wait(t.Context()))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		assert.ErrorIs(t, b.w.CheckNow(ctx), context.DeadlineExceeded)
		cancel()
		synctest.Wait()
		engine := func() int { return len(rt.GoroutinesIn("github.com/resdll/resdll/")) } // this bubble's only
		base := engine()
		time.Sleep(60 * time.Second) // six ticks find the fresh check still running
		synctest.Wait()
		grown := engine() - base
		state := b.w.State()
		gate.Open()
		synctest.Wait()
		assert.Zero(t, grown, "goroutines added by ticks while the fresh check hangs")
		assert.Equal(t, resource.Failed, state, "R21: ticks that find the check still running count as failed")
		require.NoError(t, b.w.Close(t.Context()))
	})
}

// R19: errors from the resource reach the caller wrapped. The resource's
// Close error is dropped: Close(ctx) returns nil and nothing logs it.
func TestReviewResourceCloseErrorDropped(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	e.f.Script(resource.OpClose, rt.Fail(rt.ErrInjected))
	err := e.w.Close(e.ctx)
	assert.ErrorIs(t, err, rt.ErrInjected)
}

// resourcetest: To(resource.Unknown) cannot select the Close event, because
// the zero To means "any": it matches the first state change instead.
func TestReviewRecorderToUnknownMatchesAnything(t *testing.T) {
	rec := rt.NewRecorder()
	rec.Sink(resource.Event{Resource: "r", Seq: 1, From: resource.Offline, To: resource.OnlinePending})
	rec.Sink(resource.Event{Resource: "r", Seq: 2, From: resource.OnlinePending, To: resource.Unknown})
	ev, err := rec.Wait(context.Background(), rt.To(resource.Unknown), 1)
	require.NoError(t, err)
	assert.Equal(t, resource.Unknown, ev.To, "got %v", ev)
}

// resourcetest: Caps.NoPropertyOwner (and NoController) say they hide the
// interface, but the fake still implements it; the wrapper then calls
// ApplyProperties before Online, gets ErrStored, and fails the Online.
func TestReviewFakeNoPropertyOwnNotHidden(t *testing.T) {
	e := newEnv(t, rt.Caps{NoPropertyOwner: true}, wrapper.Policy{})
	_, isOwner := e.f.Resource().(resource.PropertyOwner)
	assert.False(t, isOwner, "Caps.NoPropertyOwner: PropertyOwner is still visible")
	var vals properties.Values
	require.NoError(t, vals.Set("Path", "/srv/a"))
	require.NoError(t, e.w.SetProperties(e.ctx, vals)) // Offline: stored
	_, err := e.w.Online()
	require.NoError(t, err)
	assert.NoError(t, e.w.Wait(e.ctx), "a resource without PropertyOwner should come Online")
}

// R4: an event names the operation that caused it. A failure latched by
// LooksAlive is reported with Op IsAlive, because Target.Fail carries no op
// and Wrapper.Fail hard-codes resource.OpIsAlive.
func TestReviewLooksAliveFailureEventOp(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{IsAliveInterval: time.Hour, LooksAliveInterval: 5 * time.Second})
	e.f.SetDefault(resource.OpLooksAlive, rt.Fail(rt.ErrInjected))
	e.online()
	e.clk.Add(5 * time.Second)
	ev := e.wait(rt.To(resource.Failed), 1)
	assert.ErrorIs(t, ev.Err, rt.ErrInjected)
	assert.Equal(t, resource.OpLooksAlive, ev.Op)
}

// Found by the monitor's fault schedules (monitor/fault_test.go):
// R74, R21: ending maintenance runs one fresh check, which latches normally.
// When an IsAlive abandoned in maintenance still hangs, no check can start:
// SetMaintenance returned that as a failed check (ErrCheckTimeout, as R21
// counts such a tick) but the resource stayed Online — the failure it
// reported did not latch (found by TestFaultMonitor,
// -rapid.seed=988493837105533789).
func TestR74EndOfMaintenanceLatchesWhenNoCheckCanStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{NoLooksAlive: true}, wrapper.Policy{IsAliveInterval: 10 * time.Second, CheckTimeout: 5 * time.Second})
		_, err := b.w.Online()
		require.NoError(t, err)
		require.NoError(t, b.w.Wait(t.Context()))
		require.NoError(t, b.w.SetMaintenance(t.Context(), true))
		gate := rt.NewGate()
		b.f.Script(resource.OpIsAlive, rt.Hang(gate, nil))
		time.Sleep(15 * time.Second) // the check starts at +10 s, is abandoned at +15 s and still hangs
		synctest.Wait()
		require.Equal(t, 1, b.f.Running(resource.OpIsAlive))
		require.Equal(t, resource.Online, b.w.State(), "nothing latches in maintenance")

		err = b.w.SetMaintenance(t.Context(), false)
		assert.True(t, errors.Is(err, resource.ErrCheckTimeout), "SetMaintenance(false) = %v, want ErrCheckTimeout", err)
		synctest.Wait()
		assert.Equal(t, resource.Failed, b.w.State(), "the failed fresh check did not latch:%s", b.rec.Timeline())

		gate.Open()
		require.NoError(t, b.w.Close(t.Context()))
	})
}
