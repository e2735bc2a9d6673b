package resource

import (
	"fmt"
	"strings"
	"time"
)

// Op is an operation: an entry point of the resource, or what a caller or
// the engine did that caused an event.
type Op uint8

// The operations.
const (
	OpNone Op = iota
	OpOpen
	OpOnline
	OpOffline
	OpIsAlive
	OpLooksAlive
	OpTerminate
	OpClose
	OpControl
	OpProbe
	OpReport        // a FailureNotifier's report (R23)
	OpSetProperties // new property values (R58)
)

var opNames = [...]string{
	OpNone:          "None",
	OpOpen:          "Open",
	OpOnline:        "Online",
	OpOffline:       "Offline",
	OpIsAlive:       "IsAlive",
	OpLooksAlive:    "LooksAlive",
	OpTerminate:     "Terminate",
	OpClose:         "Close",
	OpControl:       "Control",
	OpProbe:         "Probe",
	OpReport:        "Report",
	OpSetProperties: "SetProperties",
}

// String returns the operation's name, such as "Online".
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// EventKind tells a state change from the events that are not one (R4).
// The zero kind is a state change.
type EventKind uint8

// The kinds of events.
const (
	// StateChanged: From → To, caused by Op, with Err when it failed.
	StateChanged EventKind = iota
	// Terminated: a Terminator ran (R17); Err is its error, if any.
	Terminated
	// FailoverRequested: the restart policy is spent and the group should
	// move (R31); Group names it.
	FailoverRequested
	// Deadlock: a call was abandoned for longer than the deadlock time-out
	// (R35); Op is the entry point and Stack its goroutine's stack.
	Deadlock
	// EventsDropped: a subscriber's queue overflowed; Dropped events were
	// lost in place of this one (R36).
	EventsDropped
	// GroupReadyToMove: a group accepted for failover is offline (R71).
	GroupReadyToMove
)

var kindNames = [...]string{
	StateChanged:      "StateChanged",
	Terminated:        "Terminated",
	FailoverRequested: "FailoverRequested",
	Deadlock:          "Deadlock",
	EventsDropped:     "EventsDropped",
	GroupReadyToMove:  "GroupReadyToMove",
}

// String returns the kind's name, such as "Terminated".
func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one thing that happened to a resource (R4). A state change has
// Kind StateChanged and From ≠ To; the other kinds have From = To, the
// resource's state when they happened. The wrapper, the monitor and the test
// kit all use this one type.
type Event struct {
	Resource string    // the resource's name
	Seq      uint64    // per resource, from 1, without gaps in what the engine emits
	Time     time.Time // from the injected clock
	Kind     EventKind
	From, To State
	Op       Op    // the operation that caused it
	Err      error // what caused a failure; nil on success
	Forced   bool  // Offline was reached by Terminate (R16, R17)

	Group   string // FailoverRequested and GroupReadyToMove: the group
	Dropped uint64 // EventsDropped: how many events were lost
	Stack   []byte // Deadlock: the stack of the hung call
}

// String formats the event as one line of a timeline, such as
// "Store #3 Online: OnlinePending → Failed (resource: pending timeout)".
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s #%d %v", e.Resource, e.Seq, e.Op)
	switch e.Kind {
	case StateChanged:
		fmt.Fprintf(&b, ": %v → %v", e.From, e.To)
	case EventsDropped:
		fmt.Fprintf(&b, ": %v %d", e.Kind, e.Dropped)
	case FailoverRequested, GroupReadyToMove:
		fmt.Fprintf(&b, ": %v group %q", e.Kind, e.Group)
	default:
		fmt.Fprintf(&b, ": %v in %v", e.Kind, e.From)
	}
	if e.Forced {
		b.WriteString(" (forced)")
	}
	if e.Err != nil {
		fmt.Fprintf(&b, " (%v)", e.Err)
	}
	return b.String()
}
