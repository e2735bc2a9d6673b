package monitor_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// noop is the cheapest resource: every entry point succeeds at once.
type noop struct{ checks *atomic.Int64 }

func (noop) Online(context.Context) error    { return nil }
func (noop) Offline(context.Context) error   { return nil }
func (n noop) IsAlive(context.Context) error { n.checks.Add(1); return nil }

// Scale by design (issue 5): 10 000 hosted Online resources cost no
// goroutine while idle — the count is the same as with none, before and
// after a round of health checks. Measured: 0 goroutines per idle resource.
func TestIdleResourcesOwnNoGoroutine(t *testing.T) {
	const n = 10_000
	synctest.Test(t, func(t *testing.T) {
		var checks atomic.Int64
		m, err := monitor.New(monitor.Options{Clock: clock.New(), DefaultPolicy: monitor.Policy{
			Policy: wrapper.Policy{IsAliveInterval: time.Minute, LooksAliveInterval: resource.Never},
		}})
		require.NoError(t, err)
		typ, err := resource.NewType("noop", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
			return noop{&checks}, nil
		})
		require.NoError(t, err)
		require.NoError(t, m.RegisterType(typ))
		synctest.Wait()

		for i := range n {
			name := fmt.Sprint("r", i)
			require.NoError(t, m.Add(t.Context(), monitor.Spec{Name: name, Type: "noop"}))
			_, err := m.Online(name)
			require.NoError(t, err)
		}
		synctest.Wait()
		for _, st := range m.StatusAll() {
			require.Equal(t, resource.Online, st.State, st.Name)
		}
		assert.Empty(t, rt.GoroutinesIn("github.com/resdll/resdll/monitor", "github.com/resdll/resdll/wrapper", "github.com/resdll/resdll/healthcheck"), "%d idle Online resources", n)

		time.Sleep(time.Minute) // fake time: every resource is checked once
		synctest.Wait()
		assert.Equal(t, int64(n), checks.Load())
		assert.Empty(t, rt.GoroutinesIn("github.com/resdll/resdll/monitor", "github.com/resdll/resdll/wrapper", "github.com/resdll/resdll/healthcheck"), "after a round of checks")

		require.NoError(t, m.Shutdown(t.Context()))
	})
}

// reporter is a noop resource that can report a failure (R23).
type reporter struct {
	noop
	report atomic.Pointer[resource.ReportFunc]
}

func (r *reporter) SetFailureReporter(f resource.ReportFunc) { r.report.Store(&f) }

// R36, scale: 10 000 resources failing at once: every event is delivered to
// a small subscription or counted in an EventsDropped marker, and Status
// shows every failure.
func TestSimultaneousFailuresAccounted(t *testing.T) {
	const n = 10_000
	synctest.Test(t, func(t *testing.T) {
		var checks atomic.Int64
		m, err := monitor.New(monitor.Options{Clock: clock.New(), DefaultPolicy: monitor.Policy{
			Policy:        wrapper.Policy{IsAliveInterval: time.Hour, LooksAliveInterval: resource.Never},
			RestartAction: monitor.NoRestart,
		}})
		require.NoError(t, err)
		var all []*reporter
		typ, err := resource.NewType("rep", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
			r := &reporter{noop: noop{&checks}}
			all = append(all, r)
			return r, nil
		})
		require.NoError(t, err)
		require.NoError(t, m.RegisterType(typ))
		for i := range n {
			name := fmt.Sprint("r", i)
			require.NoError(t, m.Add(t.Context(), monitor.Spec{Name: name, Type: "rep"}))
			_, err := m.Online(name)
			require.NoError(t, err)
		}
		synctest.Wait()
		sub := m.Subscribe(100)
		for _, r := range all {
			(*r.report.Load())(fmt.Errorf("disk gone"))
		}
		synctest.Wait()
		var delivered, dropped uint64
		for done := false; !done; {
			select {
			case e := <-sub.C():
				if e.Kind == resource.EventsDropped {
					dropped += e.Dropped
				} else {
					delivered++
				}
			default:
				done = true
			}
		}
		// Each failure is a state change and a Terminated event (R31's
		// clean-up); what the queue could not hold is counted by the
		// marker, or still pending in the queue's count.
		pending := sub.Dropped()
		assert.Equal(t, uint64(2*n), delivered+dropped+pending, "delivered %d, dropped %d, pending %d", delivered, dropped, pending)
		failedN := 0
		for _, st := range m.StatusAll() {
			if st.State == resource.Failed && st.Failures == 1 && st.LastFailure != nil {
				failedN++
			}
		}
		assert.Equal(t, n, failedN, "Status shows every failure")
		sub.Close()
		require.NoError(t, m.Shutdown(t.Context()))
	})
}
