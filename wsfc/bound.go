package wsfc

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// This file holds what keeps an entry point within its bound: calls run in
// a goroutine the host owns, under a context the host's clock cancels, and
// the entry point stops waiting when the bound passes.

// callBound is how long an entry point waits for a call into user code
// (a factory, a Controller, a sync hook, a store) under policy p: its
// PendingTimeout, or wrapper.DefaultPendingTimeout when that is
// resource.Never, because an entry point must never wait without a bound
// (the Resource Monitor's deadlock detection would end the whole process).
func callBound(p wrapper.Policy) time.Duration {
	r, err := p.Resolve()
	if err != nil || r.PendingTimeout == resource.Never {
		return wrapper.DefaultPendingTimeout
	}
	return r.PendingTimeout
}

// goroutines counts the goroutines an owner starts, so that the owner can
// wait for them to end (a host for the Opens it gave up on, an entry for its
// control calls and terminations). The zero value is ready to use.
type goroutines struct {
	mu      sync.Mutex
	n       int             // running
	waiters []chan struct{} // closed when n drops to 0
}

// Go runs f in a goroutine that Wait waits for.
func (g *goroutines) Go(f func()) {
	g.mu.Lock()
	g.n++
	g.mu.Unlock()
	go func() {
		defer g.done()
		f()
	}()
}

func (g *goroutines) done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.n == 0 {
		for _, w := range g.waiters {
			close(w)
		}
		g.waiters = nil
	}
}

// Wait returns once no goroutine of g runs, or with ctx's error.
func (g *goroutines) Wait(ctx context.Context) error {
	g.mu.Lock()
	if g.n == 0 {
		g.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	g.waiters = append(g.waiters, w)
	g.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// panicError is a panic recovered in a goroutine the host runs a call in:
// the host's own path panicked (the resource's entry points are the
// wrapper's, R6), so the entry point answers ERROR_GEN_FAILURE, which it
// wraps; the stack goes to the logs.
type panicError struct {
	op    string
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("wsfc: %s panicked: %v", p.op, p.value) }
func (p *panicError) Unwrap() error { return ErrorGenFailure }

// within runs f in a goroutine of g, under a context that is cancelled when
// parent is, or when bound has passed on the host's clock, and returns what
// f returns. If the bound passes first, within returns at once an error
// wrapping ERROR_TIMEOUT (what names the call in it); f goes on, abandoned:
// abandon (when not nil) is called before within returns, and before late,
// which receives f's result when it returns. An error f returns because the
// bound cancelled its context is that time-out too. A panic in f is
// returned as a *panicError.
func within[T any](h *Host, g *goroutines, parent context.Context, what string, bound time.Duration,
	f func(context.Context) (T, error), abandon func(), late func(T, error)) (T, error) {
	ctx, cancel := context.WithCancelCause(parent)
	timeout := fmt.Errorf("wsfc: %s: no answer within %v: %w", what, bound, ErrorTimeout)
	timer := h.clk.AfterFunc(bound, func() { cancel(timeout) })

	type result struct {
		v   T
		err error
	}
	var (
		mu        sync.Mutex // guards abandoned and the send on done
		abandoned bool       // the entry point stopped waiting
		done      = make(chan result, 1)
	)
	g.Go(func() {
		defer cancel(nil)
		var r result
		func() {
			defer func() {
				if v := recover(); v != nil {
					r.err = &panicError{op: what, value: v, stack: debug.Stack()}
				}
			}()
			r.v, r.err = f(ctx)
		}()
		mu.Lock()
		if !abandoned {
			done <- r
			mu.Unlock()
			return
		}
		mu.Unlock()
		if late != nil {
			late(r.v, r.err)
		}
	})

	answer := func(r result) (T, error) {
		timer.Stop()
		if r.err != nil && context.Cause(ctx) == timeout {
			return r.v, fmt.Errorf("%w: %w", timeout, r.err)
		}
		return r.v, r.err
	}
	select {
	case r := <-done:
		return answer(r)
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case r := <-done: // it returned as the bound passed
		return answer(r)
	default:
	}
	if abandon != nil {
		abandon()
	}
	abandoned = true
	timer.Stop()
	var zero T
	return zero, context.Cause(ctx)
}

// logTo writes one record to l (nil: nowhere), never letting a panic of its
// handler out: the caller may be on its way back to C, or recovering from a
// panic already.
func logTo(l *slog.Logger, level slog.Level, msg string, args ...any) {
	if l == nil {
		return
	}
	defer func() { _ = recover() }()
	l.Log(context.Background(), level, msg, args...)
}
