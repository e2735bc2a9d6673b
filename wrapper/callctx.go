package wrapper

import (
	"context"
	"sync"
	"time"
)

// callCtx is the context a call into the resource gets: cancel-only, with
// no deadline (deadlines are the engine's: DESIGN) and no values, cancelled
// when the engine stops waiting for the call or the call returns. It lives
// in the call's record, so a call costs no context.WithCancel allocations
// (a cancelCtx and its cancel func: two of the few a health check made,
// issue 10). Its zero value is a live context.
//
// It implements the AfterFunc method the context package looks for, so a
// context a resource derives from it (context.WithCancel, WithTimeout, …)
// is cancelled with it without a goroutine waiting for it.
type callCtx struct {
	mu        sync.Mutex
	done      chan struct{} // made when first asked for; closedChan when cancelled before that
	afters    *afterCall    // AfterFunc's functions not yet stopped or run, newest first
	cancelled bool
}

// afterCall is one function registered with callCtx.AfterFunc, in a list:
// a context is made per call, and a list head keeps it in 32 bytes where a
// slice made it 48.
type afterCall struct {
	f    func()
	next *afterCall
}

var _ context.Context = (*callCtx)(nil)

// Deadline reports no deadline.
func (*callCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done returns a channel closed when the call is cancelled.
func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return lazyChan(&c.done, 0)
}

// Err returns context.Canceled once the call is cancelled, else nil.
func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancelled {
		return context.Canceled
	}
	return nil
}

// Value returns nil: a call's context carries no values of its own (the
// worker hooks of an operation are a context around it).
func (*callCtx) Value(any) any { return nil }

// String names the context, as the context package's own do.
func (*callCtx) String() string { return "resdll.callContext" }

// AfterFunc arranges for f to run in its own goroutine once c is cancelled
// (at once if it is); stop unregisters it, reporting whether that kept it
// from running — context.AfterFunc's contract.
func (c *callCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterCall{f: f}
	c.mu.Lock()
	if c.cancelled {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	a.next, c.afters = c.afters, a
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for p := &c.afters; *p != nil; p = &(*p).next {
			if *p == a {
				*p, a.next = a.next, nil
				return true
			}
		}
		return false
	}
}

// cancel cancels c; later calls do nothing.
func (c *callCtx) cancel() {
	c.mu.Lock()
	if c.cancelled {
		c.mu.Unlock()
		return
	}
	c.cancelled = true
	signal(&c.done)
	afters := c.afters
	c.afters = nil
	c.mu.Unlock()
	for a := afters; a != nil; a = a.next {
		go a.f()
	}
}
