package wsfc

import "fmt"

// ResourceHandle is the Resource Monitor's handle of a resource
// (RESOURCE_HANDLE): Open receives it, and the host passes it back with every
// status report and log line of that resource.
type ResourceHandle uintptr

// ResID is the host's handle of an open resource (RESID), which Open returns
// and every other entry point receives. Zero is no resource: Open returns it
// on failure. Handles are not reused while the host lives.
type ResID uintptr

// Status is a RESOURCE_STATUS: what SetResourceStatus tells the Resource
// Monitor of a pending Online or Offline.
type Status struct {
	// State is the resource's state: OnlinePending or OfflinePending with a
	// progress report, Online, Offline or Failed at the end.
	State ResourceState
	// CheckPoint grows with every report of the resource: it flags the
	// report as new to the Resource Monitor, nothing more. It does not
	// extend the cluster's PendingTimeout, within which the operation must
	// end (R13's push of the wrapper's own deadline stays inside the
	// wrapper).
	CheckPoint uint32
	// WaitHint is unused by the Resource Monitor; the host sends 0.
	WaitHint uint32
	// EventHandle is the failure event handle (see [FailureEvent]) in the
	// report that completes an Online; 0 otherwise, or when the host has
	// none.
	EventHandle uintptr
}

// ExitState is a RESOURCE_EXIT_STATE: what the Resource Monitor's
// SetResourceStatus returns. It is not an error code.
type ExitState uint32

// The RESOURCE_EXIT_STATE values (resapi.h).
const (
	// ResourceExitStateContinue: the resource has not been terminated;
	// the operation goes on.
	ResourceExitStateContinue ExitState = 0
	// ResourceExitStateTerminate: the resource has been terminated; the
	// DLL ends the Online or Offline and stops every worker of the
	// resource. The host then reports nothing more of that operation and
	// terminates the wrapper's operation (R17).
	ResourceExitStateTerminate ExitState = 1
)

// String returns the resapi.h name, such as "ResourceExitStateTerminate".
func (s ExitState) String() string {
	switch s {
	case ResourceExitStateContinue:
		return "ResourceExitStateContinue"
	case ResourceExitStateTerminate:
		return "ResourceExitStateTerminate"
	}
	return fmt.Sprintf("ExitState(%d)", uint32(s))
}

// Monitor is the Resource Monitor as the host sees it: the two callbacks
// Startup receives. The Windows layer calls the C function pointers; tests
// record the calls. Both may be called from any goroutine, and the host never
// holds a lock an entry point takes while calling them.
type Monitor interface {
	// SetResourceStatus reports a pending operation's progress or outcome
	// (PSET_RESOURCE_STATUS_ROUTINE) and returns the Resource Monitor's
	// RESOURCE_EXIT_STATE: ResourceExitStateContinue, or
	// ResourceExitStateTerminate when the Resource Monitor has terminated
	// the resource, after which the host ends the operation (see
	// [ResourceExitStateTerminate]). Any other value is logged and taken as
	// ResourceExitStateContinue.
	SetResourceStatus(h ResourceHandle, st Status) ExitState

	// LogEvent writes one line to the cluster log for the resource
	// (PLOG_EVENT_ROUTINE).
	LogEvent(h ResourceHandle, level LogLevel, msg string)
}

// FailureEvent is the failure event handle Online hands the Resource Monitor
// (R23, R30): signalled when the resource's failure latches, so the Resource
// Monitor need not poll LooksAlive. On Windows it is a manual-reset Win32
// event.
type FailureEvent interface {
	// Handle is the HANDLE the Resource Monitor waits on.
	Handle() uintptr
	// Set signals the event.
	Set() error
	// Reset makes it non-signalled, at the start of each Online.
	Reset() error
	// Close releases it, when the resource is closed.
	Close() error
}

// EventSource makes a resource's failure event, once, when it is opened.
type EventSource interface {
	// NewEvent makes a failure event, not signalled.
	NewEvent() (FailureEvent, error)
}
