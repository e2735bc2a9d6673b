package wrapper_test

import (
	"context"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// guard bounds every wait of a test in real time. It is not a
// synchronisation: tests wait for events; the guard only turns a broken
// engine into a failure instead of a hang.
const guard = 10 * time.Second

type env struct {
	t   *testing.T
	clk *clock.Mock
	f   *rt.Fake
	rec *rt.Recorder
	w   *wrapper.Wrapper
	ctx context.Context
}

// newEnv wraps a fake on a mock clock. The wrapper is closed when the test
// ends (after the test's own cleanups, which release hung calls).
func newEnv(t *testing.T, caps rt.Caps, p wrapper.Policy, opts ...func(*wrapper.Options)) *env {
	t.Helper()
	clk := clock.NewMock()
	f := rt.NewFake(clk, caps)
	rec := rt.NewRecorder()
	o := wrapper.Options{Name: "r", Clock: clk, Sink: rec.Sink, Policy: p}
	for _, opt := range opts {
		opt(&o)
	}
	w, err := wrapper.New(f.Resource(), o)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	e := &env{t: t, clk: clk, f: f, rec: rec, w: w, ctx: ctx}
	t.Cleanup(func() {
		defer cancel()
		if err := w.Close(ctx); err != nil {
			t.Errorf("cleanup: Close: %v", err)
		}
		if o := f.Overlaps(); len(o) > 0 {
			t.Errorf("R5: entry points overlapped: %v", o)
		}
		if err := rec.CheckSequence(); err != nil {
			t.Errorf("R4: %v", err)
		}
	})
	return e
}

// wait waits for the n-th event matching m.
func (e *env) wait(m rt.Match, n int) resource.Event {
	e.t.Helper()
	ev, err := e.rec.Wait(e.ctx, m, n)
	require.NoError(e.t, err)
	return ev
}

// entered waits until op has been called n times.
func (e *env) entered(op resource.Op, n int) {
	e.t.Helper()
	require.NoError(e.t, e.f.WaitCount(e.ctx, op, n))
}

// online brings the wrapper online and waits for it.
func (e *env) online() {
	e.t.Helper()
	n := 0
	for _, ev := range e.rec.Events() {
		if rt.To(resource.Online).Matches(ev) {
			n++
		}
	}
	_, err := e.w.Online()
	require.NoError(e.t, err)
	require.NoError(e.t, e.w.Wait(e.ctx))
	require.Equal(e.t, resource.Online, e.w.State())
	e.wait(rt.To(resource.Online), n+1) // the event is delivered after Wait returns
}

// state asserts the wrapper's state.
func (e *env) state(want resource.State) {
	e.t.Helper()
	require.Equal(e.t, want, e.w.State(), "timeline:%s", e.rec.Timeline())
}
