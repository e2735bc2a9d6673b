package wrapper_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// manualGate admits only when the test says so.
type manualGate struct {
	mu      sync.Mutex
	waiting []func()
	leaves  int
}

func (g *manualGate) Enter(admit func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting = append(g.waiting, admit)
}

func (g *manualGate) Leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.leaves++
}

func (g *manualGate) admitNext(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	require.NotEmpty(t, g.waiting)
	admit := g.waiting[0]
	g.waiting = g.waiting[1:]
	g.mu.Unlock()
	admit()
}

func (g *manualGate) left() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.leaves
}

// R39 (wrapper side): a gated operation shows its pending state at once,
// is marked queued, and its deadline starts when it is admitted; its slot
// is handed back when it ends.
func TestGate(t *testing.T) {
	g := &manualGate{}
	e := newEnv(t, rt.Caps{}, wrapper.Policy{PendingTimeout: time.Minute}, func(o *wrapper.Options) { o.Gate = g })
	e.f.Script(resource.OpOnline, rt.HangUntilCancelled())
	st, err := e.w.Online()
	require.NoError(t, err)
	assert.Equal(t, resource.OnlinePending, st)
	s := e.w.Status()
	assert.True(t, s.Queued)
	assert.Equal(t, resource.OpOnline, s.Pending)
	assert.True(t, s.Deadline.IsZero(), "no deadline while queued")
	e.clk.Add(5 * time.Minute) // queued time does not count
	e.state(resource.OnlinePending)
	assert.Equal(t, 0, e.f.Count(resource.OpOnline))

	g.admitNext(t)
	e.entered(resource.OpOnline, 1)
	s = e.w.Status()
	assert.False(t, s.Queued)
	assert.Equal(t, time.Unix(6*60, 0), s.Deadline, "the deadline starts at admission")
	e.clk.Add(time.Minute)
	ev := e.wait(rt.To(resource.Failed), 1)
	assert.ErrorIs(t, ev.Err, resource.ErrPendingTimeout)
	require.Eventually(t, func() bool { return g.left() == 1 }, guard, time.Millisecond, "the slot is handed back")

	// An operation terminated while queued hands back its late admission.
	_, err = e.w.Online()
	require.NoError(t, err)
	require.NoError(t, e.w.Terminate(e.ctx))
	g.admitNext(t)
	assert.Equal(t, 2, g.left())
	e.state(resource.Offline)
	assert.Equal(t, 1, e.f.Count(resource.OpOnline), "the late admission started nothing")
}
