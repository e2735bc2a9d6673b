// Package wsfc runs resdll resource types as a Windows failover-cluster
// resource DLL: the Resource API (resapi.h, version 1 function table) on top
// of package wrapper, so the same resource.Type runs under resdll's monitor,
// under Pacemaker (package ocf) and under the Windows Resource Hosting
// Subsystem, which loads the DLL as it loads EXRES.DLL. On Windows the
// Resource Monitor and the cluster service are the monitor: this package
// imports nothing of package monitor.
//
// # The mapping (pure Go)
//
// A [Host] holds the registered types. [Host.Startup] checks the version
// range (only 0x100 is served: ERROR_REVISION_MISMATCH otherwise) and the
// type name (ERROR_MOD_NOT_FOUND for a type not registered) and returns the
// type's [Table]: Open in version 1 is not told the type, so each type has
// its own. [Table.Open] opens a resource through the type's factory (R40)
// with the values stored under its key in the cluster database, wraps it,
// and returns a RESID from the host's handle table; [Host.Close] releases
// it once (R18).
//
// [Host.Online] and [Host.Offline] return ERROR_IO_PENDING while the
// wrapper is pending (R10) and report the outcome through the Resource
// Monitor's SetResourceStatus, after a pending report with a growing
// checkpoint for each resource.Progress (R13); Online hands back a failure
// event handle, signalled when the wrapper latches a failure (R23), so the
// Resource Monitor need not poll LooksAlive (R30). A hung Offline escalates
// to the Terminator (R16). When SetResourceStatus answers
// ResourceExitStateTerminate, the operation ends: nothing more of it is
// reported and the wrapper's operation is terminated (R17). An outcome is
// matched to the operation it ends, so the late end of a terminated Online
// is never taken for the next Online's. [Host.Terminate] forces the
// resource down (R17); [Host.LooksAlive] and [Host.IsAlive] return the
// cached result at once (R22): the Resource Monitor's deadlock detection
// watches every entry point, and no entry point waits without a bound of
// the policy (see [Host]).
//
// The cluster's own common properties of the resource (PendingTimeout,
// LooksAlivePollInterval, IsAlivePollInterval) are the Resource Monitor's,
// and the host does not read them: the Resource Monitor calls Terminate when
// a pending operation has not ended within PendingTimeout, and a checkpoint
// only flags a report as new, so R12 and R13 cannot extend it. Set the
// wrapper's Policy (Options.Policy, TypeOptions.Policy) no longer than the
// cluster's PendingTimeout and poll intervals; the README's section on
// Windows failover clustering says what happens otherwise.
//
// [Host.ResourceControl] and [Host.ResourceTypeControl] answer the
// private-property control codes through package properties, with property
// lists in the Windows wire format ([EncodePropertyList],
// [DecodePropertyList]); values are stored through a properties.Store over
// the resource's key in the cluster database ([KeyStore] over a [Key]), so
// they move with the group. Common-property codes, and codes nobody handles,
// are ERROR_INVALID_FUNCTION. A resource's log records reach the cluster
// log through LogEvent ([NewLogHandler]).
//
// No panic crosses an entry point: it is recovered, logged with its stack
// (to the resource's cluster log when the resource is known, Open included,
// and to Options.Logger), and answered with ERROR_GEN_FAILURE (FALSE for
// LooksAlive and IsAlive); a log handler that panics in turn is ignored.
// Panics in the resource's own entry points are the wrapper's (R6): the
// operation fails with resource.ErrPanic, and a factory's panic fails Open
// with its stack in the cluster log.
//
// # Error codes
//
// [Code] maps an error to the code an entry point returns: an [Errno] the
// error wraps; otherwise properties.ErrStored → ERROR_RESOURCE_PROPERTIES_STORED,
// [ErrMalformed] → ERROR_INVALID_DATA, properties.ErrInvalid →
// ERROR_INVALID_PARAMETER, properties.ErrCorrupt → ERROR_FILE_CORRUPT,
// resource.ErrUnsupported → ERROR_INVALID_FUNCTION,
// resource.ErrInvalidTransition → ERROR_INVALID_STATE, resource.ErrClosed →
// ERROR_INVALID_HANDLE, resource.ErrPendingTimeout, ErrWorkerStuck and
// ErrCheckTimeout → ERROR_TIMEOUT, resource.ErrTerminated →
// ERROR_OPERATION_ABORTED, resource.ErrNotInstalled → ERROR_FILE_NOT_FOUND,
// resource.ErrNotConfigured → ERROR_BAD_CONFIGURATION, resource.ErrPermission
// → ERROR_ACCESS_DENIED, and anything else → ERROR_RESOURCE_FAILED.
//
// # The Windows layer
//
// On Windows on amd64 (x64), built with cgo, Serve installs a Host as the
// DLL's; the layer is not built for other Windows architectures (on 32-bit
// x86 its callbacks would lack WINAPI's stdcall convention). The only
// export is Startup (the Go linker exports only cgo's //export functions, and
// the function tables hold syscall.NewCallback pointers, which are not
// exports; each type's Open is a small C function, one of 32, so a DLL serves
// at most 32 types); SetResourceStatus and LogEvent are called through small
// C trampolines; failure events are Win32 manual-reset events; the Key is the
// cluster registry (clusapi.dll's ClusterReg functions). The Go runtime
// starts when the DLL loads and cannot be unloaded, so Serve pins the DLL in
// memory: FreeLibrary leaves it loaded until the process ends.
// NewDebugLogHandler (Windows only) writes the host's own log, which has no
// resource handle for LogEvent, with OutputDebugString.
//
// Everything above that layer is pure Go and tested on any platform with a
// fake Monitor and a mock clock.
package wsfc
