package wrapper_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// R7: Probe adopts a running resource, leaves a stopped one Offline, and
// fails one in trouble.
func TestProbe(t *testing.T) {
	tests := []struct {
		name  string
		check rt.Behaviour
		want  resource.State
		err   error
		hangs bool // the clock must pass CheckTimeout
	}{
		{"running: Online", rt.Succeed(), resource.Online, nil, false},
		{"stopped: Offline", rt.Fail(fmt.Errorf("no process: %w", resource.ErrNotRunning)), resource.Offline, resource.ErrNotRunning, false},
		{"in trouble: Failed", rt.Fail(rt.ErrInjected), resource.Failed, rt.ErrInjected, false},
		{"hangs: Failed with ErrCheckTimeout", rt.HangUntilCancelled(), resource.Failed, resource.ErrCheckTimeout, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, rt.Caps{}, wrapper.Policy{CheckTimeout: time.Second})
			e.f.Script(resource.OpIsAlive, tt.check)
			done := make(chan struct{})
			var st resource.State
			var err error
			go func() { st, err = e.w.Probe(e.ctx); close(done) }()
			e.entered(resource.OpIsAlive, 1)
			if tt.hangs {
				e.clk.Add(time.Second)
			}
			<-done
			assert.Equal(t, tt.want, st)
			if tt.err == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.err)
			}
			e.state(tt.want)
			if tt.want == resource.Online {
				assert.NoError(t, e.w.IsAlive(), "a probed resource is checked like any Online one")
			}
		})
	}
}

// R7: Probe only applies to an Offline resource.
func TestProbeRefused(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	e.online()
	_, err := e.w.Probe(e.ctx)
	assert.ErrorIs(t, err, resource.ErrInvalidTransition)
}

// R5, R6: Control reaches the resource's Controller, may run while an
// operation is pending, and a panic in it is ErrPanic.
func TestControl(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	e.f.SetControlResult([]byte("out:"))
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpOnline, rt.Hang(gate, nil))
	_, err := e.w.Online()
	require.NoError(t, err)
	e.entered(resource.OpOnline, 1)
	out, err := e.w.Control(e.ctx, resource.FirstResourceControlCode+1, []byte("in"))
	require.NoError(t, err, "R5: Control during a pending Online")
	assert.Equal(t, "out:in", string(out))

	e.f.Script(resource.OpControl, rt.Panic("control bug"))
	_, err = e.w.Control(e.ctx, resource.FirstResourceControlCode, nil)
	assert.ErrorIs(t, err, resource.ErrPanic)
	e.f.Script(resource.OpControl, rt.Fail(rt.ErrInjected))
	_, err = e.w.Control(e.ctx, resource.FirstResourceControlCode, nil)
	assert.ErrorIs(t, err, rt.ErrInjected, "R19")
	gate.Open()
	require.NoError(t, e.w.Wait(e.ctx))
}

// R51: a resource without a Controller answers ErrUnsupported.
func TestControlUnsupported(t *testing.T) {
	clk := clock.NewMock()
	w, err := wrapper.New(plain{}, wrapper.Options{Clock: clk})
	require.NoError(t, err)
	_, err = w.Control(context.Background(), resource.FirstResourceControlCode, nil)
	assert.ErrorIs(t, err, resource.ErrUnsupported)
	require.NoError(t, w.Close(context.Background()))
}

// R5: a Control whose caller gives up is abandoned, and the next Control
// waits for it to return.
func TestControlAbandoned(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{})
	gate := rt.NewGate()
	t.Cleanup(gate.Open)
	e.f.Script(resource.OpControl, rt.Hang(gate, nil))
	ctx, cancel := context.WithCancel(e.ctx)
	errc := make(chan error, 1)
	go func() { _, err := e.w.Control(ctx, resource.FirstResourceControlCode, nil); errc <- err }()
	e.entered(resource.OpControl, 1)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	require.Len(t, e.w.Abandoned(), 1)
	ctx2, cancel2 := context.WithCancel(e.ctx)
	cancel2()
	_, err := e.w.Control(ctx2, resource.FirstResourceControlCode, nil)
	assert.ErrorIs(t, err, context.Canceled, "the next Control waits for the abandoned one")
	assert.Equal(t, 1, e.f.Count(resource.OpControl))
	gate.Open()
	_, err = e.w.Control(e.ctx, resource.FirstResourceControlCode, nil)
	assert.NoError(t, err)
}

type plain struct{}

func (plain) Online(context.Context) error  { return nil }
func (plain) Offline(context.Context) error { return nil }
func (plain) IsAlive(context.Context) error { return nil }

var propSchema = properties.MustSchema(
	properties.Property{Name: "LogLevel", Kind: properties.Uint32, Reloadable: true},
	properties.Property{Name: "Port", Kind: properties.Uint32},
)

func vals(t *testing.T, m map[string]any) properties.Values {
	v, err := properties.NewValues(m)
	require.NoError(t, err)
	return v
}

// R58: new values are applied at once while Online when every changed
// property is reloadable; otherwise they are stored and handed to the
// resource before its next Online.
func TestSetProperties(t *testing.T) {
	start := map[string]any{"LogLevel": uint32(1), "Port": uint32(25)}
	e := newEnv(t, rt.Caps{}, wrapper.Policy{}, func(o *wrapper.Options) {
		o.Schema = propSchema
		o.Properties = vals(t, start)
	})
	// Offline: stored, told before the next Online.
	require.NoError(t, e.w.SetProperties(e.ctx, vals(t, map[string]any{"LogLevel": uint32(2), "Port": uint32(25)})))
	assert.Equal(t, 0, e.f.Count(resource.OpSetProperties))
	e.online()
	calls := e.f.Calls()
	require.Equal(t, resource.OpSetProperties, calls[0].Op, "told before Online")
	lvl, err := calls[0].Props.GetUint32("LogLevel")
	require.NoError(t, err)
	assert.Equal(t, uint32(2), lvl)

	// Online, reloadable: applied at once.
	require.NoError(t, e.w.SetProperties(e.ctx, vals(t, map[string]any{"LogLevel": uint32(3), "Port": uint32(25)})))
	assert.Equal(t, 2, e.f.Count(resource.OpSetProperties))

	// Online, not reloadable: stored, applies at next Online.
	err = e.w.SetProperties(e.ctx, vals(t, map[string]any{"LogLevel": uint32(3), "Port": uint32(587)}))
	require.ErrorIs(t, err, properties.ErrStored)
	assert.Contains(t, err.Error(), `"Port" is not reloadable`)
	assert.Equal(t, 2, e.f.Count(resource.OpSetProperties))

	// The resource declines a reloadable change: stored.
	e.f.Script(resource.OpSetProperties, rt.Fail(rt.ErrInjected))
	err = e.w.SetProperties(e.ctx, vals(t, map[string]any{"LogLevel": uint32(4), "Port": uint32(587)}))
	require.ErrorIs(t, err, properties.ErrStored)
	assert.ErrorIs(t, err, rt.ErrInjected)

	// Unchanged values: nothing to do.
	require.NoError(t, e.w.SetProperties(e.ctx, e.w.Properties()))

	// The stored values reach the resource at the next Online.
	_, err = e.w.Offline()
	require.NoError(t, err)
	require.NoError(t, e.w.Wait(e.ctx))
	e.online()
	calls = e.f.Calls()
	var last rt.Call
	for _, c := range calls {
		if c.Op == resource.OpSetProperties {
			last = c
		}
	}
	port, err := last.Props.GetUint32("Port")
	require.NoError(t, err)
	assert.Equal(t, uint32(587), port)
}

// R58: a failing ApplyProperties before Online fails the Online.
func TestSetPropertiesFailsOnline(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{}, func(o *wrapper.Options) { o.Schema = propSchema })
	require.NoError(t, e.w.SetProperties(e.ctx, vals(t, map[string]any{"Port": uint32(1)})))
	e.f.Script(resource.OpSetProperties, rt.Fail(rt.ErrInjected))
	_, err := e.w.Online()
	require.NoError(t, err)
	assert.ErrorIs(t, e.w.Wait(e.ctx), rt.ErrInjected)
	e.state(resource.Failed)
	assert.Equal(t, 0, e.f.Count(resource.OpOnline))
}

// R4: the queue never blocks; what it cannot hold is counted and reported
// by one EventsDropped marker.
func TestEventQueue(t *testing.T) {
	q := wrapper.NewEventQueue(2)
	for i := 1; i <= 5; i++ {
		q.Sink(resource.Event{Resource: "r", Seq: uint64(i)})
	}
	assert.Equal(t, uint64(3), q.Dropped())
	assert.Equal(t, uint64(1), (<-q.C()).Seq)
	assert.Equal(t, uint64(2), (<-q.C()).Seq)
	q.Sink(resource.Event{Resource: "r", Seq: 6})
	m := <-q.C()
	assert.Equal(t, resource.EventsDropped, m.Kind)
	assert.Equal(t, uint64(3), m.Dropped)
	assert.Equal(t, uint64(6), (<-q.C()).Seq)
	assert.Equal(t, uint64(0), q.Dropped())
}

// Bad input: each a clear error naming what was wrong; nothing panics.
func TestNewBadInput(t *testing.T) {
	_, err := wrapper.New(nil, wrapper.Options{})
	require.ErrorIs(t, err, resource.ErrInvalidOption)
	assert.ErrorContains(t, err, "resource is nil")
	tests := []struct {
		p     wrapper.Policy
		field string
	}{
		{wrapper.Policy{PendingTimeout: -time.Second}, "PendingTimeout"},
		{wrapper.Policy{PendingTimeout: resource.NoDelay}, "PendingTimeout"},
		{wrapper.Policy{MaxPendingTime: -5}, "MaxPendingTime"},
		{wrapper.Policy{PendingTimeout: time.Minute, MaxPendingTime: time.Second}, "MaxPendingTime"},
		{wrapper.Policy{TerminateTimeout: -2 * time.Second}, "TerminateTimeout"},
		{wrapper.Policy{CheckTimeout: -time.Second}, "CheckTimeout"},
		{wrapper.Policy{IsAliveInterval: -time.Second}, "IsAliveInterval"},
		{wrapper.Policy{LooksAliveInterval: -time.Second}, "LooksAliveInterval"},
		{wrapper.Policy{FailureThreshold: -1}, "FailureThreshold"},
		{wrapper.Policy{StartupGrace: -time.Second}, "StartupGrace"},
	}
	for _, tt := range tests {
		_, err := wrapper.New(plain{}, wrapper.Options{Policy: tt.p})
		require.ErrorIs(t, err, resource.ErrInvalidOption, tt.field)
		assert.ErrorContains(t, err, "Policy."+tt.field)
		assert.ErrorContains(t, err, "allowed")
	}
	// Never is allowed where a time-out can be turned off.
	w, err := wrapper.New(plain{}, wrapper.Options{Policy: wrapper.Policy{PendingTimeout: resource.Never, MaxPendingTime: resource.Never}})
	require.NoError(t, err)
	require.NoError(t, w.Close(context.Background()))
}

// SetPolicy changes the time-outs while running; a bad policy changes
// nothing.
func TestSetPolicy(t *testing.T) {
	e := newEnv(t, rt.Caps{}, wrapper.Policy{PendingTimeout: time.Minute})
	assert.Equal(t, time.Minute, e.w.Policy().PendingTimeout)
	assert.Equal(t, 10*time.Minute, e.w.Policy().MaxPendingTime, "default 10 × PendingTimeout")
	err := e.w.SetPolicy(wrapper.Policy{CheckTimeout: -1 * time.Hour})
	require.ErrorIs(t, err, resource.ErrInvalidOption)
	assert.Equal(t, time.Minute, e.w.Policy().PendingTimeout, "unchanged")
	require.NoError(t, e.w.SetPolicy(wrapper.Policy{PendingTimeout: 2 * time.Minute, IsAliveInterval: 10 * time.Second}))
	e.f.Script(resource.OpOnline, rt.HangUntilCancelled())
	_, err = e.w.Online()
	require.NoError(t, err)
	e.entered(resource.OpOnline, 1)
	e.clk.Add(time.Minute)
	e.state(resource.OnlinePending)
	e.clk.Add(time.Minute)
	ev := e.wait(rt.To(resource.Failed), 1)
	assert.Equal(t, time.Unix(120, 0), ev.Time)
}

// New refuses an Observer beside the functions it replaces, naming both.
func TestObserverAndFunctionsRefused(t *testing.T) {
	_, err := wrapper.New(rt.NewFake(clock.NewMock(), rt.Caps{}).Resource(), wrapper.Options{
		Observer: nopObserver{}, Sink: func(resource.Event) {},
	})
	if !errors.Is(err, resource.ErrInvalidOption) || !strings.Contains(err.Error(), "Observer") || !strings.Contains(err.Error(), "Sink") {
		t.Fatalf("New with Observer and Sink: %v", err)
	}
}

type nopObserver struct{}

func (nopObserver) Event(resource.Event)             {}
func (nopObserver) Abandoned(resource.Op, time.Time) {}
func (nopObserver) Returned(resource.Op)             {}
