package monitor

import (
	"context"
	"sync"
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

// R72, R70: an orchestration (OnlineGroup) that reaches a resource whose
// dependency is down does not start it, and does not reset it either: one
// the dependency's failure took down still comes back with the dependency.
// Resetting it first dropped that wait (found by TestFaultMonitor: an
// OnlineGroup's level reached the dependent after the failure).
func TestOrchestrationKeepsTheDependentsWait(t *testing.T) {
	// A bubble: its clock is fake, and synctest.Wait settles the
	// monitor's goroutines exactly.
	synctest.Test(t, func(t *testing.T) {
		m, err := New(Options{Clock: clock.New(), DefaultPolicy: Policy{
			Policy:       wrapper.Policy{IsAliveInterval: time.Hour, LooksAliveInterval: resource.Never},
			RestartDelay: time.Minute,
		}})
		require.NoError(t, err)
		var mu sync.Mutex
		fakes := map[string]*rt.Fake{}
		typ, err := resource.NewType("fake", nil, func(_ context.Context, name string, _ properties.Values) (resource.Resource, error) {
			f := rt.NewFake(clock.New(), rt.Caps{})
			mu.Lock()
			fakes[name] = f
			mu.Unlock()
			return f.Resource(), nil
		})
		require.NoError(t, err)
		require.NoError(t, m.RegisterType(typ))
		ctx := context.Background()
		require.NoError(t, m.Add(ctx, Spec{Name: "c", Type: "fake", Group: "g"}))
		require.NoError(t, m.Add(ctx, Spec{Name: "b", Type: "fake", Group: "g", DependsOn: []string{"c"}}))
		require.NoError(t, m.OnlineGroup(ctx, "g"))
		b, err := m.lookup("b")
		require.NoError(t, err)
		c, err := m.lookup("c")
		require.NoError(t, err)

		mu.Lock()
		fc := fakes["c"]
		mu.Unlock()
		require.True(t, fc.ReportFailure(rt.ErrInjected)) // c fails: its restart is a minute away
		synctest.Wait()
		require.Equal(t, resource.Offline, b.w.State(), "b taken down (R72)")
		m.mu.Lock()
		require.True(t, b.waitsForDepsLocked(), "b waits for c (R72)")
		m.mu.Unlock()

		// An orchestration's level for b, with c still down.
		require.ErrorIs(t, m.onlineOne(ctx, b), ErrDependency)
		m.mu.Lock()
		assert.True(t, b.waitsForDepsLocked(), "b still waits for c")
		m.mu.Unlock()

		time.Sleep(time.Minute) // c's restart
		synctest.Wait()
		assert.Equal(t, resource.Online, c.w.State())
		assert.Equal(t, resource.Online, b.w.State(), "b came back with c (R72)")
		require.NoError(t, m.Shutdown(ctx))
	})
}
