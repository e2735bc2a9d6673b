package wrapper

import (
	"fmt"
	"time"

	"github.com/resdll/resdll/resource"
)

// lateError is a call or a wait that outlived its time: an operation that
// did not return within PendingTimeout (R11), one that waited too long for
// an abandoned call (R14), a Terminate past TerminateTimeout (R16), or a
// check past CheckTimeout (R21). It wraps the sentinel (ErrPendingTimeout,
// ErrWorkerStuck or ErrCheckTimeout) for errors.Is, and is formatted only
// when read: a burst of time-outs formats nothing that nobody reads, and
// makes one small value per time-out, not fmt's (issue 10).
type lateError struct {
	err    error // the sentinel
	d      time.Duration
	op     resource.Op // OpTerminate for a Terminate past its time
	wait   bool        // it waited d for an abandoned call; otherwise the call did not return within d
	noTerm bool        // an Offline escalated (R16) by a resource without a Terminator
}

func (e *lateError) Error() string {
	var s string
	switch {
	case e.wait:
		s = fmt.Sprintf("%v waited %v for an abandoned call to return: %v", e.op, e.d, e.err)
	case e.op == resource.OpTerminate:
		s = fmt.Sprintf("Terminate did not return within %v: %v", e.d, e.err)
	default:
		s = fmt.Sprintf("%v did not return within %v: %v", e.op, e.d, e.err)
	}
	if e.noTerm {
		s += "; the resource has no Terminator"
	}
	return s
}

func (e *lateError) Unwrap() error { return e.err }
