package resourcetest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// A resource author's test on a mock clock: the resource's Online hangs,
// times out, is restarted twice, and the third failure asks for failover
// (R11, R31).
func Example() {
	ctx, clk, rec := context.Background(), clock.NewMock(), rt.NewRecorder()
	f := rt.NewFake(clk, rt.Caps{}).SetDefault(resource.OpOnline, rt.HangUntilCancelled())
	m, _ := monitor.New(monitor.Options{Clock: clk, DefaultPolicy: monitor.Policy{Policy: wrapper.Policy{PendingTimeout: time.Minute}}})
	typ, _ := resource.NewType("svc", nil, func(context.Context, string, properties.Values) (resource.Resource, error) { return f.Resource(), nil })
	_ = m.RegisterType(typ)
	_ = m.Add(ctx, monitor.Spec{Name: "svc", Type: "svc"})
	sub := m.Subscribe(64)
	rec.Follow(sub.C())
	_, _ = m.Online("svc")
	for i := 1; i <= 3; i++ {
		_, _ = rec.Wait(ctx, rt.To(resource.OnlinePending), i)
		clk.Add(time.Minute) // the Online hangs past PendingTimeout
		_, _ = rec.Wait(ctx, rt.To(resource.Failed), i)
		clk.Add(500 * time.Millisecond) // RestartDelay
	}
	_, _ = rec.Wait(ctx, rt.OfKind(resource.FailoverRequested), 1)
	fmt.Println(rec.Transitions(), f.Count(resource.OpOnline))
	_ = m.Shutdown(ctx)
	sub.Close()
	// Output:
	// [Offline→OnlinePending OnlinePending→Failed Failed→OnlinePending OnlinePending→Failed Failed→OnlinePending OnlinePending→Failed] 3
}
