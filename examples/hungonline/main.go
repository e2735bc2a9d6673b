// Command hungonline shows the wrapper engine on one resource, on a mock
// clock the program drives, so the whole story takes a moment:
//
//  1. Online hangs (the service will not start) and returns at once with
//     OnlinePending; three minutes later the pending timeout fails it.
//  2. Terminate cleans up: the hung call is cancelled, the Terminator kills
//     what is left, and the resource is Failed still (a Failed resource
//     stays Failed until it is brought online again).
//  3. A second Online succeeds, and health checks run every 10 seconds.
//
// Run it with:
//
//	go run ./examples/hungonline
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

	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// service is a resource: a pretend service whose first start hangs.
type service struct {
	starts  atomic.Int32
	started chan struct{} // receives each time Online is entered
	checked chan struct{} // receives each time IsAlive is entered
}

func (s *service) Online(ctx context.Context) error {
	s.started <- struct{}{}
	if s.starts.Add(1) == 1 {
		<-ctx.Done() // the first start hangs until the engine gives up
		return ctx.Err()
	}
	return nil
}

func (s *service) Offline(context.Context) error { return nil }

func (s *service) IsAlive(context.Context) error {
	s.checked <- struct{}{}
	if s.starts.Load() < 2 {
		return fmt.Errorf("service: %w", resource.ErrNotRunning)
	}
	return nil
}

func (s *service) Terminate(context.Context) error { return nil }

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	ctx := context.Background()
	clk := clock.NewMock()
	start := clk.Now()
	events := wrapper.NewEventQueue(64)
	svc := &service{started: make(chan struct{}, 1), checked: make(chan struct{}, 1)}
	w, err := wrapper.New(svc, wrapper.Options{
		Name:  "web",
		Clock: clk,
		Sink:  events.Sink,
		Policy: wrapper.Policy{
			PendingTimeout:  3 * time.Minute,
			IsAliveInterval: 10 * time.Second,
		},
	})
	if err != nil {
		return err
	}
	sayAt := func(at time.Time, format string, args ...any) {
		fmt.Fprintf(out, "%8v  %s\n", at.Sub(start), fmt.Sprintf(format, args...))
	}
	say := func(format string, args ...any) { sayAt(clk.Now(), format, args...) }
	drain := func() {
		for {
			select {
			case e := <-events.C():
				line := fmt.Sprintf("event #%d %v: %v → %v", e.Seq, e.Op, e.From, e.To)
				if e.Kind != resource.StateChanged {
					line = fmt.Sprintf("event #%d %v", e.Seq, e.Kind)
				}
				if e.Forced {
					line += " (forced)"
				}
				if e.Err != nil {
					line += " — " + e.Err.Error()
				}
				sayAt(e.Time, "%s", line)
			default:
				return
			}
		}
	}

	state, err := w.Online()
	if err != nil {
		return err
	}
	say("Online() returned at once: %v", state)
	<-svc.started
	say("the service's Online is running… and hangs")
	clk.Add(3 * time.Minute)
	err = w.Wait(ctx)
	drain()
	say("Wait: %v (pending timeout: %t)", err, errors.Is(err, resource.ErrPendingTimeout))

	if err := w.Terminate(ctx); err != nil {
		return err
	}
	drain()
	say("after Terminate the resource is %v: Terminate cleans up, it does not heal", w.State())

	if _, err := w.Online(); err != nil {
		return err
	}
	<-svc.started
	if err := w.Wait(ctx); err != nil {
		return err
	}
	drain()
	say("second Online: %v; IsAlive (cached, never blocks): %v", w.State(), w.IsAlive())

	for i := range 3 {
		clk.Add(10 * time.Second) // a health check is due every 10 s
		<-svc.checked
		say("health check %d: IsAlive called by the engine's scheduler", i+1)
	}
	if _, err := w.Offline(); err != nil {
		return err
	}
	if err := w.Wait(ctx); err != nil {
		return err
	}
	drain()
	if err := w.Close(ctx); err != nil {
		return err
	}
	drain()
	say("closed")
	return nil
}
