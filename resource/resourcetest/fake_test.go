package resourcetest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The fake follows its script, then its default, and records each call.
func TestFakeScript(t *testing.T) {
	clk := clock.NewMock()
	f := rt.NewFake(clk, rt.Caps{})
	res := f.Resource()
	ctx := context.Background()
	boom := errors.New("boom")
	f.Script(resource.OpOnline, rt.Fail(boom), rt.Succeed())
	f.SetDefault(resource.OpOnline, rt.Fail(rt.ErrInjected))
	assert.ErrorIs(t, res.Online(ctx), boom)
	assert.NoError(t, res.Online(ctx))
	assert.ErrorIs(t, res.Online(ctx), rt.ErrInjected)
	assert.Equal(t, 3, f.Count(resource.OpOnline))
	calls := f.Calls()
	require.Len(t, calls, 3)
	assert.ErrorIs(t, calls[0].Err, boom)
	assert.Empty(t, f.Overlaps())

	assert.Panics(t, func() {
		f.Script(resource.OpIsAlive, rt.Panic("p"))
		_ = res.IsAlive(ctx)
	})
}

// Hang, HangUntilCancelled and Take wait as they say; Running and WaitCount
// follow them.
func TestFakeWaits(t *testing.T) {
	clk := clock.NewMock()
	f := rt.NewFake(clk, rt.Caps{})
	res := f.Resource()
	gate := rt.NewGate()
	f.Script(resource.OpOffline, rt.Hang(gate, rt.ErrInjected))
	f.Script(resource.OpIsAlive, rt.HangUntilCancelled(), rt.Take(time.Second, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	errs := make(chan error, 3)
	cctx, ccancel := context.WithCancel(ctx)
	go func() { errs <- res.Offline(cctx) }()
	require.NoError(t, f.WaitRunning(ctx, resource.OpOffline, 1))
	ccancel()
	gate.Open()
	assert.ErrorIs(t, <-errs, rt.ErrInjected, "Hang ignores cancellation and returns its error")

	cctx, ccancel = context.WithCancel(ctx)
	go func() { errs <- res.IsAlive(cctx) }()
	require.NoError(t, f.WaitCount(ctx, resource.OpIsAlive, 1))
	ccancel()
	assert.ErrorIs(t, <-errs, context.Canceled)

	go func() { errs <- res.IsAlive(ctx) }()
	require.NoError(t, f.WaitCount(ctx, resource.OpIsAlive, 2))
	require.Eventually(t, func() bool { clk.Add(100 * time.Millisecond); return len(errs) == 1 }, 10*time.Second, time.Millisecond)
	assert.NoError(t, <-errs)
	assert.Equal(t, 0, f.Running(resource.OpIsAlive))
}

// Caps hide optional interfaces; the fake records R5 overlaps.
func TestFakeCapsAndOverlaps(t *testing.T) {
	f := rt.NewFake(nil, rt.Caps{NoTerminator: true, NoLooksAlive: true})
	res := f.Resource()
	_, ok := res.(resource.Terminator)
	assert.False(t, ok)
	_, ok = res.(resource.LooksAliver)
	assert.False(t, ok)
	full := rt.NewFake(nil, rt.Caps{}).Resource()
	_, ok = full.(resource.Terminator)
	assert.True(t, ok)
	_, ok = full.(resource.LooksAliver)
	assert.True(t, ok)

	gate := rt.NewGate()
	f.Script(resource.OpOnline, rt.Hang(gate, nil))
	done := make(chan struct{})
	go func() { _ = res.Online(context.Background()); close(done) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, f.WaitRunning(ctx, resource.OpOnline, 1))
	_ = res.IsAlive(ctx)
	gate.Open()
	<-done
	assert.Equal(t, []string{"IsAlive started while Online ran"}, f.Overlaps())
}

// The recorder waits for events and checks their sequence (R4).
func TestRecorder(t *testing.T) {
	r := rt.NewRecorder()
	r.Sink(resource.Event{Resource: "a", Seq: 1, From: resource.Offline, To: resource.OnlinePending})
	r.Sink(resource.Event{Resource: "a", Seq: 2, From: resource.OnlinePending, To: resource.Online})
	require.NoError(t, r.CheckSequence())
	ev, err := r.Wait(context.Background(), rt.To(resource.Online), 1)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), ev.Seq)
	r.AssertTransitions(t, "Offline→OnlinePending", "OnlinePending→Online")

	r.Sink(resource.Event{Resource: "a", Seq: 4, From: resource.Failed, To: resource.OnlinePending})
	err = r.CheckSequence()
	require.Error(t, err)
	assert.ErrorContains(t, err, "seq 4 after 2")
	assert.ErrorContains(t, err, "from Failed, but the state was Online")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = r.Wait(ctx, rt.To(resource.Failed), 1)
	assert.ErrorIs(t, err, context.Canceled)
}

// GoroutinesIn sees a goroutine hung in the fake, and not once it ended.
func TestGoroutinesIn(t *testing.T) {
	f := rt.NewFake(nil, rt.Caps{})
	gate := rt.NewGate()
	f.Script(resource.OpOnline, rt.Hang(gate, nil))
	done := make(chan struct{})
	go func() { _ = f.Resource().Online(context.Background()); close(done) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, f.WaitRunning(ctx, resource.OpOnline, 1))
	got := rt.GoroutinesIn("github.com/resdll/resdll/resource")
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "resourcetest.(*Fake).behave")
	gate.Open()
	<-done
	assert.Empty(t, rt.GoroutinesIn("github.com/resdll/resdll/resource/resourcetest."))
}
