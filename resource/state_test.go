package resource_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/resdll/resdll/resource"
)

// R1: six states with the Windows-style names.
func TestStateNames(t *testing.T) {
	want := map[State]string{
		Unknown: "Unknown", Offline: "Offline", OnlinePending: "OnlinePending",
		Online: "Online", OfflinePending: "OfflinePending", Failed: "Failed",
	}
	require.Len(t, States(), len(want))
	for _, s := range States() {
		assert.Equal(t, want[s], s.String())
	}
	assert.Equal(t, Unknown, State(0), "the zero State is Unknown")
	assert.Equal(t, "State(9)", State(9).String())
	assert.True(t, OnlinePending.Pending())
	assert.True(t, OfflinePending.Pending())
	assert.False(t, Online.Pending())
}

// R2: the contract's transitions, written out from CONTRACT.md independently
// of the package's table. Every state × every input is checked: these give
// the state listed, every other pair ErrInvalidTransition (ErrClosed in
// Unknown) and leaves the state.
func TestNextExhaustive(t *testing.T) {
	type key struct {
		from State
		in   Input
	}
	legal := map[key]State{
		{Unknown, InputOpen}:             Offline, // Open
		{Offline, InputOnline}:           OnlinePending,
		{OnlinePending, InputSucceeded}:  Online,
		{OnlinePending, InputFailed}:     Failed,
		{Online, InputOffline}:           OfflinePending,
		{Online, InputFailed}:            Failed, // health failure, report
		{OfflinePending, InputSucceeded}: Offline,
		{OfflinePending, InputFailed}:    Failed,
		{Failed, InputOnline}:            OnlinePending, // restart
		{Failed, InputOffline}:           OfflinePending,
		{Offline, InputProbeRunning}:     Online, // R7
		{Offline, InputProbeFailed}:      Failed, // R7
		{Online, InputTerminate}:         Offline,
		{OnlinePending, InputTerminate}:  Offline,
		{OfflinePending, InputTerminate}: Offline,
		// Close from any state but Unknown.
		{Offline, InputClose}: Unknown, {OnlinePending, InputClose}: Unknown, {Online, InputClose}: Unknown,
		{OfflinePending, InputClose}: Unknown, {Failed, InputClose}: Unknown,
		// The calls allowed without a change.
		{Online, InputOnline}: Online, {OnlinePending, InputOnline}: OnlinePending, // R3 joins
		{Offline, InputOffline}: Offline, {OfflinePending, InputOffline}: OfflinePending, // R3 joins
		{Offline, InputProbeStopped}: Offline, // R7
		{Offline, InputTerminate}:    Offline, // R17
		{Failed, InputTerminate}:     Failed,  // R17: stays Failed
		{Unknown, InputClose}:        Unknown, // R18: second Close
	}
	checked := 0
	for _, from := range States() {
		for _, in := range Inputs() {
			checked++
			got, err := Next(from, in)
			if want, ok := legal[key{from, in}]; ok {
				assert.NoError(t, err, "%v in %v", in, from)
				assert.Equal(t, want, got, "%v in %v", in, from)
				continue
			}
			assert.Equal(t, from, got, "%v in %v must leave the state", in, from)
			if from == Unknown {
				assert.ErrorIs(t, err, ErrClosed, "%v in %v", in, from)
			} else {
				assert.ErrorIs(t, err, ErrInvalidTransition, "%v in %v", in, from)
			}
			if err != nil {
				assert.Contains(t, err.Error(), in.String())
				assert.Contains(t, err.Error(), from.String())
			}
		}
	}
	assert.Equal(t, 6*10, checked)
}

// R3: Online while OfflinePending and Offline while OnlinePending are
// refused; Terminate is allowed in every state but Unknown.
func TestNextRefusals(t *testing.T) {
	_, err := Next(OfflinePending, InputOnline)
	assert.ErrorIs(t, err, ErrInvalidTransition)
	_, err = Next(OnlinePending, InputOffline)
	assert.ErrorIs(t, err, ErrInvalidTransition)
	for _, s := range States() {
		_, err := Next(s, InputTerminate)
		if s == Unknown {
			assert.ErrorIs(t, err, ErrClosed)
		} else {
			assert.NoError(t, err, "Terminate in %v", s)
		}
	}
}

func TestInputNames(t *testing.T) {
	for _, in := range Inputs() {
		assert.NotContains(t, in.String(), "Input(", "input %d has no name", in)
	}
	assert.Equal(t, "Input(0)", Input(0).String())
	assert.Equal(t, "Online", OpOnline.String())
	assert.Equal(t, "Op(200)", Op(200).String())
	assert.Equal(t, "Terminated", Terminated.String())
	assert.Equal(t, "EventKind(99)", EventKind(99).String())
}

// R4: one Event type, readable as a timeline line.
func TestEventString(t *testing.T) {
	e := Event{Resource: "Store", Seq: 3, Op: OpOnline, From: OnlinePending, To: Failed, Err: ErrPendingTimeout}
	assert.Equal(t, "Store #3 Online: OnlinePending → Failed (resource: pending timeout)", e.String())
	e = Event{Resource: "MTA", Seq: 4, Op: OpOffline, From: OfflinePending, To: Offline, Forced: true}
	assert.Equal(t, "MTA #4 Offline: OfflinePending → Offline (forced)", e.String())
	e = Event{Resource: "MTA", Seq: 5, Op: OpTerminate, Kind: Terminated, From: Failed, To: Failed}
	assert.Equal(t, "MTA #5 Terminate: Terminated in Failed", e.String())
	e = Event{Resource: "x", Seq: 1, Kind: EventsDropped, Dropped: 7}
	assert.Equal(t, "x #1 None: EventsDropped 7", e.String())
	e = Event{Resource: "x", Seq: 2, Kind: FailoverRequested, Group: "EVS1"}
	assert.Equal(t, `x #2 None: FailoverRequested group "EVS1"`, e.String())
}

// R6: a panic becomes an error wrapping ErrPanic with value and stack.
func TestRecover(t *testing.T) {
	err := Recover(OpOnline, func() error { panic("boom") })
	require.ErrorIs(t, err, ErrPanic)
	var pe *PanicError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "boom", pe.Value)
	assert.Equal(t, OpOnline, pe.Op)
	assert.Contains(t, string(pe.Stack), "TestRecover")
	assert.Contains(t, err.Error(), "Online: boom")

	sentinel := errors.New("mine")
	err = Recover(OpOffline, func() error { panic(sentinel) })
	assert.ErrorIs(t, err, ErrPanic)
	assert.ErrorIs(t, err, sentinel, "R19: a panic value that is an error stays reachable")

	assert.NoError(t, Recover(OpOnline, func() error { return nil }))
	assert.ErrorIs(t, Recover(OpOnline, func() error { return sentinel }), sentinel)
}

func TestErrUnsupportedIsShared(t *testing.T) {
	assert.ErrorIs(t, ErrUnsupported, ErrUnsupported)
	assert.Equal(t, "properties: unsupported", ErrUnsupported.Error())
}
