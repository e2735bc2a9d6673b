package resource

import (
	"fmt"
)

// State is the state of a resource (R1). The zero State is Unknown.
type State uint8

// The states of R1, in the Windows cluster's order.
const (
	// Unknown: not opened, or closed.
	Unknown State = iota
	// Offline: opened and not running.
	Offline
	// OnlinePending: an Online call is running.
	OnlinePending
	// Online: running, and health-checked.
	Online
	// OfflinePending: an Offline call is running.
	OfflinePending
	// Failed: an Online, an Offline or a health check failed.
	Failed
)

// numStates is the number of states, for tables and exhaustive tests.
const numStates = int(Failed) + 1

var stateNames = [numStates]string{
	Unknown:        "Unknown",
	Offline:        "Offline",
	OnlinePending:  "OnlinePending",
	Online:         "Online",
	OfflinePending: "OfflinePending",
	Failed:         "Failed",
}

// String returns the Windows-style name of the state: "Unknown", "Offline",
// "OnlinePending", "Online", "OfflinePending" or "Failed".
func (s State) String() string {
	if int(s) < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// States returns every state, in order.
func States() []State {
	out := make([]State, numStates)
	for i := range out {
		out[i] = State(i)
	}
	return out
}

// Pending reports whether s is OnlinePending or OfflinePending.
func (s State) Pending() bool { return s == OnlinePending || s == OfflinePending }

// Input is what may move a resource from one state to another: a caller's
// request or an operation's outcome (R2).
type Input uint8

// The inputs of the transition table.
const (
	// InputOpen: the resource was opened (Unknown → Offline).
	InputOpen Input = iota + 1
	// InputOnline: a caller asked for Online.
	InputOnline
	// InputOffline: a caller asked for Offline.
	InputOffline
	// InputSucceeded: the pending Online or Offline completed.
	InputSucceeded
	// InputFailed: the pending operation failed or timed out, or an Online
	// resource failed (a health check, a failure report).
	InputFailed
	// InputProbeRunning: Probe found the Offline resource running (R7).
	InputProbeRunning
	// InputProbeStopped: Probe found it cleanly stopped (R7).
	InputProbeStopped
	// InputProbeFailed: Probe found it in trouble (R7).
	InputProbeFailed
	// InputTerminate: a caller, or the Offline escalation, asked for
	// Terminate (R16, R17).
	InputTerminate
	// InputClose: a caller asked for Close (R18).
	InputClose
)

// numInputs is one more than the last input.
const numInputs = int(InputClose) + 1

var inputNames = [numInputs]string{
	InputOpen:         "Open",
	InputOnline:       "Online",
	InputOffline:      "Offline",
	InputSucceeded:    "Succeeded",
	InputFailed:       "Failed",
	InputProbeRunning: "ProbeRunning",
	InputProbeStopped: "ProbeStopped",
	InputProbeFailed:  "ProbeFailed",
	InputTerminate:    "Terminate",
	InputClose:        "Close",
}

// String returns the input's name, such as "Terminate".
func (in Input) String() string {
	if in > 0 && int(in) < numInputs {
		return inputNames[in]
	}
	return fmt.Sprintf("Input(%d)", uint8(in))
}

// Inputs returns every input, in order.
func Inputs() []Input {
	out := make([]Input, 0, numInputs-1)
	for i := 1; i < numInputs; i++ {
		out = append(out, Input(i))
	}
	return out
}

type move struct {
	from State
	in   Input
}

// moves is R2: the only legal moves. A move to the state it starts from is
// one of the calls R3, R7, R17 and R18 allow without a change (a join, a
// probe of a stopped resource, Terminate on Offline or Failed, Close on
// Unknown): it succeeds and emits no state event. A missing key is
// ErrInvalidTransition (ErrClosed in Unknown).
var moves = map[move]State{
	{Unknown, InputOpen}:  Offline,
	{Unknown, InputClose}: Unknown, // R18: a second Close is a no-op

	{Offline, InputOnline}:       OnlinePending,
	{Offline, InputOffline}:      Offline, // R3: join
	{Offline, InputProbeRunning}: Online,  // R7
	{Offline, InputProbeStopped}: Offline, // R7
	{Offline, InputProbeFailed}:  Failed,  // R7
	{Offline, InputTerminate}:    Offline, // R17: nothing to do
	{Offline, InputClose}:        Unknown,

	{OnlinePending, InputOnline}:    OnlinePending, // R3: join
	{OnlinePending, InputSucceeded}: Online,
	{OnlinePending, InputFailed}:    Failed, // R11, R23
	{OnlinePending, InputTerminate}: Offline,
	{OnlinePending, InputClose}:     Unknown,

	{Online, InputOnline}:    Online, // R3: join
	{Online, InputOffline}:   OfflinePending,
	{Online, InputFailed}:    Failed, // R21, R23
	{Online, InputTerminate}: Offline,
	{Online, InputClose}:     Unknown,

	{OfflinePending, InputOffline}:   OfflinePending, // R3: join
	{OfflinePending, InputSucceeded}: Offline,
	{OfflinePending, InputFailed}:    Failed,  // R16: Terminate failed or hung
	{OfflinePending, InputTerminate}: Offline, // R16, R17
	{OfflinePending, InputClose}:     Unknown,

	{Failed, InputOnline}:    OnlinePending, // a restart
	{Failed, InputOffline}:   OfflinePending,
	{Failed, InputTerminate}: Failed, // R17: a Failed resource stays Failed
	{Failed, InputClose}:     Unknown,
}

// Next returns the state that input in moves a resource in state from to
// (R2). A call allowed without a change answers from itself and nil. Any
// other input returns from and an error wrapping [ErrInvalidTransition]
// ([ErrClosed] when from is Unknown), naming the state and the input.
func Next(from State, in Input) (State, error) {
	if int(from) < numStates && int(in) < numInputs {
		if t := table[from][in]; t.ok {
			return t.to, nil
		}
	}
	return from, refused(from, in)
}

// refused is Next's error. Not inlined: Next runs on every transition, on
// the stack of a call's goroutine, and its frame stays small without the
// formatting.
//
//go:noinline
func refused(from State, in Input) error {
	if from == Unknown {
		return fmt.Errorf("%v in state %v: %w", in, from, ErrClosed)
	}
	return fmt.Errorf("%v in state %v: %w", in, from, ErrInvalidTransition)
}

// table is moves as an array, made once: Next indexes it rather than
// hashing a key into the map.
var table = func() (t [numStates][numInputs]struct {
	to State
	ok bool
}) {
	for m, to := range moves {
		t[m.from][m.in].to, t[m.from][m.in].ok = to, true
	}
	return t
}()
