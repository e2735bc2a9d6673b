package wrapper_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// These tests run in testing/synctest bubbles on the real clock, whose time
// is fake inside a bubble: synctest.Wait makes "every goroutine has done
// what it can" exact, for the interleavings a mock clock cannot pin down.

// bubble is one synctest wrapper set-up.
type bubble struct {
	f   *rt.Fake
	rec *rt.Recorder
	w   *wrapper.Wrapper
}

func newBubble(t *testing.T, caps rt.Caps, p wrapper.Policy) *bubble {
	f := rt.NewFake(clock.New(), caps)
	rec := rt.NewRecorder()
	w, err := wrapper.New(f.Resource(), wrapper.Options{Name: "s", Clock: clock.New(), Sink: rec.Sink, Policy: p})
	require.NoError(t, err)
	return &bubble{f: f, rec: rec, w: w}
}

// R25: concurrent callers of CheckNow share one run.
func TestSyncCheckNowShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{}, checkPolicy)
		_, err := b.w.Online()
		require.NoError(t, err)
		require.NoError(t, b.w.Wait(t.Context()))
		gate := rt.NewGate()
		b.f.Script(resource.OpIsAlive, rt.Hang(gate, nil))
		errs := make(chan error, 3)
		for range 3 {
			go func() { errs <- b.w.CheckNow(t.Context()) }()
		}
		synctest.Wait() // all three callers wait on the one run
		assert.Equal(t, 1, b.f.Running(resource.OpIsAlive))
		gate.Open()
		for range 3 {
			assert.NoError(t, <-errs)
		}
		assert.Equal(t, 1, b.f.Count(resource.OpIsAlive))
		require.NoError(t, b.w.Close(t.Context()))
		assert.ErrorIs(t, b.w.CheckNow(t.Context()), resource.ErrNotOnline)
	})
}

// Scale by design: a wrapper at rest owns no goroutine — Offline, Online
// between checks, Failed.
func TestSyncRestingWrapperOwnsNoGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := func() []string {
			return rt.GoroutinesIn("github.com/resdll/resdll/wrapper", "github.com/resdll/resdll/healthcheck", "github.com/resdll/resdll/resource")
		}
		b := newBubble(t, rt.Caps{}, checkPolicy)
		synctest.Wait()
		assert.Empty(t, engine(), "Offline")
		_, err := b.w.Online()
		require.NoError(t, err)
		require.NoError(t, b.w.Wait(t.Context()))
		synctest.Wait()
		assert.Empty(t, engine(), "Online between checks")
		time.Sleep(10 * time.Second) // fake time: one check runs and ends
		synctest.Wait()
		assert.Equal(t, 1, b.f.Count(resource.OpIsAlive))
		assert.Empty(t, engine(), "Online after a check")
		b.f.ReportFailure(rt.ErrInjected)
		synctest.Wait()
		assert.Equal(t, resource.Failed, b.w.State())
		assert.Empty(t, engine(), "Failed")
		require.NoError(t, b.w.Close(t.Context()))
	})
}

// R17, R11: Terminate racing a worker that returns at the same instant: the
// outcome is one consistent story whichever wins.
func TestSyncTerminateRacesReturningWorker(t *testing.T) {
	for _, d := range []time.Duration{0, time.Nanosecond} {
		synctest.Test(t, func(t *testing.T) {
			b := newBubble(t, rt.Caps{}, wrapper.Policy{})
			b.f.Script(resource.OpOnline, rt.Take(time.Second, nil))
			_, err := b.w.Online()
			require.NoError(t, err)
			time.Sleep(time.Second - d)
			require.NoError(t, b.w.Terminate(t.Context()))
			synctest.Wait()
			assert.Equal(t, resource.Offline, b.w.State(), b.rec.Timeline())
			require.NoError(t, b.rec.CheckSequence())
			assert.Empty(t, b.w.Abandoned())
			require.NoError(t, b.w.Close(t.Context()))
		})
	}
}

// R18: Close during a hung worker returns with its context; the resource's
// Close runs when the worker returns; nothing is left running.
func TestSyncCloseDuringHungWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{NoTerminator: true}, wrapper.Policy{})
		gate := rt.NewGate()
		b.f.Script(resource.OpOnline, rt.Hang(gate, nil))
		_, err := b.w.Online()
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		err = b.w.Close(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 0, b.f.Closes())
		gate.Open()
		synctest.Wait()
		assert.Equal(t, 1, b.f.Closes())
		require.NoError(t, b.w.Close(t.Context()))
	})
}

// R14: after an Online times out, the abandoned worker's late success is
// not acted on: the resource stays Failed.
func TestSyncLateReturnIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{}, wrapper.Policy{PendingTimeout: time.Minute})
		gate := rt.NewGate()
		b.f.Script(resource.OpOnline, rt.Hang(gate, nil))
		_, err := b.w.Online()
		require.NoError(t, err)
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, resource.Failed, b.w.State())
		gate.Open()
		synctest.Wait()
		assert.Equal(t, resource.Failed, b.w.State())
		assert.Empty(t, b.w.Abandoned())
		b.rec.AssertTransitions(t, "Offline→OnlinePending", "OnlinePending→Failed")
		require.NoError(t, b.w.Close(t.Context()))
	})
}

// R35: a scheduled check that hangs past CheckTimeout is abandoned, and
// Abandoned finds its goroutine's stack — a check runs on its tick's
// goroutine under a label the wrapper's checks share, and nothing the
// wrapper starts afterwards carries that label.
func TestSyncAbandonedCheckStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rt.Caps{}, wrapper.Policy{IsAliveInterval: time.Second, LooksAliveInterval: resource.Never,
			CheckTimeout: 2 * time.Second, FailureThreshold: 100})
		_, err := b.w.Online()
		require.NoError(t, err)
		require.NoError(t, b.w.Wait(t.Context()))
		gate := rt.NewGate()
		defer gate.Open()
		b.f.Script(resource.OpIsAlive, rt.Hang(gate, nil))
		time.Sleep(time.Second) // the tick: the check hangs
		synctest.Wait()
		require.Equal(t, 1, b.f.Running(resource.OpIsAlive))
		assert.Empty(t, b.w.Abandoned(), "a check within its time-out is not abandoned")
		time.Sleep(2 * time.Second) // CheckTimeout
		synctest.Wait()
		ab := b.w.Abandoned()
		require.Len(t, ab, 1)
		assert.Equal(t, resource.OpIsAlive, ab[0].Op)
		assert.Contains(t, string(ab[0].Stack), "resourcetest.(*basic).IsAlive\n", "the hung check's own frames")
		assert.Contains(t, string(ab[0].Stack), "wrapper.(*Wrapper).run\n", "every frame, not only the first and last")
		assert.Equal(t, 1, strings.Count(string(ab[0].Stack), "goroutine running call"), "one goroutine carries the label: %s", ab[0].Stack)
		gate.Open()
		synctest.Wait()
		assert.Empty(t, b.w.Abandoned(), "the check returned")
		require.NoError(t, b.w.Close(t.Context()))
	})
}

// R35: the host is told of an abandoned call with its entry point and the
// instant the wrapper stopped waiting (the deadline), however late the
// notice is delivered, and of its return when it comes.
func TestSyncObserverToldOfAbandonAndReturn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type abandon struct {
			op resource.Op
			at time.Time
		}
		abandons := make(chan abandon, 4)
		returns := make(chan resource.Op, 4)
		f := rt.NewFake(clock.New(), rt.Caps{})
		gate := rt.NewGate()
		f.Script(resource.OpOnline, rt.Hang(gate, nil))
		w, err := wrapper.New(f.Resource(), wrapper.Options{Name: "s", Clock: clock.New(),
			Policy: wrapper.Policy{PendingTimeout: 5 * time.Second},
			Sink: func(ev resource.Event) {
				if ev.To == resource.Failed {
					time.Sleep(time.Second) // a slow sink: the notice after it comes a second after the deadline
				}
			},
			OnAbandon: func(op resource.Op, at time.Time) { abandons <- abandon{op, at} },
			OnReturn:  func(op resource.Op) { returns <- op },
		})
		require.NoError(t, err)
		start := time.Now()
		_, err = w.Online()
		require.NoError(t, err)
		time.Sleep(time.Minute) // fake time: the deadline passes at 5 s
		synctest.Wait()
		require.Len(t, abandons, 1)
		got := <-abandons
		assert.Equal(t, resource.OpOnline, got.op)
		assert.True(t, got.at.Equal(start.Add(5*time.Second)), "abandoned at %v, want the deadline %v", got.at.Sub(start), 5*time.Second)
		assert.Empty(t, returns, "the call has not returned")
		gate.Open()
		synctest.Wait()
		require.Len(t, returns, 1)
		assert.Equal(t, resource.OpOnline, <-returns)
		assert.Empty(t, abandons)
		require.NoError(t, w.Close(t.Context()))
	})
}
