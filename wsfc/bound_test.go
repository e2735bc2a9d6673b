package wsfc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// A Controller that hangs costs ResourceControl its bound, the policy's
// PendingTimeout, on the host's clock, then ERROR_TIMEOUT; whether the
// Controller honours its context or ignores it.
func TestResourceControlBound(t *testing.T) {
	for _, c := range []struct {
		name    string
		honours bool
	}{
		{"a Controller that returns when cancelled", true},
		{"a Controller that ignores its context", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{policy: wrapper.Policy{PendingTimeout: 30 * time.Second}})
			gate := resourcetest.NewGate()
			defer gate.Open()
			b := resourcetest.Hang(gate, nil)
			if c.honours {
				b = resourcetest.HangUntilCancelled()
			}
			f := resourcetest.NewFake(w.clk, resourcetest.Caps{}).Script(resource.OpControl, b)
			id := w.open(f, 1)
			code := userCode(t, resource.FirstResourceControlCode)
			answer := make(chan Errno, 1)
			go func() {
				_, rc := w.host.ResourceControl(id, code, []byte("in"), nil)
				answer <- rc
			}()
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			if err := f.WaitRunning(ctx, resource.OpControl, 1); err != nil {
				t.Fatal(err)
			}
			select {
			case rc := <-answer:
				t.Fatalf("ResourceControl answered %v before its bound passed", rc)
			default:
			}
			w.clk.Add(30 * time.Second)
			select {
			case rc := <-answer:
				if rc != ErrorTimeout {
					t.Errorf("ResourceControl = %v, want ERROR_TIMEOUT", rc)
				}
			case <-ctx.Done():
				t.Fatal("ResourceControl did not return once its bound passed")
			}
		})
	}
}

// A factory that hangs costs Open its bound, the type's PendingTimeout, on
// the host's clock, then ERROR_TIMEOUT, and nothing of the resource
// remains: what a factory that ignores its context opens later is closed
// and released (R40). The failure reaches the cluster log.
func TestOpenBound(t *testing.T) {
	for _, c := range []struct {
		name    string
		honours bool
	}{
		{"a factory that returns when cancelled", true},
		{"a factory that ignores its context", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewMock()
			mon := newMonitor()
			h, err := NewHost(Options{Clock: clk, Policy: wrapper.Policy{PendingTimeout: 20 * time.Second},
				Store: func(string, Key) (properties.Store, error) { return properties.NewMemStore(), nil }})
			if err != nil {
				t.Fatal(err)
			}
			started, release := make(chan struct{}), make(chan struct{})
			fake := resourcetest.NewFake(clk, resourcetest.Caps{})
			typ, _ := resource.NewType("Slow", nil, func(ctx context.Context, _ string, _ properties.Values) (resource.Resource, error) {
				close(started)
				if c.honours {
					<-ctx.Done()
					return nil, fmt.Errorf("slow factory: %w", ctx.Err())
				}
				<-release
				return fake.Resource(), nil
			})
			_ = h.Register(typ, TypeOptions{})
			table, _ := h.Startup("Slow", Version, Version, mon)
			defer func() {
				close(release)
				if err := h.Shutdown(context.Background()); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
				if typ.Refs() != 0 || fake.Closes() > 1 || (!c.honours && fake.Closes() != 1) {
					t.Errorf("after Shutdown: %d type references, the resource closed %d times; want 0, and closed once if it was opened", typ.Refs(), fake.Closes())
				}
				// Once Open has failed, the Resource Monitor's handle is
				// not used again: what comes later goes to the host's log.
				for _, l := range mon.logged() {
					if l.h == 6 && !strings.Contains(l.msg, "Open failed") {
						t.Errorf("LogEvent for the handle of a failed Open: %q", l.msg)
					}
				}
			}()

			type result struct {
				id   ResID
				code Errno
			}
			answer := make(chan result, 1)
			go func() {
				id, code := table.Open("slow", nil, 6)
				answer <- result{id, code}
			}()
			<-started
			clk.Add(20 * time.Second)
			select {
			case r := <-answer:
				if r.id != 0 || r.code != ErrorTimeout {
					t.Errorf("Open = %d, %v; want 0, ERROR_TIMEOUT", r.id, r.code)
				}
			case <-time.After(guard):
				t.Fatal("Open did not return once its bound passed")
			}
			if h.Resources() != 0 {
				t.Errorf("%d resources open after a failed Open", h.Resources())
			}
			logged := false
			for _, l := range mon.logged() {
				if l.h == 6 && l.level >= LogError && strings.Contains(l.msg, "Open failed") && strings.Contains(l.msg, "ERROR_TIMEOUT") {
					logged = true
				}
			}
			if !logged {
				t.Errorf("the time-out is not in the cluster log: %v", mon.logged())
			}
		})
	}
}

// within: an answer in time is f's; a panic is a *panicError answering
// ERROR_GEN_FAILURE; an error f returns because the bound cancelled it is
// the time-out.
func TestWithin(t *testing.T) {
	clk := clock.NewMock()
	h := &Host{clk: clk}
	var g goroutines
	ctx := context.Background()
	v, err := within(h, &g, ctx, "quick", time.Second, func(context.Context) (int, error) { return 7, nil }, nil, nil)
	if v != 7 || err != nil {
		t.Errorf("quick = %d, %v", v, err)
	}
	_, err = within(h, &g, ctx, "panics", time.Second, func(context.Context) (int, error) { panic("boom") }, nil, nil)
	var pe *panicError
	if !errors.As(err, &pe) || Code(err) != ErrorGenFailure || !strings.Contains(string(pe.stack), "goroutine") {
		t.Errorf("panics = %v (code %v), want a *panicError with a stack, ERROR_GEN_FAILURE", err, Code(err))
	}
	running := make(chan struct{})
	answer := make(chan error, 1)
	go func() {
		_, err := within(h, &g, ctx, "cancelled", time.Second, func(ctx context.Context) (int, error) {
			close(running)
			<-ctx.Done()
			return 0, ctx.Err()
		}, nil, nil)
		answer <- err
	}()
	<-running
	clk.Add(time.Second)
	if err := <-answer; Code(err) != ErrorTimeout || !strings.Contains(err.Error(), "cancelled: no answer within 1s") {
		t.Errorf("cancelled = %v (code %v), want ERROR_TIMEOUT", err, Code(err))
	}
	wctx, cancel := context.WithTimeout(ctx, guard)
	defer cancel()
	if err := g.Wait(wctx); err != nil {
		t.Errorf("the goroutines did not end: %v", err)
	}
}
