// Command quickstart: a monitor restarts a resource whose health check fails.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// web is the resource; its first health check fails.
type web struct{ checks atomic.Int32 }

func (*web) Online(context.Context) error  { return nil }
func (*web) Offline(context.Context) error { return nil }
func (w *web) IsAlive(context.Context) error {
	if w.checks.Add(1) == 1 {
		return errors.New("HTTP 503")
	}
	return nil
}
func main() { run(os.Stdout) }
func run(out io.Writer) {
	clk := clock.NewMock()
	m, _ := monitor.New(monitor.Options{Clock: clk})
	typ, _ := resource.NewType("web", nil, func(context.Context, string, properties.Values) (resource.Resource, error) { return &web{}, nil })
	_ = m.RegisterType(typ)
	events := m.Subscribe(64)
	policy := monitor.Policy{Policy: wrapper.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never}}
	_ = m.Add(context.Background(), monitor.Spec{Name: "www", Type: "web", Policy: policy})
	until := func(s resource.State) { // print state changes until the resource reaches s
		for e := range events.C() {
			if e.Kind == resource.StateChanged {
				fmt.Fprintf(out, "%6v  %v: %v → %v %v\n", e.Time.Sub(time.Unix(0, 0)), e.Resource, e.From, e.To, e.Err)
				if e.To == s {
					return
				}
			}
		}
	}
	_, _ = m.Online("www")
	until(resource.Online)
	clk.Add(10 * time.Second) // the first check fails
	until(resource.Failed)
	clk.Add(500 * time.Millisecond) // RestartDelay: the monitor restarts it
	until(resource.Online)
	st, _ := m.Status("www")
	fmt.Fprintf(out, "restarts: %d, failures: %d, last: %v\n", st.Restarts, st.Failures, st.LastFailure)
	_ = m.Shutdown(context.Background())
}
