package resource

import "context"

// WorkerHooks is the engine's side of [Progress] and [WaitWithoutTimeout]:
// the engine puts one in the context of each Online and Offline it runs.
// Both methods must be safe to call from any goroutine and must not block.
type WorkerHooks interface {
	// Progress pushes the operation's deadline out (R13).
	Progress()
	// WaitWithoutTimeout disarms the operation's deadline (R12).
	WaitWithoutTimeout()
}

type hooksKey struct{}

// WithWorkerHooks returns a copy of ctx that carries h, for [Progress] and
// [WaitWithoutTimeout] to find. Engines call it; resources do not.
func WithWorkerHooks(ctx context.Context, h WorkerHooks) context.Context {
	return &hooksCtx{Context: ctx, h: h}
}

// hooksCtx is context.WithValue(ctx, hooksKey{}, h) that also passes on
// ctx's AfterFunc: a context derived from it (WithCancel, WithTimeout,
// AfterFunc) is then cancelled with ctx the way ctx itself arranges it —
// without a goroutine of the context package when ctx offers AfterFunc,
// as the wrapper's call contexts do — where a plain value context hides
// the method.
type hooksCtx struct {
	context.Context
	h WorkerHooks
}

func (c *hooksCtx) Value(key any) any {
	if key == (hooksKey{}) {
		return c.h
	}
	return c.Context.Value(key)
}

// AfterFunc implements the interface context.AfterFunc and the derived
// contexts look for.
func (c *hooksCtx) AfterFunc(f func()) (stop func() bool) { return context.AfterFunc(c.Context, f) }

func (c *hooksCtx) String() string { return "resource.WithWorkerHooks" }

func hooks(ctx context.Context) WorkerHooks {
	h, _ := ctx.Value(hooksKey{}).(WorkerHooks)
	return h
}

// Progress reports that the Online or Offline running with ctx is making
// progress (Windows' checkpoint, R13): the engine pushes its deadline to now
// plus the pending timeout, never beyond the maximum pending time after the
// start. It returns false, and does nothing, when ctx is not a worker's
// context.
func Progress(ctx context.Context) bool {
	h := hooks(ctx)
	if h == nil {
		return false
	}
	h.Progress()
	return true
}

// WaitWithoutTimeout declares that the Online or Offline running with ctx
// waits without a time-out (R12; EXRES does it for an upgrade and for
// mounting the Information Store): the engine disarms its deadline for the
// rest of the operation, which ends when the worker returns or the resource
// is terminated. It returns false, and does nothing, when ctx is not a
// worker's context.
func WaitWithoutTimeout(ctx context.Context) bool {
	h := hooks(ctx)
	if h == nil {
		return false
	}
	h.WaitWithoutTimeout()
	return true
}
