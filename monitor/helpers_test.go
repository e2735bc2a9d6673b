package monitor_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const guard = 10 * time.Second

// menv is a monitor on a mock clock hosting fakes of type "fake", with a
// subscription pumped into a recorder.
type menv struct {
	t     *testing.T
	clk   *clock.Mock
	m     *monitor.Monitor
	rec   *rt.Recorder
	ctx   context.Context
	mu    sync.Mutex
	fakes map[string]*rt.Fake
	caps  rt.Caps
}

// checks is the policy most tests use: IsAlive every 10 s, no LooksAlive.
var checks = wrapper.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never, CheckTimeout: 5 * time.Second}

func newMenv(t *testing.T, opts monitor.Options) *menv {
	t.Helper()
	clk := clock.NewMock()
	opts.Clock = clk
	if opts.DefaultPolicy == (monitor.Policy{}) {
		opts.DefaultPolicy = monitor.Policy{Policy: checks}
	}
	m, err := monitor.New(opts)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	e := &menv{t: t, clk: clk, m: m, rec: rt.NewRecorder(), ctx: ctx, fakes: map[string]*rt.Fake{}}
	typ, err := resource.NewType("fake", nil, func(_ context.Context, name string, _ properties.Values) (resource.Resource, error) {
		f := rt.NewFake(clk, e.caps)
		e.mu.Lock()
		e.fakes[name] = f
		e.mu.Unlock()
		return f.Resource(), nil
	})
	require.NoError(t, err)
	require.NoError(t, m.RegisterType(typ))
	sub := m.Subscribe(4096)
	stop := make(chan struct{})
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		for {
			select {
			case ev := <-sub.C():
				e.rec.Sink(ev)
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		defer cancel()
		require.NoError(t, m.Shutdown(ctx))
		sub.Close()
		close(stop)
		<-pumped
	})
	return e
}

func (e *menv) add(name string, p monitor.Policy) *rt.Fake {
	e.t.Helper()
	require.NoError(e.t, e.m.Add(e.ctx, monitor.Spec{Name: name, Type: "fake", Policy: p}))
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fakes[name]
}

func (e *menv) wait(m rt.Match, n int) resource.Event {
	e.t.Helper()
	ev, err := e.rec.Wait(e.ctx, m, n)
	require.NoError(e.t, err)
	return ev
}

func (e *menv) online(name string) {
	e.t.Helper()
	_, err := e.m.Online(name)
	require.NoError(e.t, err)
	require.NoError(e.t, e.m.Wait(e.ctx, name))
	e.state(name, resource.Online)
}

func (e *menv) state(name string, want resource.State) {
	e.t.Helper()
	st, err := e.m.Status(name)
	require.NoError(e.t, err)
	require.Equal(e.t, want, st.State, "timeline:%s", e.rec.Timeline())
}

func (e *menv) status(name string) monitor.Status {
	e.t.Helper()
	st, err := e.m.Status(name)
	require.NoError(e.t, err)
	return st
}

func failed(name string) rt.Match  { return rt.Match{Resource: name, To: resource.Failed} }
func onlineM(name string) rt.Match { return rt.Match{Resource: name, To: resource.Online} }
func kind(name string, k resource.EventKind) rt.Match {
	return rt.Match{Resource: name, Kind: k}
}
