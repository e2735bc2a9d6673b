package resource

import (
	"context"

	"github.com/resdll/resdll/properties"
)

// Resource is what a resource author implements: the three required entry
// points of the resource DLL contract.
//
// The engine calls them from goroutines of its own, never two at once (R5),
// and cancels ctx when it stops waiting (a pending timeout, Terminate,
// Close). An entry point returns nil for success and an error otherwise; it
// needs no goroutines or timers of its own to satisfy the contract, and it
// should return soon after ctx is cancelled.
type Resource interface {
	// Online brings the resource online and returns when it is (R10). It
	// may report progress with [Progress] (R13) or declare that it waits
	// without a time-out with [WaitWithoutTimeout] (R12).
	Online(ctx context.Context) error

	// Offline takes the resource offline gracefully. If it does not return
	// in time the engine escalates to [Terminator] (R16).
	Offline(ctx context.Context) error

	// IsAlive is the thorough health check (R20). An error wrapping
	// [ErrNotRunning] means "cleanly stopped" (R7); any other error is a
	// failure.
	IsAlive(ctx context.Context) error
}

// LooksAliver is implemented by resources with a cheap health check, run
// more often than IsAlive (R20).
type LooksAliver interface {
	LooksAlive(ctx context.Context) error
}

// Terminator is implemented by resources that can be stopped by force: kill
// the process, drop the connection. Terminate must not wait for the
// resource's cooperation; the engine calls it when Offline hangs (R16), on a
// caller's Terminate (R17), and on Close (R18), possibly while an abandoned
// call is still running (R5).
type Terminator interface {
	Terminate(ctx context.Context) error
}

// ReportFunc reports a failure the resource noticed on its own (R23; the
// Windows resource's event handle, SignalFailure). It is safe to call from
// any goroutine, at any time, any number of times, and never blocks: while
// Online it latches the failure at once; during OnlinePending it fails the
// Online; otherwise it is ignored.
type ReportFunc func(err error)

// FailureNotifier is implemented by resources that notice failures as they
// happen (a watched process exits, a connection drops): the engine hands
// them a [ReportFunc] once, before the first Online, so nobody needs to poll.
type FailureNotifier interface {
	SetFailureReporter(report ReportFunc)
}

// ControlCode identifies a control request (R51). Codes below
// FirstResourceControlCode are the engine's (property codes); a resource's
// Controller is handed the others.
type ControlCode uint32

// FirstResourceControlCode is the first code routed to a resource's
// [Controller] rather than to the engine.
const FirstResourceControlCode ControlCode = 0x10000

// Controller is implemented by resources with control codes of their own
// (R51). Control may run while an Online or Offline of the resource is
// pending (R5), so it must be safe for that. A code it does not know returns
// an error wrapping [ErrUnsupported].
type Controller interface {
	Control(ctx context.Context, code ControlCode, in []byte) (out []byte, err error)
}

// PropertyOwner is implemented by resources that want to be told of new
// private property values (R58). vals is the whole set, defaults included.
//
// While the resource is Online and every changed property is reloadable, the
// engine calls ApplyProperties at once: nil means the new values are in
// effect; an error wrapping [properties.ErrStored] means they take effect at
// the next Online. Otherwise the engine calls it before the next Online, and
// an error then fails that Online.
type PropertyOwner interface {
	ApplyProperties(ctx context.Context, vals properties.Values) error
}
