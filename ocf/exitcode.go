package ocf

import (
	"errors"
	"strconv"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// ExitCode is an OCF resource agent's exit status, as the OCF standard
// (1.1, "Return codes") and Pacemaker define it.
type ExitCode int

// The OCF exit codes. Pacemaker reads each as the standard says: 0 and 7 are
// answers, 1 is a soft error (recovery may retry on this node), 2, 3, 4 and 5
// are hard errors on this node (Pacemaker moves the resource elsewhere), and
// 6 is a fatal configuration error (no node will run the resource).
const (
	// ExitSuccess (OCF_SUCCESS): the action succeeded; for monitor, the
	// resource runs.
	ExitSuccess ExitCode = 0
	// ExitGenericError (OCF_ERR_GENERIC): the action failed; for monitor,
	// the resource is in trouble (it failed, it could not be checked).
	ExitGenericError ExitCode = 1
	// ExitInvalidArgs (OCF_ERR_ARGS): the agent was called wrongly (no
	// action, extra arguments, a malformed value from the cluster such as a
	// time-out that is not a number), or the configuration is not valid on
	// this node.
	ExitInvalidArgs ExitCode = 2
	// ExitUnimplemented (OCF_ERR_UNIMPLEMENTED): the agent does not
	// implement the action (promote, notify, migrate_to, …).
	ExitUnimplemented ExitCode = 3
	// ExitPermission (OCF_ERR_PERM): the agent lacks a permission it needs
	// ([resource.ErrPermission]).
	ExitPermission ExitCode = 4
	// ExitNotInstalled (OCF_ERR_INSTALLED): something the resource needs is
	// missing on this node ([resource.ErrNotInstalled]): a program, a
	// directory.
	ExitNotInstalled ExitCode = 5
	// ExitNotConfigured (OCF_ERR_CONFIGURED): the configuration is wrong
	// whatever the node: a parameter breaks the type's schema (R52,
	// [properties.ErrInvalid]), or the resource says so
	// ([resource.ErrNotConfigured]).
	ExitNotConfigured ExitCode = 6
	// ExitNotRunning (OCF_NOT_RUNNING): monitor found the resource cleanly
	// stopped ([resource.ErrNotRunning], R7).
	ExitNotRunning ExitCode = 7
	// ExitRunningPromoted (OCF_RUNNING_PROMOTED): for promotable clones;
	// this adapter never returns it.
	ExitRunningPromoted ExitCode = 8
	// ExitFailedPromoted (OCF_FAILED_PROMOTED): for promotable clones;
	// this adapter never returns it.
	ExitFailedPromoted ExitCode = 9
)

var exitNames = [...]string{
	ExitSuccess:         "OCF_SUCCESS",
	ExitGenericError:    "OCF_ERR_GENERIC",
	ExitInvalidArgs:     "OCF_ERR_ARGS",
	ExitUnimplemented:   "OCF_ERR_UNIMPLEMENTED",
	ExitPermission:      "OCF_ERR_PERM",
	ExitNotInstalled:    "OCF_ERR_INSTALLED",
	ExitNotConfigured:   "OCF_ERR_CONFIGURED",
	ExitNotRunning:      "OCF_NOT_RUNNING",
	ExitRunningPromoted: "OCF_RUNNING_PROMOTED",
	ExitFailedPromoted:  "OCF_FAILED_PROMOTED",
}

// String returns the code's name in the OCF standard, such as
// "OCF_NOT_RUNNING", or "exit code N" for a code it does not define.
func (c ExitCode) String() string {
	if c >= 0 && int(c) < len(exitNames) {
		return exitNames[c]
	}
	return "exit code " + strconv.Itoa(int(c))
}

// ErrInvalidArgs is wrapped by the errors of a wrong invocation: no action
// or more than one argument, a missing OCF_RESOURCE_INSTANCE, a malformed
// OCF_RESKEY_CRM_meta_timeout or OCF_RESKEY_CRM_meta_interval. It is
// ExitInvalidArgs.
var ErrInvalidArgs = errors.New("ocf: invalid arguments")

// ExitCodeOf returns the exit code a failed action answers with err, by the
// sentinels err wraps, the first that matches in this order:
//
//	properties.ErrInvalid, resource.ErrNotConfigured   ExitNotConfigured (6)
//	resource.ErrNotInstalled                          ExitNotInstalled (5)
//	ErrInvalidArgs                                    ExitInvalidArgs (2)
//	resource.ErrPermission                            ExitPermission (4)
//	resource.ErrUnsupported                           ExitUnimplemented (3)
//	anything else                                     ExitGenericError (1)
//
// A nil err is ExitSuccess. [resource.ErrNotRunning] is not mapped here:
// only monitor turns "not running" into ExitNotRunning; for start or stop it
// is a failure like any other.
func ExitCodeOf(err error) ExitCode {
	switch {
	case err == nil:
		return ExitSuccess
	case errors.Is(err, properties.ErrInvalid), errors.Is(err, resource.ErrNotConfigured):
		return ExitNotConfigured
	case errors.Is(err, resource.ErrNotInstalled):
		return ExitNotInstalled
	case errors.Is(err, ErrInvalidArgs):
		return ExitInvalidArgs
	case errors.Is(err, resource.ErrPermission):
		return ExitPermission
	case errors.Is(err, resource.ErrUnsupported):
		return ExitUnimplemented
	}
	return ExitGenericError
}
