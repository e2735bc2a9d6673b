package resource

import (
	"errors"

	"github.com/resdll/resdll/properties"
)

// The engine's sentinel errors. The engine wraps them with what happened
// (the resource, the operation); match them with [errors.Is].
var (
	// ErrUnsupported answers a request nobody handles (R51). It is
	// [properties.ErrUnsupported], re-exported.
	ErrUnsupported = properties.ErrUnsupported

	// ErrInvalidTransition: the request is not allowed in the resource's
	// state (R2, R3).
	ErrInvalidTransition = errors.New("resource: invalid transition")

	// ErrClosed: the resource is closed (R18), or was never opened.
	ErrClosed = errors.New("resource: closed")

	// ErrPendingTimeout: an Online or Offline did not return within its
	// pending timeout (R11).
	ErrPendingTimeout = errors.New("resource: pending timeout")

	// ErrWorkerStuck: a new operation waited its whole pending timeout for
	// an abandoned call of the resource to return, and it did not (R14).
	ErrWorkerStuck = errors.New("resource: abandoned call still running")

	// ErrTerminated: the pending operation was cut short by Terminate or
	// Close (R17, R18).
	ErrTerminated = errors.New("resource: terminated")

	// ErrCheckTimeout: a health check did not return within CheckTimeout,
	// or was still running at the next tick (R21).
	ErrCheckTimeout = errors.New("resource: health check timed out")

	// ErrNotOnline: a health result was asked for while the resource is not
	// Online (R22).
	ErrNotOnline = errors.New("resource: not online")

	// ErrNotRunning is what a resource's IsAlive wraps to say "cleanly
	// stopped", as opposed to failed (R7).
	ErrNotRunning = errors.New("resource: not running")

	// ErrPanic: an entry point panicked; the error carries the value and
	// the stack (R6). See [PanicError].
	ErrPanic = errors.New("resource: panic in entry point")

	// ErrQuarantined: Online or Offline is refused while a call of the
	// resource is deadlocked (R35).
	ErrQuarantined = errors.New("resource: quarantined while a call is hung")

	// ErrInvalidOption: an option or policy value is out of its allowed
	// range; the error names the field and what is allowed.
	ErrInvalidOption = errors.New("resource: invalid option")

	// ErrNotInstalled: the software the resource runs is missing. Hosts map
	// it to their codes (OCF: not installed, 5).
	ErrNotInstalled = errors.New("resource: not installed")

	// ErrNotConfigured: the resource's configuration is wrong in a way no
	// retry on this node fixes (OCF: not configured, 6).
	ErrNotConfigured = errors.New("resource: not configured")

	// ErrPermission: the resource lacks a permission it needs (OCF:
	// insufficient privileges, 4).
	ErrPermission = errors.New("resource: permission denied")
)
