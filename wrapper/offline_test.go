package wrapper_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// R15: Offline first stops health checking: no check starts after Offline
// begins, and a running check finishes before the resource's Offline is
// called.
func TestOfflineStopsChecks(t *testing.T) {
	e := newEnv(t, rt.Caps{NoLooksAlive: true}, wrapper.Policy{IsAliveInterval: 10 * time.Second, PendingTimeout: time.Minute})
	e.online()
	e.f.Script(resource.OpIsAlive, rt.HangUntilCancelled())
	e.clk.Add(10 * time.Second)
	e.entered(resource.OpIsAlive, 1)
	_, err := e.w.Offline()
	require.NoError(t, err)
	require.NoError(t, e.w.Wait(e.ctx))
	e.state(resource.Offline)
	calls := e.f.Calls()
	require.Len(t, calls, 3)
	assert.Equal(t, resource.OpIsAlive, calls[1].Op)
	assert.Equal(t, resource.OpOffline, calls[2].Op)
	assert.ErrorIs(t, calls[1].Err, context.Canceled, "the running check was cancelled")
	e.clk.Add(time.Minute)
	assert.Equal(t, 1, e.f.Count(resource.OpIsAlive), "no check after Offline began")
}

// R16: an Offline that does not return within PendingTimeout escalates to
// Terminate.
func TestOfflineEscalation(t *testing.T) {
	boom := errors.New("kill failed")
	tests := []struct {
		name      string
		caps      rt.Caps
		terminate []rt.Behaviour
		advance   time.Duration // after the escalation starts
		want      resource.State
		forced    bool
		wantErr   []error
	}{
		{name: "Terminator succeeds: Offline, forced", terminate: []rt.Behaviour{rt.Succeed()}, want: resource.Offline, forced: true,
			wantErr: []error{nil}},
		{name: "Terminator fails: Failed", terminate: []rt.Behaviour{rt.Fail(boom)}, want: resource.Failed, wantErr: []error{resource.ErrPendingTimeout, boom}},
		{name: "Terminator hangs: Failed after TerminateTimeout", terminate: []rt.Behaviour{rt.HangUntilCancelled()}, advance: 30 * time.Second,
			want: resource.Failed, wantErr: []error{resource.ErrPendingTimeout}},
		{name: "no Terminator: Failed", caps: rt.Caps{NoTerminator: true}, want: resource.Failed, wantErr: []error{resource.ErrPendingTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.caps, wrapper.Policy{PendingTimeout: time.Minute})
			e.online()
			e.f.Script(resource.OpOffline, rt.HangUntilCancelled())
			e.f.Script(resource.OpTerminate, tt.terminate...)
			_, err := e.w.Offline()
			require.NoError(t, err)
			e.entered(resource.OpOffline, 1)
			e.clk.Add(time.Minute)
			if !tt.caps.NoTerminator {
				e.entered(resource.OpTerminate, 1)
			}
			if tt.advance > 0 {
				e.clk.Add(tt.advance)
			}
			e.wait(rt.To(tt.want), 1)
			if !tt.caps.NoTerminator {
				ev := e.wait(rt.OfKind(resource.Terminated), 1)
				assert.Equal(t, tt.advance > 0 || errors.Is(tt.wantErr[len(tt.wantErr)-1], boom), ev.Err != nil, "the Terminated event carries the Terminator's error")
			}
			last := e.rec.Events()[len(e.rec.Events())-1]
			require.Equal(t, resource.StateChanged, last.Kind, e.rec.Timeline())
			assert.Equal(t, resource.OfflinePending, last.From)
			assert.Equal(t, tt.want, last.To)
			assert.Equal(t, tt.forced, last.Forced)
			for _, want := range tt.wantErr {
				if want == nil {
					assert.NoError(t, last.Err)
				} else {
					assert.ErrorIs(t, last.Err, want)
				}
			}
			e.state(tt.want)
		})
	}
}

// R17: Terminate in each state.
func TestTerminate(t *testing.T) {
	boom := errors.New("terminator failed")
	tests := []struct {
		name    string
		setup   func(e *env, gate *rt.Gate)
		termErr error
		want    resource.State
		events  []string // transitions after setup
		calls   int      // Terminator calls
		noEvent bool
	}{
		{name: "Offline with nothing running: nothing", setup: func(*env, *rt.Gate) {}, want: resource.Offline, noEvent: true},
		{name: "Online", setup: func(e *env, _ *rt.Gate) { e.online() }, want: resource.Offline, calls: 1,
			events: []string{"Online→Offline"}},
		{name: "Online, Terminator fails: still Offline", setup: func(e *env, _ *rt.Gate) { e.online() }, termErr: boom,
			want: resource.Offline, calls: 1, events: []string{"Online→Offline"}},
		{name: "OnlinePending", setup: func(e *env, gate *rt.Gate) {
			e.f.Script(resource.OpOnline, rt.HangUntilCancelled())
			_, err := e.w.Online()
			require.NoError(e.t, err)
			e.entered(resource.OpOnline, 1)
		}, want: resource.Offline, calls: 1, events: []string{"OnlinePending→Offline"}},
		{name: "OfflinePending", setup: func(e *env, gate *rt.Gate) {
			e.online()
			e.f.Script(resource.OpOffline, rt.Hang(gate, nil))
			_, err := e.w.Offline()
			require.NoError(e.t, err)
			e.entered(resource.OpOffline, 1)
		}, want: resource.Offline, calls: 1, events: []string{"OfflinePending→Offline"}},
		{name: "Failed stays Failed", setup: func(e *env, _ *rt.Gate) {
			e.f.Script(resource.OpOnline, rt.Fail(rt.ErrInjected))
			_, err := e.w.Online()
			require.NoError(e.t, err)
			_ = e.w.Wait(e.ctx)
		}, want: resource.Failed, calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, rt.Caps{}, wrapper.Policy{})
			gate := rt.NewGate()
			t.Cleanup(gate.Open)
			tt.setup(e, gate)
			if tt.termErr != nil {
				e.f.Script(resource.OpTerminate, rt.Fail(tt.termErr))
			}
			before := len(e.rec.Transitions())
			n := e.rec.Len()
			err := e.w.Terminate(e.ctx)
			if tt.termErr != nil {
				assert.ErrorIs(t, err, tt.termErr, "Terminate returns the Terminator's error")
			} else {
				assert.NoError(t, err)
			}
			e.state(tt.want)
			assert.Equal(t, tt.calls, e.f.Count(resource.OpTerminate))
			if tt.noEvent {
				assert.Equal(t, n, e.rec.Len(), "R17: nothing emitted")
				return
			}
			ev := e.wait(rt.OfKind(resource.Terminated), 1)
			assert.ErrorIs(t, ev.Err, tt.termErr)
			got := e.rec.Transitions()[before:]
			assert.Equal(t, len(tt.events), len(got), e.rec.Timeline())
			for i := range min(len(got), len(tt.events)) {
				assert.Equal(t, tt.events[i], got[i])
			}
			if len(tt.events) > 0 {
				last := e.rec.Events()[e.rec.Len()-1]
				assert.True(t, last.Forced, "the state change says it was forced")
				assert.Equal(t, resource.OpTerminate, last.Op)
			}
		})
	}
}

// R17: Terminate waits at most TerminateTimeout for the Terminator; the
// resource is Offline even so.
func TestTerminateTimeout(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{TerminateTimeout: 5 * time.Second})
	e.online()
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpTerminate, rt.Hang(gate, nil))
	done := make(chan error, 1)
	go func() { done <- e.w.Terminate(e.ctx) }()
	e.entered(resource.OpTerminate, 1)
	e.clk.Add(5 * time.Second)
	select {
	case err := <-done:
		assert.ErrorIs(t, err, resource.ErrPendingTimeout)
	case <-e.ctx.Done():
		t.Fatal("Terminate did not return after TerminateTimeout")
	}
	e.state(resource.Offline)
	// The hung Terminator counts as running: an Online waits for it (R14).
	_, err := e.w.Online()
	require.NoError(t, err)
	assert.Equal(t, 0, e.f.Count(resource.OpOnline)-1, "R14: Online waits for the hung Terminator")
	gate.Open()
	require.NoError(t, e.w.Wait(e.ctx))
	e.state(resource.Online)
}

// R17: while Terminate runs, Online is refused, and an Offline and a second
// Terminate join it.
func TestTerminateInProgress(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	e.online()
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpTerminate, rt.Hang(gate, nil))
	done := make(chan error, 2)
	go func() { done <- e.w.Terminate(e.ctx) }()
	e.entered(resource.OpTerminate, 1)
	st, err := e.w.Offline()
	assert.NoError(t, err, "an Offline joins the Terminate, which ends Offline")
	assert.Equal(t, resource.Online, st)
	_, err = e.w.Online()
	assert.ErrorIs(t, err, resource.ErrInvalidTransition)
	go func() { done <- e.w.Terminate(e.ctx) }()
	gate.Open()
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	assert.Equal(t, 1, e.f.Count(resource.OpTerminate), "the second Terminate joined")
	e.state(resource.Offline)
}

// R18: Close stops checks, terminates what runs, and calls the resource's
// Close once every call has returned; with a hung worker, Close returns
// with its context and the resource's Close runs later. Release follows,
// once. After Close everything is ErrClosed; a second Close is a no-op.
func TestCloseDuringHungWorker(t *testing.T) {
	releases := 0
	e := newEnv(t, rt.Caps{}, wrapper.Policy{}, func(o *wrapper.Options) {
		o.Release = func() error { releases++; return nil }
	})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpOnline, rt.Hang(gate, nil))
	_, err := e.w.Online()
	require.NoError(t, err)
	e.entered(resource.OpOnline, 1)

	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	err = e.w.Close(ctx)
	require.ErrorIs(t, err, context.Canceled)
	e.state(resource.Unknown)
	e.entered(resource.OpTerminate, 1) // what runs is terminated
	assert.Equal(t, 0, e.f.Closes(), "the resource's Close waits for the hung call")

	_, err = e.w.Online()
	assert.ErrorIs(t, err, resource.ErrClosed)
	_, err = e.w.Offline()
	assert.ErrorIs(t, err, resource.ErrClosed)
	assert.ErrorIs(t, e.w.Terminate(e.ctx), resource.ErrClosed)
	_, err = e.w.Probe(e.ctx)
	assert.ErrorIs(t, err, resource.ErrClosed)
	_, err = e.w.Control(e.ctx, resource.FirstResourceControlCode, nil)
	assert.ErrorIs(t, err, resource.ErrClosed)
	assert.ErrorIs(t, e.w.SetMaintenance(e.ctx, true), resource.ErrClosed)

	gate.Open()
	select {
	case <-e.w.Closed():
	case <-e.ctx.Done():
		t.Fatal("the resource's Close never ran")
	}
	assert.Equal(t, 1, e.f.Closes())
	require.NoError(t, e.w.Close(e.ctx), "a second Close is a no-op")
	assert.Equal(t, 1, e.f.Closes(), "R42: Close once")
	assert.Equal(t, 1, releases, "R41: release once, after Close")
	e.rec.AssertTransitions(t, "Offline→OnlinePending", "OnlinePending→Unknown")
}

// R18: Close of an Offline resource calls only the resource's Close.
func TestCloseOffline(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	require.NoError(t, e.w.Close(e.ctx))
	assert.Equal(t, 0, e.f.Count(resource.OpTerminate))
	assert.Equal(t, 1, e.f.Closes())
	e.rec.AssertTransitions(t, "Offline→Unknown")
}

// R18: Close of an Online resource terminates it first.
func TestCloseOnline(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	e.online()
	require.NoError(t, e.w.Close(e.ctx))
	assert.Equal(t, 1, e.f.Count(resource.OpTerminate))
	assert.Equal(t, 1, e.f.Closes())
	calls := e.f.Calls()
	assert.Equal(t, resource.OpClose, calls[len(calls)-1].Op, "Close is the last call")
}
