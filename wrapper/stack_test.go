package wrapper_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// spawner's Online starts a background goroutine, as a service's Online
// starts its loop, and then hangs until released, ignoring its context.
type spawner struct {
	entered, release, stop chan struct{}
}

func (s *spawner) Online(context.Context) error {
	go spawnedLoop(s.stop)
	hangingOnline(s.entered, s.release)
	return nil
}
func (*spawner) Offline(context.Context) error { return nil }
func (*spawner) IsAlive(context.Context) error { return nil }

//go:noinline
func spawnedLoop(stop chan struct{}) { <-stop }

//go:noinline
func hangingOnline(entered, release chan struct{}) {
	close(entered)
	<-release
}

// R35: an abandoned call's stack is its own goroutine's, not also those of
// the goroutines it started, which inherit its profiler label (and keep it
// after it returns, when the label may be another call's).
func TestAbandonedStackIsTheCallsOwn(t *testing.T) {
	clk := clock.NewMock()
	s := &spawner{entered: make(chan struct{}), release: make(chan struct{}), stop: make(chan struct{})}
	defer close(s.stop)
	w, err := wrapper.New(s, wrapper.Options{Clock: clk, Policy: wrapper.Policy{PendingTimeout: time.Minute}})
	require.NoError(t, err)
	defer func() { _ = w.Close(context.Background()) }()
	defer close(s.release)
	_, err = w.Online()
	require.NoError(t, err)
	<-s.entered
	clk.Add(time.Minute) // R11: the Online is abandoned
	require.ErrorIs(t, w.Wait(context.Background()), resource.ErrPendingTimeout)
	ab := w.Abandoned()
	require.Len(t, ab, 1)
	stack := string(ab[0].Stack)
	require.Contains(t, stack, "hangingOnline", "the call's own stack")
	require.False(t, strings.Contains(stack, "spawnedLoop"), "a goroutine the call started is not the call:\n%s", stack)
}
