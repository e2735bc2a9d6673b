package wrapper_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// hungStore is a resource whose Online never finishes on its own (a
// database that will not mount), but that gives up when its context is
// cancelled.
type hungStore struct{ entered chan struct{} }

func (s hungStore) Online(ctx context.Context) error {
	close(s.entered)
	<-ctx.Done()
	return ctx.Err()
}
func (hungStore) Offline(context.Context) error { return nil }
func (hungStore) IsAlive(context.Context) error { return nil }

// A hung Online times out on a mock clock: the wrapper returns at once with
// OnlinePending, and when PendingTimeout passes the resource is Failed with
// resource.ErrPendingTimeout and its worker's context is cancelled.
func Example_pendingTimeout() {
	clk := clock.NewMock()
	events := wrapper.NewEventQueue(16)
	store := hungStore{entered: make(chan struct{})}
	w, err := wrapper.New(store, wrapper.Options{
		Name:   "Information Store",
		Clock:  clk,
		Sink:   events.Sink,
		Policy: wrapper.Policy{PendingTimeout: 3 * time.Minute},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	state, _ := w.Online()
	fmt.Println("Online returned:", state)
	<-store.entered // the worker runs the resource's Online

	clk.Add(3 * time.Minute) // the deadline passes
	err = w.Wait(context.Background())
	fmt.Println("Wait:", err)
	fmt.Println("timed out:", errors.Is(err, resource.ErrPendingTimeout))
	fmt.Println("state:", w.State())
	for range 2 {
		e := <-events.C()
		fmt.Printf("%s  %v → %v\n", e.Time.UTC().Format("15:04:05"), e.From, e.To)
	}
	_ = w.Close(context.Background())
	// Output:
	// Online returned: OnlinePending
	// Wait: Online did not return within 3m0s: resource: pending timeout
	// timed out: true
	// state: Failed
	// 00:00:00  Offline → OnlinePending
	// 00:03:00  OnlinePending → Failed
}

// host is a host's record of one resource, and its wrapper's Observer: one
// value takes the events and the abandoned-call notices, with no function
// made per resource.
type host struct {
	name   string
	events chan resource.Event
}

func (h *host) Event(ev resource.Event) {
	select { // an Observer must not block: a full queue drops (a real host counts it)
	case h.events <- ev:
	default:
	}
}
func (h *host) Abandoned(resource.Op, time.Time) {}
func (h *host) Returned(resource.Op)             {}

// A host's own record observes its wrapper.
func ExampleObserver() {
	h := &host{name: "Exchange SA", events: make(chan resource.Event, 4)}
	w, err := wrapper.New(hungStore{entered: make(chan struct{})}, wrapper.Options{
		Name: h.name, Clock: clock.NewMock(), Observer: h,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = w.Online()
	ev := <-h.events
	fmt.Printf("%s: %v → %v\n", ev.Resource, ev.From, ev.To)
	_ = w.Close(context.Background())
	// Output:
	// Exchange SA: Offline → OnlinePending
}
