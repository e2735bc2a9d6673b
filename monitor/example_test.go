package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// web is a resource whose first health check fails.
type web struct{ checks atomic.Int32 }

func (*web) Online(context.Context) error  { return nil }
func (*web) Offline(context.Context) error { return nil }
func (w *web) IsAlive(context.Context) error {
	if w.checks.Add(1) == 1 {
		return errors.New("HTTP 503")
	}
	return nil
}

// A failed health check is restarted under the policy, on a mock clock.
func Example() {
	clk := clock.NewMock()
	m, _ := monitor.New(monitor.Options{Clock: clk})
	typ, _ := resource.NewType("web", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
		return &web{}, nil
	})
	_ = m.RegisterType(typ)
	events := m.Subscribe(16)
	_ = m.Add(context.Background(), monitor.Spec{Name: "www", Type: "web", Policy: monitor.Policy{
		Policy: wrapper.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never},
	}})

	_, _ = m.Online("www")
	show := func(until resource.State, n int) {
		for n > 0 {
			e := <-events.C()
			if e.Kind == resource.StateChanged {
				fmt.Printf("at %v: %v → %v%s\n", e.Time.Sub(time.Unix(0, 0)), e.From, e.To, errText(e.Err))
				if e.To == until {
					n--
				}
			}
		}
	}
	show(resource.Online, 1)
	clk.Add(10 * time.Second) // the first check fails
	show(resource.Failed, 1)
	clk.Add(500 * time.Millisecond) // RestartDelay
	show(resource.Online, 1)
	st, _ := m.Status("www")
	fmt.Println("restarts:", st.Restarts, "failures:", st.Failures)
	_ = m.Shutdown(context.Background())
	// Output:
	// at 0s: Offline → OnlinePending
	// at 0s: OnlinePending → Online
	// at 10s: Online → Failed (HTTP 503)
	// at 10.5s: Failed → OnlinePending
	// at 10.5s: OnlinePending → Online
	// restarts: 1 failures: 1
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// svc is a resource that says when it starts and stops.
type svc struct{ name string }

func (s svc) Online(context.Context) error  { fmt.Println("start", s.name); return nil }
func (s svc) Offline(context.Context) error { fmt.Println("stop", s.name); return nil }
func (svc) IsAlive(context.Context) error   { return nil }

// A group with dependencies comes online dependencies first and goes
// offline dependents first, each as one call.
func ExampleMonitor_OnlineGroup() {
	ctx := context.Background()
	m, _ := monitor.New(monitor.Options{Clock: clock.NewMock()})
	typ, _ := resource.NewType("svc", nil, func(_ context.Context, name string, _ properties.Values) (resource.Resource, error) {
		return svc{name}, nil
	})
	_ = m.RegisterType(typ)
	_ = m.Add(ctx, monitor.Spec{Name: "System Attendant", Type: "svc", Group: "EVS1"})
	_ = m.Add(ctx, monitor.Spec{Name: "Information Store", Type: "svc", Group: "EVS1", DependsOn: []string{"System Attendant"}})
	_ = m.Add(ctx, monitor.Spec{Name: "SMTP", Type: "svc", Group: "EVS1", DependsOn: []string{"Information Store"}})

	if err := m.OnlineGroup(ctx, "EVS1"); err != nil {
		fmt.Println(err)
	}
	if err := m.OfflineGroup(ctx, "EVS1"); err != nil {
		fmt.Println(err)
	}
	err := m.AddDependency("System Attendant", "SMTP")
	fmt.Println(err)
	_ = m.Shutdown(ctx)
	// Output:
	// start System Attendant
	// start Information Store
	// start SMTP
	// stop SMTP
	// stop Information Store
	// stop System Attendant
	// monitor: "System Attendant" depending on "SMTP" makes a cycle: System Attendant → SMTP → Information Store → System Attendant: monitor: dependency
}
