package wrapper_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// R10: Online and Offline return at once with the pending state; the work
// happens in a worker, completion is an event and Wait returns with it.
func TestOnlineReturnsPending(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpOnline, rt.Hang(gate, nil))
	st, err := e.w.Online()
	require.NoError(t, err)
	assert.Equal(t, resource.OnlinePending, st)
	e.entered(resource.OpOnline, 1)
	e.state(resource.OnlinePending)
	gate.Open()
	require.NoError(t, e.w.Wait(e.ctx))
	e.state(resource.Online)
	ev := e.wait(rt.To(resource.Online), 1)
	assert.Equal(t, resource.OpOnline, ev.Op)
	assert.Equal(t, "r", ev.Resource)

	e.f.Script(resource.OpOffline, rt.Take(time.Second, nil))
	st, err = e.w.Offline()
	require.NoError(t, err)
	assert.Equal(t, resource.OfflinePending, st)
	e.entered(resource.OpOffline, 1)
	e.clk.Add(time.Second)
	require.NoError(t, e.w.Wait(e.ctx))
	e.state(resource.Offline)
	e.rec.AssertTransitions(t, "Offline→OnlinePending", "OnlinePending→Online", "Online→OfflinePending", "OfflinePending→Offline")
}

// R3: a second Online joins the first; Offline while OnlinePending and
// Online while OfflinePending are refused and change nothing.
func TestJoinsAndRefusals(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpOnline, rt.Hang(gate, nil))
	e.f.Script(resource.OpOffline, rt.Hang(gate, nil))
	_, err := e.w.Online()
	require.NoError(t, err)
	st, err := e.w.Online()
	require.NoError(t, err, "R3: join")
	assert.Equal(t, resource.OnlinePending, st)
	_, err = e.w.Offline()
	require.ErrorIs(t, err, resource.ErrInvalidTransition)
	e.state(resource.OnlinePending)
	gate.Open()
	require.NoError(t, e.w.Wait(e.ctx))
	st, err = e.w.Online()
	require.NoError(t, err)
	assert.Equal(t, resource.Online, st)
	assert.Equal(t, 1, e.f.Count(resource.OpOnline), "a join calls nothing")

	_, err = e.w.Offline() // its Hang(gate) returns at once: the gate is open
	require.NoError(t, err)
	require.NoError(t, e.w.Wait(e.ctx))
	e.state(resource.Offline)
	st, err = e.w.Offline()
	require.NoError(t, err, "R3: Offline on Offline joins")
	assert.Equal(t, resource.Offline, st)
	e.rec.AssertTransitions(t, "Offline→OnlinePending", "OnlinePending→Online", "Online→OfflinePending", "OfflinePending→Offline")
}

// R3: Online while OfflinePending is refused.
func TestOnlineWhileOfflinePendingRefused(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	e.online()
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpOffline, rt.Hang(gate, nil))
	_, err := e.w.Offline()
	require.NoError(t, err)
	_, err = e.w.Online()
	require.ErrorIs(t, err, resource.ErrInvalidTransition)
	st, err := e.w.Offline()
	require.NoError(t, err, "R3: join")
	assert.Equal(t, resource.OfflinePending, st)
	gate.Open()
	require.NoError(t, e.w.Wait(e.ctx))
	e.state(resource.Offline)
}

// R11, R19: a failing Online ends Failed with the resource's own error.
func TestOnlineFails(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	e.f.Script(resource.OpOnline, rt.Fail(rt.ErrInjected))
	_, err := e.w.Online()
	require.NoError(t, err)
	err = e.w.Wait(e.ctx)
	require.ErrorIs(t, err, rt.ErrInjected, "R19")
	e.state(resource.Failed)
	ev := e.wait(rt.To(resource.Failed), 1)
	assert.ErrorIs(t, ev.Err, rt.ErrInjected)
	// Failed → OnlinePending: a restart.
	e.online()
}

// R11: an Online that does not return within PendingTimeout fails with
// ErrPendingTimeout, its context is cancelled, and its later return is
// recorded, not acted on.
func TestPendingTimeout(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{PendingTimeout: time.Minute})
	e.f.Script(resource.OpOnline, rt.HangUntilCancelled())
	_, err := e.w.Online()
	require.NoError(t, err)
	e.entered(resource.OpOnline, 1)
	e.clk.Add(time.Minute - time.Millisecond)
	e.state(resource.OnlinePending)
	e.clk.Add(time.Millisecond)
	ev := e.wait(rt.To(resource.Failed), 1)
	assert.ErrorIs(t, ev.Err, resource.ErrPendingTimeout)
	assert.Equal(t, time.Unix(60, 0), ev.Time, "the event's time is the injected clock's")
	assert.ErrorIs(t, e.w.Wait(e.ctx), resource.ErrPendingTimeout)
	require.NoError(t, e.f.WaitRunning(e.ctx, resource.OpOnline, 0), "the worker's context was cancelled")
	e.state(resource.Failed)
}

// ctxKeeper's Online hands its context out and returns when it is
// cancelled.
type ctxKeeper struct{ ctxs chan context.Context }

func (k ctxKeeper) Online(ctx context.Context) error {
	k.ctxs <- ctx
	<-ctx.Done()
	return ctx.Err()
}
func (ctxKeeper) Offline(context.Context) error { return nil }
func (ctxKeeper) IsAlive(context.Context) error { return nil }

// R11: a time-out's effects come after its decision (issue 10: the
// wrapper leaves them to the scheduler's Later), but still in their order:
// when the sink sees the time-out, the call's context is cancelled.
func TestPendingTimeoutCancelsBeforeTheEvent(t *testing.T) {
	clk := clock.NewMock()
	k := ctxKeeper{ctxs: make(chan context.Context, 1)}
	var callCtx atomic.Pointer[context.Context]
	seen := make(chan error, 1)
	w, err := wrapper.New(k, wrapper.Options{Clock: clk, Policy: wrapper.Policy{PendingTimeout: time.Minute},
		Sink: func(ev resource.Event) {
			if ev.To == resource.Failed {
				seen <- (*callCtx.Load()).Err()
			}
		}})
	require.NoError(t, err)
	_, err = w.Online()
	require.NoError(t, err)
	ctx := <-k.ctxs
	callCtx.Store(&ctx)
	clk.Add(time.Minute)
	select {
	case err := <-seen:
		assert.ErrorIs(t, err, context.Canceled, "the sink saw the time-out before the call's context was cancelled")
	case <-time.After(guard):
		t.Fatal("no Failed event")
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	require.NoError(t, w.Close(closeCtx))
}

// R11, R14: an abandoned call is tracked until it returns; a new Online
// waits for it within its own pending timeout.
func TestAbandonedCallBlocksNextOnline(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{PendingTimeout: time.Minute})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpOnline, rt.Hang(gate, nil)) // ignores cancellation
	_, err := e.w.Online()
	require.NoError(t, err)
	e.entered(resource.OpOnline, 1)
	e.clk.Add(time.Minute)
	e.wait(rt.To(resource.Failed), 1)

	ab := e.w.Abandoned()
	require.Len(t, ab, 1)
	assert.Equal(t, resource.OpOnline, ab[0].Op)
	assert.Equal(t, time.Unix(0, 0), ab[0].Started)
	assert.Equal(t, time.Unix(60, 0), ab[0].AbandonedAt)
	assert.Contains(t, string(ab[0].Stack), "resourcetest", "R35: the hung goroutine's stack")
	assert.Equal(t, 1, e.w.Status().Abandoned)

	// The restart waits: the resource's Online is not called again while
	// the abandoned one runs (R5, R14).
	_, err = e.w.Online()
	require.NoError(t, err)
	e.state(resource.OnlinePending)
	assert.Equal(t, 1, e.f.Count(resource.OpOnline))
	gate.Open() // the abandoned call returns; its success is not acted on
	e.entered(resource.OpOnline, 2)
	require.NoError(t, e.w.Wait(e.ctx))
	e.state(resource.Online)
	assert.Empty(t, e.w.Abandoned())
}

// R14: if the abandoned call does not return within the new operation's
// pending timeout, the operation fails with ErrWorkerStuck.
func TestWorkerStuck(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{PendingTimeout: time.Minute})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpOnline, rt.Hang(gate, nil))
	_, err := e.w.Online()
	require.NoError(t, err)
	e.entered(resource.OpOnline, 1)
	e.clk.Add(time.Minute)
	e.wait(rt.To(resource.Failed), 1)
	_, err = e.w.Online()
	require.NoError(t, err)
	e.clk.Add(time.Minute)
	ev := e.wait(rt.To(resource.Failed), 2)
	assert.ErrorIs(t, ev.Err, resource.ErrWorkerStuck)
	assert.Equal(t, 1, e.f.Count(resource.OpOnline), "R5: never two Onlines at once")
}

// R12: a worker that declares it waits without a time-out is not timed
// out; it ends when it returns.
func TestWaitWithoutTimeout(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{PendingTimeout: time.Minute})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpOnline, rt.WithoutTimeout(gate))
	_, err := e.w.Online()
	require.NoError(t, err)
	e.entered(resource.OpOnline, 1)
	require.Eventually(t, func() bool { return e.w.Status().Exempt }, guard, time.Millisecond)
	assert.True(t, e.w.Status().Deadline.IsZero(), "the deadline is disarmed")
	e.clk.Add(time.Hour)
	e.state(resource.OnlinePending)
	gate.Open()
	require.NoError(t, e.w.Wait(e.ctx))
	e.state(resource.Online)
}

// R12, R17: an exempt worker still ends when the resource is terminated.
func TestWaitWithoutTimeoutTerminated(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{PendingTimeout: time.Minute})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpOnline, rt.WithoutTimeout(gate))
	_, err := e.w.Online()
	require.NoError(t, err)
	e.entered(resource.OpOnline, 1)
	require.NoError(t, e.w.Terminate(e.ctx))
	e.state(resource.Offline)
	assert.ErrorIs(t, e.w.Wait(e.ctx), resource.ErrTerminated)
}

// R13: each progress report pushes the deadline to now + PendingTimeout,
// never beyond MaxPendingTime after the start.
func TestProgress(t *testing.T) {
	t.Run("progress keeps it alive", func(t *testing.T) {
		e := newEnv(t, rt.Caps{}, wrapper.Policy{PendingTimeout: time.Minute})
		e.f.Script(resource.OpOnline, rt.ProgressEvery(50*time.Second, 4)) // done at 200 s > 60 s
		_, err := e.w.Online()
		require.NoError(t, err)
		for i := 1; i <= 4; i++ {
			e.entered(resource.OpOnline, 1)
			// wait until the fake sleeps on its timer, then move on
			require.Eventually(t, func() bool {
				return e.w.Status().Deadline.Equal(time.Unix(int64(50*(i-1)+60), 0))
			}, guard, time.Millisecond)
			e.clk.Add(50 * time.Second)
		}
		require.NoError(t, e.w.Wait(e.ctx))
		e.state(resource.Online)
	})
	t.Run("capped by MaxPendingTime", func(t *testing.T) {
		e := newEnv(t, rt.Caps{}, wrapper.Policy{PendingTimeout: time.Minute, MaxPendingTime: 2 * time.Minute})
		e.f.Script(resource.OpOnline, rt.ProgressEvery(50*time.Second, 100))
		_, err := e.w.Online()
		require.NoError(t, err)
		e.entered(resource.OpOnline, 1)
		for i := 1; i <= 2; i++ {
			want := time.Unix(min(int64(50*(i-1)+60), 120), 0)
			require.Eventually(t, func() bool { return e.w.Status().Deadline.Equal(want) }, guard, time.Millisecond)
			e.clk.Add(50 * time.Second)
		}
		require.Eventually(t, func() bool { return e.w.Status().Deadline.Equal(time.Unix(120, 0)) }, guard, time.Millisecond)
		e.clk.Add(20 * time.Second)
		ev := e.wait(rt.To(resource.Failed), 1)
		assert.ErrorIs(t, ev.Err, resource.ErrPendingTimeout)
		assert.Equal(t, time.Unix(120, 0), ev.Time)
	})
}

// R6: a panic in Online fails it with ErrPanic carrying value and stack.
func TestPanicInOnline(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	e.f.Script(resource.OpOnline, rt.Panic("kaboom"))
	_, err := e.w.Online()
	require.NoError(t, err)
	err = e.w.Wait(e.ctx)
	require.ErrorIs(t, err, resource.ErrPanic)
	var pe *resource.PanicError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "kaboom", pe.Value)
	assert.NotEmpty(t, pe.Stack)
	e.state(resource.Failed)
}
