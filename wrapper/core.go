package wrapper

import (
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/resource"
)

// This file is the wrapper's pure core: every decision of the engine as a
// method (state, input) → (state, actions), with no goroutine, no clock and
// no lock. Time comes in as a value with each input; what the engine must
// do comes out as actions, which the shell (wrapper.go) carries out.

// callID names one call into the resource.
type callID uint64

// lane says which calls a call excludes (R5).
type lane uint8

const (
	// laneMain: Online, Offline, and Probe's IsAlive. Starts only when no
	// call but Control runs.
	laneMain lane = iota + 1
	// laneCheck: IsAlive and LooksAlive of the checker, only while Online
	// with nothing else but Control running, one at a time.
	laneCheck
	// laneTerminate: the Terminator; may run beside anything abandoned.
	laneTerminate
	// laneControl: Control and ApplyProperties; may run beside a pending
	// operation (R5). The shell runs them one at a time.
	laneControl
	// laneClose: the resource's Close, once every other call has returned.
	laneClose
)

// call is one call into the resource that has not returned.
//
// Its instants are stamps (core.env): a scheduled check's call is inside the
// shell's record of it (running), which that keeps at 240 bytes, in a size
// class of its own. In the Wrapper's (288) a check cost 20 % more CPU at
// 100 000 resources (issue 10: measured, the cause not established).
type call struct {
	id          callID
	op          resource.Op
	lane        lane
	abandoned   bool  // the engine stopped waiting for it (R11, R14)
	started     stamp // when it was called
	abandonedAt stamp // when it was abandoned
	next        *call // the next in core.calls
}

// phase is where the pending operation is.
type phase uint8

const (
	phaseIdle        phase = iota // nothing pending
	phaseQueued                   // an operation waits for the host's admission (R39); no deadline yet
	phaseWaiting                  // an operation waits for earlier calls to return (R14)
	phaseRunning                  // its worker runs
	phaseTerminating              // a Terminator runs (R16, R17, R18)
)

// termReason says why the core is terminating.
type termReason uint8

const (
	termEscalation termReason = iota + 1 // Offline timed out (R16)
	termCaller                           // Terminate was called (R17)
	termClose                            // Close was called (R18)
)

type actionKind uint8

const (
	actStart     actionKind = iota + 1 // start call id
	actCancel                          // cancel call id's context
	actArm                             // arm the operation deadline at at, generation gen
	actDisarm                          // disarm the operation deadline
	actEmit                            // deliver ev
	actChecksOn                        // register with the health checker (R20)
	actChecksOff                       // unregister from it (R15)
	actSettled                         // nothing is pending: wake Wait and Terminate
	actClosed                          // the resource is closed: release it, wake Close
	actEnqueue                         // ask the gate to admit the operation (token gen)
	actLeave                           // give the gate's slot back
)

var actionNames = [...]string{
	actStart: "start", actCancel: "cancel", actArm: "arm", actDisarm: "disarm", actEmit: "emit",
	actChecksOn: "checks-on", actChecksOff: "checks-off", actSettled: "settled", actClosed: "closed",
	actEnqueue: "enqueue", actLeave: "leave",
}

// action is one thing the shell must do.
type action struct {
	kind actionKind
	call *call           // actStart, actCancel: the core's call, read by exec under the same lock
	at   time.Time       // actArm
	gen  uint64          // actArm
	ev   *resource.Event // actEmit; a pointer keeps actions, and the frames that hold them, small
}

func (a action) String() string {
	switch a.kind {
	case actStart, actCancel:
		return fmt.Sprintf("%s %v#%d", actionNames[a.kind], a.call.op, a.call.id)
	case actEmit:
		return "emit " + a.ev.String()
	case actArm:
		return fmt.Sprintf("arm %s", a.at.UTC().Format("15:04:05.000"))
	}
	return actionNames[a.kind]
}

// timing is the part of the policy the core decides with, resolved.
type timing struct {
	pending   time.Duration // R11; resource.Never for none
	maxPend   time.Duration // R13; resource.Never for no cap
	terminate time.Duration // R16, R17; resource.Never to wait for ever
}

// checkResult is a cached health-check outcome (R22).
type checkResult struct {
	err error
	at  stamp // zero when none came
}

// core is the wrapper's state. Only the shell calls it, with the wrapper's
// lock held. It keeps instants as stamps, and gives them back read through
// a later time of the clock (the input's now).
type core struct {
	// env is the wrapper's (the shell's: its clock, checker, ...), here
	// for its epoch, which the core's stamps count from: one pointer
	// serves both (issue 10: bytes per resource). The core reads nothing
	// else of it.
	env    *env
	name   string
	timing *timing // the policy's; replaced by SetPolicy, never changed
	seq    uint64  // last event's sequence number (R4)

	// The pending operation. opCall is its worker in phaseRunning and its
	// Terminator (0 when none runs) in phaseTerminating, and is read in
	// no other phase: one field for the two, which never run for one
	// phase (issue 10: bytes per resource).
	opStart  stamp
	opCall   callID
	deadline stamp     // while armed
	gen      uint64    // generation of the armed deadline; a fire with another is stale
	errs     *coreErrs // the errors; nil while all are nil

	period  uint64       // online periods so far; the current one while Online (R21)
	results checkResults // R22

	probe callID // the running Probe whose result still counts; 0 when none (R7)

	queueToken uint64 // the admission the queued operation waits for (R39)

	calls  callSet
	nextID callID

	// The small fields, together: packed, they take two words, not the
	// seven their places above took (issue 10: bytes per resource).
	hasTerminator bool
	hasCloser     bool
	gated         bool // operations wait for the host's admission (R39)
	state         resource.State
	op            resource.Op // OpOnline or OpOffline while phase != phaseIdle; OpTerminate or OpClose when those started it
	phase         phase
	exempt        bool       // R12: the worker waits without a time-out
	armed         bool       // a deadline is armed
	term          termReason // in phaseTerminating
	checking      bool       // registered with the checker
	maintenance   bool       // R74
	slot          bool       // the pending operation holds the gate's slot
	closing       bool       // Close was called; the resource's Close runs when all calls returned
	closed        bool       // the resource's Close has run (or there is none)
}

// coreErrs are the core's errors, behind one pointer that stays nil while
// they are all nil (issue 10: bytes per resource): a resource whose
// operations and checks succeed has none, and most resources at rest are
// that.
type coreErrs struct {
	last     error // the last completed operation's error (R10)
	lastTerm error // the last Terminator's error (R17)
	maint    error // R74: the last failure seen in maintenance
	close    error // what the resource's Close returned (R19)
}

// errsFor returns c.errs, made when err is not nil; nil when there are none
// and err is nil (nothing to record).
func (c *core) errsFor(err error) *coreErrs {
	if c.errs == nil && err != nil {
		c.errs = new(coreErrs)
	}
	return c.errs
}

// lastErr returns the last completed operation's error (R10).
func (c *core) lastErr() error {
	if c.errs == nil {
		return nil
	}
	return c.errs.last
}

func (c *core) lastTermErr() error {
	if c.errs == nil {
		return nil
	}
	return c.errs.lastTerm
}

func (c *core) maintErr() error {
	if c.errs == nil {
		return nil
	}
	return c.errs.maint
}

func (c *core) closeErr() error {
	if c.errs == nil {
		return nil
	}
	return c.errs.close
}

func (c *core) setLastErr(err error) {
	if e := c.errsFor(err); e != nil {
		e.last = err
	}
}

func (c *core) setLastTermErr(err error) {
	if e := c.errsFor(err); e != nil {
		e.lastTerm = err
	}
}

func (c *core) setMaintErr(err error) {
	if e := c.errsFor(err); e != nil {
		e.maint = err
	}
}

func (c *core) setCloseErr(err error) {
	if e := c.errsFor(err); e != nil {
		e.close = err
	}
}

// deadlineTime returns the armed deadline, read through now.
func (c *core) deadlineTime(now time.Time) time.Time { return c.env.timeOf(c.deadline, now) }

// checkStatus returns the cached result of op's checks (R22), its time
// read through now.
func (c *core) checkStatus(op resource.Op, now time.Time) CheckStatus {
	r := c.results.get(op)
	return CheckStatus{Err: r.err, At: c.env.timeOf(r.at, now)}
}

// checkResults caches the last result of each kind of check (R22); the zero
// value is a pass for both. LooksAlive's is kept apart, made at its first
// result: most resources have none (issue 10: bytes per resource).
type checkResults struct {
	isAlive checkResult
	looks   *checkResult
}

func (r *checkResults) get(op resource.Op) checkResult {
	if op != resource.OpLooksAlive {
		return r.isAlive
	}
	if r.looks == nil {
		return checkResult{}
	}
	return *r.looks
}

func (r *checkResults) set(op resource.Op, c checkResult) {
	if op != resource.OpLooksAlive {
		r.isAlive = c
		return
	}
	if r.looks == nil {
		r.looks = new(checkResult) // not &c: c would escape, and every set allocate
	}
	*r.looks = c
}

// callSet is the calls that run, in the order they started: a handful at
// most, so a list beats a map in time and in the memory each resource
// keeps, and a list linked through the calls takes one word of it where a
// slice took three (issue 10). Its zero value is empty.
type callSet struct{ head *call }

// add appends k, which is in no set.
func (s *callSet) add(k *call) {
	p := &s.head
	for *p != nil {
		p = &(*p).next
	}
	*p = k
}

// get returns the call id, or nil.
func (s *callSet) get(id callID) *call {
	for k := s.head; k != nil; k = k.next {
		if k.id == id {
			return k
		}
	}
	return nil
}

// remove drops the call id, keeping the others in the order they started.
func (s *callSet) remove(id callID) {
	for p := &s.head; *p != nil; p = &(*p).next {
		if k := *p; k.id == id {
			*p, k.next = k.next, nil
			return
		}
	}
}

// all yields the calls in the order they started; the body may drop the
// call it is given.
func (s *callSet) all() iter.Seq[*call] {
	return func(yield func(*call) bool) {
		for k := s.head; k != nil; {
			next := k.next
			if !yield(k) {
				return
			}
			k = next
		}
	}
}

// len returns the number of calls.
func (s *callSet) len() int {
	n := 0
	for k := s.head; k != nil; k = k.next {
		n++
	}
	return n
}

// empty reports whether no call runs.
func (s *callSet) empty() bool { return s.head == nil }

func newCore(name string, e *env, t *timing, hasTerminator, hasCloser bool) core {
	return core{
		env: e, name: name, timing: t, hasTerminator: hasTerminator, hasCloser: hasCloser,
		state: resource.Offline, // R2: a new wrapper starts Offline with no event
	}
}

// acts collects the actions of one step.
type acts []action

// actsLen is the room an acts starts with: a transition takes a few, so it
// grows once, not three times.
const actsLen = 4

// actsArrays holds the arrays of acts that exec is done with (free): every
// core input that acts made one, 224 bytes, about 1 KB per failure and
// restart, which set how often the collector ran in a storm (issue 10).
var actsArrays = sync.Pool{New: func() any { return new([actsLen]action) }}

func (a *acts) add(x action) {
	if *a == nil {
		*a = actsArrays.Get().(*[actsLen]action)[:0]
	}
	*a = append(*a, x)
}

// free gives a's array back for a later step's actions, when it is the one
// add took (it did not grow out of it). Nothing may use a after.
func (a acts) free() {
	if cap(a) != actsLen {
		return
	}
	arr := (*[actsLen]action)(a[:actsLen])
	*arr = [actsLen]action{} // what the actions pointed to is not kept
	actsArrays.Put(arr)
}

// events holds the events a wrapper delivered (outbox.put): a sink gets a
// copy, so the core's is free once delivered, and a transition's events
// were a third of what a failure and restart allocated (issue 10).
var events = sync.Pool{New: func() any { return new(resource.Event) }}

// newEvent returns ev in an event of the pool's.
func newEvent(ev resource.Event) *resource.Event {
	p := events.Get().(*resource.Event)
	*p = ev
	return p
}

// emit appends an event with the next sequence number.
func (c *core) emit(a *acts, now time.Time, ev *resource.Event) {
	c.seq++
	ev.Resource, ev.Seq, ev.Time = c.name, c.seq, now
	if ev.Kind != resource.StateChanged {
		ev.From, ev.To = c.state, c.state
	}
	a.add(action{kind: actEmit, ev: ev})
}

// move changes the state through the table (R2) and emits the state event.
// A move that the table refuses is a bug in the core: it panics, as raft
// does on an impossible transition, and the core's exhaustive tests keep it
// from happening.
func (c *core) move(a *acts, now time.Time, in resource.Input, op resource.Op, err error, forced bool) {
	to, terr := resource.Next(c.state, in)
	if terr != nil {
		panic(fmt.Sprintf("wrapper: core made an illegal move: %v", terr))
	}
	if to == c.state {
		return
	}
	from := c.state
	c.state = to
	if from == resource.Online {
		c.stopChecks(a, now)
	}
	if to == resource.Online {
		c.period++
		c.setMaintErr(nil)
		c.results = checkResults{} // R22: a pass until the first check
		c.checking = true
		a.add(action{kind: actChecksOn})
	}
	c.emit(a, now, newEvent(resource.Event{From: from, To: to, Op: op, Err: err, Forced: forced}))
}

// stopChecks unregisters from the checker and abandons a running check
// (R15): it counts as running until it returns.
func (c *core) stopChecks(a *acts, now time.Time) {
	if c.checking {
		c.checking = false
		a.add(action{kind: actChecksOff})
	}
	for k := range c.calls.all() {
		if k.lane == laneCheck {
			c.abandon(a, k, now)
		}
	}
}

func (c *core) abandon(a *acts, k *call, now time.Time) {
	if k.id == c.probe {
		c.probe = 0 // an abandoned Probe's result is not acted on (R11)
	}
	if k.abandoned {
		return
	}
	k.abandoned, k.abandonedAt = true, c.env.stampOf(now)
	a.add(action{kind: actCancel, call: k})
}

func (c *core) newCall(op resource.Op, l lane, now time.Time) *call {
	c.nextID++
	k := &call{id: c.nextID, op: op, lane: l, started: c.env.stampOf(now)}
	c.calls.add(k)
	return k
}

// blocked reports whether a call other than Control runs, which keeps a
// main-lane or check call from starting (R5, R14).
func (c *core) blocked() bool {
	for k := range c.calls.all() {
		if k.lane != laneControl {
			return true
		}
	}
	return false
}

func (c *core) arm(a *acts, at time.Time) {
	c.gen++
	c.deadline, c.armed = c.env.stampOf(at), true
	a.add(action{kind: actArm, at: at, gen: c.gen})
}

func (c *core) disarm(a *acts) {
	if c.armed {
		c.armed = false
		c.gen++ // a fire already on its way is stale
		a.add(action{kind: actDisarm})
	}
}

// busy reports whether an operation is pending or a Terminator runs for
// one: what Wait waits for.
func (c *core) busy() bool { return c.phase != phaseIdle }

// settle ends the pending operation with err.
func (c *core) settle(a *acts, err error) {
	c.disarm(a)
	c.phase, c.op, c.opCall, c.exempt, c.term = phaseIdle, resource.OpNone, 0, false, 0
	c.setLastErr(err)
	if c.slot {
		c.slot = false
		a.add(action{kind: actLeave})
	}
	a.add(action{kind: actSettled})
}

// request handles Online and Offline (R3, R10, R11, R14, R15). It returns
// the state the caller sees.
func (c *core) request(op resource.Op, now time.Time) (acts, error) {
	var a acts
	in := resource.InputOnline
	if op == resource.OpOffline {
		in = resource.InputOffline
	}
	to, err := resource.Next(c.state, in)
	if err != nil {
		return nil, err
	}
	if c.phase == phaseTerminating {
		// The Terminate decides: an Offline joins it when it ends Offline
		// (R3, R16, R17); an Online would be undone by it, and is refused.
		if op == resource.OpOffline && c.state != resource.Failed {
			return nil, nil
		}
		return nil, fmt.Errorf("%v in state %v while Terminate runs: %w", op, c.state, resource.ErrInvalidTransition)
	}
	if to == c.state {
		return nil, nil // R3: join
	}
	if k := c.calls.get(c.probe); k != nil {
		c.abandon(&a, k, now) // the operation decides now; it waits for the Probe to return (R14)
	}
	c.probe = 0 // a Probe result that comes in later is stale (R7)
	c.move(&a, now, in, op, nil, false)
	c.op, c.opStart, c.exempt = op, c.env.stampOf(now), false
	if c.gated {
		// R39: the pending state shows at once; the deadline starts when
		// the host admits the operation.
		c.phase = phaseQueued
		c.queueToken++
		a.add(action{kind: actEnqueue, gen: c.queueToken})
		return a, nil
	}
	c.begin(&a, now)
	return a, nil
}

// admitted starts the queued operation the host admitted (R39). An
// admission for an operation that ended meanwhile gives the slot back.
func (c *core) admitted(token uint64, now time.Time) acts {
	var a acts
	if c.phase != phaseQueued || token != c.queueToken {
		a.add(action{kind: actLeave})
		return a
	}
	c.slot = true
	c.opStart = c.env.stampOf(now)
	c.begin(&a, now)
	return a
}

// begin arms the operation's deadline and starts its worker once nothing
// blocks it.
func (c *core) begin(a *acts, now time.Time) {
	if c.timing.pending != resource.Never {
		c.arm(a, now.Add(c.timing.pending)) // R11: armed before Online() returns
	}
	c.phase = phaseWaiting
	c.maybeStart(a, now)
}

// maybeStart starts the waiting operation's worker once nothing blocks it
// (R14).
func (c *core) maybeStart(a *acts, now time.Time) {
	if c.phase != phaseWaiting || c.blocked() {
		return
	}
	k := c.newCall(c.op, laneMain, now)
	c.phase, c.opCall = phaseRunning, k.id
	a.add(action{kind: actStart, call: k})
}

// deadlineFired handles the operation deadline (R11, R14, R16).
func (c *core) deadlineFired(gen uint64, now time.Time) acts {
	if !c.armed || gen != c.gen {
		return nil // stale: disarmed or re-armed since
	}
	c.armed = false
	var a acts
	switch c.phase {
	case phaseWaiting:
		err := &lateError{err: resource.ErrWorkerStuck, d: now.Sub(c.env.timeOf(c.opStart, now)), op: c.op, wait: true}
		if c.op == resource.OpOffline {
			c.escalate(&a, now, err) // R16
			return a
		}
		c.fail(&a, now, err) // R14
	case phaseRunning:
		err := &lateError{err: resource.ErrPendingTimeout, d: now.Sub(c.env.timeOf(c.opStart, now)), op: c.op}
		c.abandon(&a, c.calls.get(c.opCall), now) // R11
		if c.op == resource.OpOffline {
			c.escalate(&a, now, err) // R16
			return a
		}
		c.fail(&a, now, err)
	case phaseTerminating:
		// The Terminator did not return within TerminateTimeout.
		if k := c.calls.get(c.opCall); k != nil {
			c.abandon(&a, k, now)
		}
		c.endTerminate(&a, now, &lateError{err: resource.ErrPendingTimeout, d: c.timing.terminate, op: resource.OpTerminate})
	}
	return a
}

// fail ends the pending operation in Failed.
func (c *core) fail(a *acts, now time.Time, err error) {
	if w := c.calls.get(c.opCall); w != nil && c.phase == phaseRunning {
		c.abandon(a, w, now)
	}
	op := c.op
	c.move(a, now, resource.InputFailed, op, err, false)
	c.settle(a, err)
}

// escalate turns a hung Offline into Terminate (R16): with a Terminator it
// runs under TerminateTimeout; without one the resource is Failed.
func (c *core) escalate(a *acts, now time.Time, cause *lateError) {
	if !c.hasTerminator {
		cause.noTerm = true
		c.fail(a, now, cause)
		return
	}
	c.startTerminate(a, now, termEscalation, cause)
}

func (c *core) startTerminate(a *acts, now time.Time, why termReason, cause error) {
	c.disarm(a)
	c.phase, c.term, c.opCall, c.exempt = phaseTerminating, why, 0, false
	for k := range c.calls.all() {
		if k.lane != laneControl {
			c.abandon(a, k, now) // R5: the Terminator runs only beside abandoned calls
		}
	}
	if why == termEscalation {
		c.setLastErr(cause)
	}
	if c.hasTerminator {
		k := c.newCall(resource.OpTerminate, laneTerminate, now)
		c.opCall = k.id
		a.add(action{kind: actStart, call: k})
		if c.timing.terminate != resource.Never {
			c.arm(a, now.Add(c.timing.terminate))
		}
		return
	}
	c.endTerminate(a, now, nil)
}

// endTerminate decides a terminate phase once the Terminator returned with
// err, or timed out (R16, R17, R18).
func (c *core) endTerminate(a *acts, now time.Time, err error) {
	c.disarm(a)
	c.setLastTermErr(err)
	c.emit(a, now, newEvent(resource.Event{Kind: resource.Terminated, Op: resource.OpTerminate, Err: err}))
	switch c.term {
	case termEscalation:
		if err != nil {
			cause := c.lastErr()
			c.move(a, now, resource.InputFailed, resource.OpOffline, errors.Join(cause, err), false)
			c.settle(a, errors.Join(cause, err))
			return
		}
		c.move(a, now, resource.InputTerminate, resource.OpOffline, nil, true)
		c.settle(a, nil)
	case termCaller:
		// R17: the Terminator's error never changes the outcome.
		c.move(a, now, resource.InputTerminate, resource.OpTerminate, nil, true)
		c.settle(a, c.lastErr())
	case termClose:
		c.settle(a, c.lastErr())
		c.maybeClose(a, now)
	}
}

// terminate handles a caller's Terminate (R17). It reports whether the
// caller has something to wait for.
func (c *core) terminate(now time.Time) (acts, bool, error) {
	if _, err := resource.Next(c.state, resource.InputTerminate); err != nil {
		return nil, false, err
	}
	if c.phase == phaseTerminating {
		return nil, true, nil // join the Terminate that runs
	}
	var a acts
	running := c.blocked() // Control is not something to terminate
	if c.state == resource.Offline && !running {
		return nil, false, nil // R17: nothing to do, nothing emitted
	}
	if c.phase != phaseIdle {
		c.setLastErr(fmt.Errorf("%v: %w", c.op, resource.ErrTerminated))
	}
	c.probe = 0 // Terminate decides; a Probe result that comes in later is stale
	c.stopChecks(&a, now)
	for k := range c.calls.all() {
		if k.lane != laneControl {
			c.abandon(&a, k, now) // R17: cancel any running worker
		}
	}
	if c.state == resource.Offline && !c.hasTerminator {
		// Only abandoned calls ran; they are cancelled, and there is
		// nothing else to call.
		c.emit(&a, now, newEvent(resource.Event{Kind: resource.Terminated, Op: resource.OpTerminate}))
		return a, false, nil
	}
	c.startTerminate(&a, now, termCaller, nil)
	return a, c.phase == phaseTerminating, nil
}

// close handles Close (R18): the state is Unknown at once, what runs is
// terminated, and the resource's Close runs once every call has returned.
func (c *core) close(now time.Time) (acts, error) {
	if c.state == resource.Unknown {
		return nil, nil // R18: a second Close is a no-op
	}
	var a acts
	if c.phase == phaseQueued || c.phase == phaseWaiting || c.phase == phaseRunning {
		c.setLastErr(fmt.Errorf("%v: %w", c.op, resource.ErrTerminated))
	}
	needTerminate := c.state != resource.Offline || c.blocked()
	terminating := c.phase == phaseTerminating
	for k := range c.calls.all() {
		if k.lane != laneTerminate {
			c.abandon(&a, k, now)
		}
	}
	c.closing = true
	c.move(&a, now, resource.InputClose, resource.OpClose, nil, false)
	switch {
	case terminating:
		c.term = termClose // the Terminator that runs serves Close too
	case needTerminate && c.hasTerminator:
		c.startTerminate(&a, now, termClose, nil)
	default:
		if c.phase != phaseIdle {
			c.settle(&a, c.lastErr())
		}
		c.maybeClose(&a, now)
	}
	return a, nil
}

// maybeClose starts the resource's Close once every call has returned
// (R18).
func (c *core) maybeClose(a *acts, now time.Time) {
	if !c.closing || c.closed || !c.calls.empty() || c.phase != phaseIdle {
		return
	}
	if c.hasCloser {
		k := c.newCall(resource.OpClose, laneClose, now)
		a.add(action{kind: actStart, call: k}) // once (R42): closed is set when it returns
		return
	}
	c.closed = true
	a.add(action{kind: actClosed})
}

// callDone handles the return of a call (R11: an abandoned call's return is
// recorded, not acted on). It returns whether the result counts: false for
// an abandoned call.
func (c *core) callDone(id callID, err error, now time.Time) (acts, bool) {
	k := c.calls.get(id)
	if k == nil {
		return nil, false
	}
	c.calls.remove(id)
	var a acts
	counts := !k.abandoned
	switch {
	case k.lane == laneClose:
		c.closed = true
		c.setCloseErr(err)
		a.add(action{kind: actClosed})
		return a, true
	case k.lane == laneTerminate && id == c.opCall && c.phase == phaseTerminating:
		c.endTerminate(&a, now, err)
	case k.lane == laneTerminate && k.abandoned:
		// A Terminator that timed out returned at last.
	case counts && k.lane == laneMain && id == c.opCall && c.phase == phaseRunning:
		c.workerDone(&a, now, err)
	case counts && k.lane == laneCheck:
		c.results.set(k.op, checkResult{err: err, at: c.env.stampOf(now)})
		if err != nil && c.maintenance {
			c.setMaintErr(err)
		}
	}
	// Guarded here, so that a check's return, the common case, does not
	// enter their frames (and grow its goroutine's stack).
	if c.phase == phaseWaiting {
		c.maybeStart(&a, now)
	}
	if c.closing {
		c.maybeClose(&a, now)
	}
	return a, counts
}

// workerDone decides the pending operation by its worker's return.
func (c *core) workerDone(a *acts, now time.Time, err error) {
	op := c.op
	if err != nil {
		err = fmt.Errorf("%v: %w", op, err) // R19: the resource's error stays reachable
		c.move(a, now, resource.InputFailed, op, err, false)
		c.settle(a, err)
		return
	}
	c.move(a, now, resource.InputSucceeded, op, nil, false)
	c.settle(a, nil)
}

// progress pushes the deadline out (R13).
func (c *core) progress(id callID, now time.Time) acts {
	if c.phase != phaseRunning || id != c.opCall || c.exempt || c.timing.pending == resource.Never {
		return nil
	}
	at := now.Add(c.timing.pending)
	if c.timing.maxPend != resource.Never {
		if limit := c.env.timeOf(c.opStart, now).Add(c.timing.maxPend); at.After(limit) {
			at = limit
		}
	}
	if c.armed && !at.After(c.deadlineTime(now)) {
		return nil
	}
	var a acts
	c.arm(&a, at)
	return a
}

// waitWithoutTimeout disarms the deadline for the rest of the operation
// (R12).
func (c *core) waitWithoutTimeout(id callID) acts {
	if c.phase != phaseRunning || id != c.opCall {
		return nil
	}
	var a acts
	c.exempt = true
	c.disarm(&a)
	return a
}

// latch moves an Online resource to Failed, once per online period (R21,
// R23): a failure found in period (0: the current one) latches only while
// that period lasts. In maintenance the failure is recorded and nothing
// latches (R74).
func (c *core) latch(op resource.Op, err error, period uint64, now time.Time) acts {
	// Once per online period (R21): the first latch leaves Online.
	if c.state != resource.Online || c.phase != phaseIdle || (period != 0 && period != c.period) {
		return nil
	}
	if c.maintenance {
		c.setMaintErr(err)
		if op == resource.OpReport {
			c.results.set(resource.OpIsAlive, checkResult{err: err, at: c.env.stampOf(now)})
		}
		return nil
	}
	var a acts
	c.move(&a, now, resource.InputFailed, op, err, false)
	return a
}

// report handles a FailureNotifier's report (R23): it latches while Online,
// fails a pending Online, and is ignored otherwise.
func (c *core) report(err error, now time.Time) acts {
	if c.state == resource.OnlinePending && (c.phase == phaseQueued || c.phase == phaseWaiting || c.phase == phaseRunning) {
		var a acts
		c.fail(&a, now, err)
		return a
	}
	return c.latch(resource.OpReport, err, 0, now)
}

// startCheck starts a health check of kind op for online period period
// (0: the current one) when one may run (R5, R15, R21). It answers
// healthcheck.StillRunning when a check of the same kind still runs (the
// tick counts as failed, R21) and healthcheck.Skipped for every other
// reason not to start. When Started, k (the caller's, in the record the
// shell keeps of the call) is the new call and is tracked: its start is the
// one action, which the caller takes; the core allocates nothing for a
// check (issue 10).
func (c *core) startCheck(op resource.Op, period uint64, now time.Time, k *call) (callID, healthcheck.Start) {
	if c.state != resource.Online || !c.checking || c.phase != phaseIdle || (period != 0 && period != c.period) {
		return 0, healthcheck.Skipped
	}
	for k := range c.calls.all() {
		if k.lane == laneCheck && k.op == op {
			return 0, healthcheck.StillRunning
		}
	}
	if c.blocked() {
		return 0, healthcheck.Skipped // the other kind runs (R5)
	}
	c.nextID++
	*k = call{id: c.nextID, op: op, lane: laneCheck, started: c.env.stampOf(now)}
	c.calls.add(k)
	return k.id, healthcheck.Started
}

// startProbe starts Probe's IsAlive (R7). Only an Offline resource with
// nothing running can be probed.
func (c *core) startProbe(now time.Time) (acts, callID, error) {
	if _, err := resource.Next(c.state, resource.InputProbeRunning); err != nil {
		return nil, 0, err
	}
	if c.phase != phaseIdle || c.blocked() {
		return nil, 0, fmt.Errorf("probe while a call of the resource still runs: %w", resource.ErrWorkerStuck)
	}
	k := c.newCall(resource.OpProbe, laneMain, now)
	c.probe = k.id
	return acts{{kind: actStart, call: k}}, k.id, nil
}

// probeResult applies the outcome of Probe id (its return, or its
// time-out) if the resource is still Offline, nothing started since, and
// nothing abandoned the probe (R7, R11).
func (c *core) probeResult(id callID, err error, now time.Time) acts {
	if id == 0 || id != c.probe {
		return nil
	}
	c.probe = 0
	if c.state != resource.Offline || c.phase != phaseIdle {
		return nil
	}
	var a acts
	switch {
	case err == nil:
		c.move(&a, now, resource.InputProbeRunning, resource.OpProbe, nil, false)
	case errors.Is(err, resource.ErrNotRunning):
		// R7: cleanly stopped, stays Offline.
	default:
		c.move(&a, now, resource.InputProbeFailed, resource.OpProbe, err, false)
	}
	return a
}

// startControl starts a Control or ApplyProperties call (R5: it may run
// beside a pending operation).
func (c *core) startControl(op resource.Op, now time.Time) (acts, callID, error) {
	if c.state == resource.Unknown {
		return nil, 0, fmt.Errorf("%v: %w", op, resource.ErrClosed)
	}
	k := c.newCall(op, laneControl, now)
	return acts{{kind: actStart, call: k}}, k.id, nil
}

// abandonCall stops waiting for one call (a check's or control's time-out,
// a caller's context): it counts as running until it returns (R14).
func (c *core) abandonCall(id callID, now time.Time) acts {
	k := c.calls.get(id)
	if k == nil {
		return nil
	}
	var a acts
	c.abandon(&a, k, now)
	return a
}

// checkTimedOut abandons a check that outlived CheckTimeout and caches err
// as its result (R21, R22).
func (c *core) checkTimedOut(id callID, err error, now time.Time) acts {
	k := c.calls.get(id)
	if k == nil || k.abandoned {
		return nil
	}
	probe := c.probe
	if k.lane == laneCheck {
		c.results.set(k.op, checkResult{err: err, at: c.env.stampOf(now)})
		if c.maintenance {
			c.setMaintErr(err)
		}
	}
	var a acts
	c.abandon(&a, k, now)
	if k.id == probe {
		c.probe = probe // a Probe that timed out still decides: Failed (R7)
	}
	return a
}

// abandoned lists the calls still running after being abandoned (R35).
func (c *core) abandoned() []call {
	var out []call
	for k := range c.calls.all() {
		if k.abandoned {
			out = append(out, *k)
		}
	}
	return out
}
