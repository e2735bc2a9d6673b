package wrapper

// Tests of the wrapper's pure core (STYLE: "Pure core, thin shell"): every
// input is a method call with an explicit time, every decision is read back
// from the actions it returns. No goroutine, no clock: time is t0 plus
// durations. Each test or row names the rule of CONTRACT.md it checks.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/resource"
)

// t0 is the core tests' origin of time.
var t0 = time.Unix(0, 0)

// The timing the core tests use unless a row says otherwise.
const (
	tPend = 10 * time.Second // PendingTimeout
	tMax  = 30 * time.Second // MaxPendingTime
	tTerm = 5 * time.Second  // TerminateTimeout
)

var (
	errBoom = errors.New("boom")       // what a resource's entry point returns
	errTerm = errors.New("term boom")  // what a Terminator returns
	errSick = errors.New("check sick") // what a failed check or a report carries
)

func stdTiming() timing { return timing{pending: tPend, maxPend: tMax, terminate: tTerm} }

// harness drives one core as the shell would, and checks after every step
// what must always hold: the events chain and are legal moves (R2, R4), the
// calls the core tracks are the ones it started and that did not return,
// the checker registration and the deadline follow the actions (R11, R15,
// R20), and the core's own invariants (coreInvariants).
type harness struct {
	t   testing.TB
	c   *core
	now time.Time
	log []action // every action so far

	state     resource.State   // the state the events so far lead to
	seq       uint64           // the last event's sequence number
	live      map[callID]call  // started and not returned
	cancelled map[callID]bool  // cancel actions seen
	checksOn  bool             // registered with the checker
	armed     bool             // a deadline timer is armed
	gen       uint64           // its generation
	deadline  time.Time        // its time
	closed    bool             // the closed action was seen
	closeRun  bool             // the resource's Close was started
	trace     []string         // the inputs so far, for failure messages
	events    []resource.Event // every event so far

	lastProbe callID            // the last Probe started, for probeResult
	lastStart healthcheck.Start // what the last startCheck answered
}

func newHarness(t testing.TB, hasTerminator, hasCloser bool) *harness {
	return newHarnessTiming(t, stdTiming(), hasTerminator, hasCloser)
}

func newHarnessTiming(t testing.TB, tm timing, hasTerminator, hasCloser bool) *harness {
	c := newCore("r", &env{epoch: t0}, &tm, hasTerminator, hasCloser)
	return &harness{
		t: t, c: &c, now: t0,
		state: resource.Offline, live: map[callID]call{}, cancelled: map[callID]bool{},
	}
}

// failf fails the test with the inputs that led here.
func (h *harness) failf(format string, args ...any) {
	h.t.Helper()
	tr := h.trace
	if len(tr) > 40 {
		tr = tr[len(tr)-40:]
	}
	h.t.Fatalf("%s\ninputs (last %d):\n  %s", fmt.Sprintf(format, args...), len(tr), strings.Join(tr, "\n  "))
}

// legalMove reports whether some input of the table moves from to to (R2).
func legalMove(from, to resource.State) bool {
	for _, in := range resource.Inputs() {
		if got, err := resource.Next(from, in); err == nil && got == to {
			return true
		}
	}
	return false
}

// apply records the actions of one step and checks them.
func (h *harness) apply(in string, a acts) acts {
	h.t.Helper()
	h.trace = append(h.trace, fmt.Sprintf("%v +%v: %s → %s", h.c.state, h.now.Sub(t0), in, actStrings(a)))
	for _, x := range a {
		switch x.kind {
		case actStart:
			if _, dup := h.live[x.call.id]; dup {
				h.failf("start of call %d, which is already running", x.call.id)
			}
			if x.call.started != h.c.env.stampOf(h.now) {
				h.failf("call %d started at %v, not now", x.call.id, h.c.env.timeOf(x.call.started, h.now))
			}
			h.live[x.call.id] = *x.call
			switch x.call.lane {
			case laneMain, laneCheck: // R5, R14: alone but for Control
				for k := range h.c.calls.all() {
					if id := k.id; id < x.call.id && k.lane != laneControl {
						h.failf("R5: %v#%d started while %v#%d runs", x.call.op, x.call.id, k.op, id)
					}
				}
			case laneTerminate: // R5: beside abandoned calls and Control only
				for k := range h.c.calls.all() {
					if id := k.id; id < x.call.id && k.lane != laneControl && !k.abandoned {
						h.failf("R5: Terminate#%d started while %v#%d runs and is not abandoned", x.call.id, k.op, id)
					}
				}
			case laneClose: // R18: once, and after every other call returned
				if h.closeRun {
					h.failf("R18: the resource's Close started twice")
				}
				h.closeRun = true
				if h.c.calls.len() != 1 {
					h.failf("R18: Close started while %d other calls run", h.c.calls.len()-1)
				}
			}
		case actCancel:
			if _, ok := h.live[x.call.id]; !ok {
				h.failf("cancel of call %d, which is not running", x.call.id)
			}
			if h.cancelled[x.call.id] {
				h.failf("call %d cancelled twice", x.call.id)
			}
			h.cancelled[x.call.id] = true
		case actArm:
			h.armed, h.gen, h.deadline = true, x.gen, x.at
		case actDisarm:
			if !h.armed {
				h.failf("disarm with no deadline armed")
			}
			h.armed = false
		case actEmit:
			h.checkEvent(*x.ev)
		case actChecksOn:
			if h.checksOn {
				h.failf("checks-on twice")
			}
			h.checksOn = true
		case actChecksOff:
			if !h.checksOn {
				h.failf("checks-off while not checking")
			}
			h.checksOn = false
		case actSettled:
			if h.c.phase != phaseIdle {
				h.failf("settled, and the phase is %d", h.c.phase)
			}
		case actClosed:
			if h.closed {
				h.failf("R18: closed twice")
			}
			h.closed = true
		}
	}
	h.log = append(h.log, a...)
	if err := h.consistent(); err != nil {
		h.failf("%v", err)
	}
	return a
}

// checkEvent checks one event against R2 and R4.
func (h *harness) checkEvent(e resource.Event) {
	h.t.Helper()
	if e.Seq != h.seq+1 {
		h.failf("R4: event %v has sequence %d after %d", e, e.Seq, h.seq)
	}
	h.seq = e.Seq
	if e.Resource != h.c.name || !e.Time.Equal(h.now) {
		h.failf("R4: event %v has resource %q and time %v, want %q and %v", e, e.Resource, e.Time, h.c.name, h.now)
	}
	if e.From != h.state {
		h.failf("R4: event %v starts from %v, the state was %v", e, e.From, h.state)
	}
	if e.Kind == resource.StateChanged {
		if e.From == e.To || !legalMove(e.From, e.To) {
			h.failf("R2: event %v is not a legal move", e)
		}
	} else if e.To != e.From {
		h.failf("R4: event %v of kind %v changes the state", e, e.Kind)
	}
	h.state = e.To
	h.events = append(h.events, e)
}

// consistent compares the core with what its actions said, then checks the
// core's own invariants.
func (h *harness) consistent() error {
	c := h.c
	if c.state != h.state {
		return fmt.Errorf("R4: the state is %v, the events say %v", c.state, h.state)
	}
	if c.seq != h.seq {
		return fmt.Errorf("R4: seq is %d, the events say %d", c.seq, h.seq)
	}
	if c.checking != h.checksOn {
		return fmt.Errorf("checking is %v, the actions say %v", c.checking, h.checksOn)
	}
	if c.armed != h.armed || (c.armed && (c.gen != h.gen || !c.deadlineTime(h.now).Equal(h.deadline))) {
		return fmt.Errorf("armed %v gen %d at %v; the actions say %v gen %d at %v", c.armed, c.gen, c.deadlineTime(h.now), h.armed, h.gen, h.deadline)
	}
	if c.calls.len() != len(h.live) {
		return fmt.Errorf("the core tracks %d calls, %d run", c.calls.len(), len(h.live))
	}
	for k := range c.calls.all() {
		id := k.id
		if _, ok := h.live[id]; !ok {
			return fmt.Errorf("the core tracks call %d, which never started", id)
		}
		if k.abandoned != h.cancelled[id] {
			return fmt.Errorf("call %d abandoned=%v, cancelled=%v", id, k.abandoned, h.cancelled[id])
		}
	}
	if c.closed != h.closed {
		return fmt.Errorf("closed=%v, the actions say %v", c.closed, h.closed)
	}
	return coreInvariants(c)
}

// coreInvariants is what holds between any two inputs.
func coreInvariants(c *core) error {
	pending := c.state == resource.OnlinePending || c.state == resource.OfflinePending
	switch {
	case pending && c.phase == phaseIdle:
		return fmt.Errorf("%v with nothing pending", c.state)
	case !pending && c.phase != phaseIdle && c.phase != phaseTerminating:
		return fmt.Errorf("%v with phase %d", c.state, c.phase)
	}
	if c.phase == phaseWaiting || c.phase == phaseRunning {
		want := resource.OpOnline
		if c.state == resource.OfflinePending {
			want = resource.OpOffline
		}
		if c.op != want {
			return fmt.Errorf("%v with pending op %v", c.state, c.op)
		}
	}
	if c.phase == phaseRunning {
		if k := c.calls.get(c.opCall); k == nil || k.lane != laneMain || k.op != c.op || k.abandoned {
			return fmt.Errorf("running, and the worker %d is %+v", c.opCall, k)
		}
	}
	if c.phase == phaseTerminating {
		if k := c.calls.get(c.opCall); k == nil || k.lane != laneTerminate || k.abandoned {
			return fmt.Errorf("terminating, and the Terminator %d is %+v", c.opCall, k)
		}
	}
	if c.armed && (c.phase == phaseIdle || (c.exempt && c.phase != phaseTerminating)) {
		return fmt.Errorf("a deadline armed in phase %d, exempt %v", c.phase, c.exempt)
	}
	if c.checking != (c.state == resource.Online && c.phase == phaseIdle) {
		return fmt.Errorf("checking=%v in %v, phase %d", c.checking, c.state, c.phase)
	}
	if c.closing != (c.state == resource.Unknown) {
		return fmt.Errorf("closing=%v in %v", c.closing, c.state)
	}
	if c.closed && c.calls.len() > 0 {
		return fmt.Errorf("closed with %d calls running", c.calls.len())
	}
	checks, mains := 0, 0
	for k := range c.calls.all() {
		if k.abandoned {
			continue
		}
		switch k.lane {
		case laneCheck:
			checks++
			if c.state != resource.Online {
				return fmt.Errorf("R15: check %v#%d not abandoned in %v", k.op, k.id, c.state)
			}
		case laneMain:
			mains++
		case laneClose:
			if c.calls.len() != 1 {
				return fmt.Errorf("R18: Close runs beside %d calls", c.calls.len()-1)
			}
		}
	}
	if checks > 1 || mains > 1 {
		return fmt.Errorf("R5: %d checks and %d main calls not abandoned", checks, mains)
	}
	return nil
}

// The inputs, as the shell feeds them.

func (h *harness) advance(d time.Duration) { h.now = h.now.Add(d) }

func (h *harness) request(op resource.Op) (acts, error) {
	h.t.Helper()
	a, err := h.c.request(op, h.now)
	h.apply(fmt.Sprintf("request(%v)=%v", op, err), a)
	if err != nil || len(a) == 0 {
		return a, err
	}
	// R10, R11: the pending state at once, the deadline armed before the
	// worker starts.
	if !h.c.state.Pending() || (h.c.phase != phaseWaiting && h.c.phase != phaseRunning) || h.c.op != op || h.c.exempt {
		h.failf("R10: after request(%v): %v, phase %d, op %v", op, h.c.state, h.c.phase, h.c.op)
	}
	arm, start := -1, len(a)
	for i, x := range a {
		switch x.kind {
		case actArm:
			arm = i
		case actStart:
			start = i
		}
	}
	if h.c.timing.pending != resource.Never && (arm < 0 || arm > start || !h.deadline.Equal(h.now.Add(h.c.timing.pending))) {
		h.failf("R11: request(%v) arms %v: %q", op, h.deadline.Sub(t0), actStrings(a))
	}
	return a, err
}

func (h *harness) mustRequest(op resource.Op) acts {
	h.t.Helper()
	a, err := h.request(op)
	if err != nil {
		h.failf("request(%v): %v", op, err)
	}
	return a
}

// fire fires the armed deadline, as its timer does.
func (h *harness) fire() acts {
	h.t.Helper()
	if !h.armed {
		h.failf("fire with no deadline armed")
	}
	h.armed = false
	return h.apply("fire", h.c.deadlineFired(h.gen, h.now))
}

// fireGen fires a deadline of generation gen (a stale timer).
func (h *harness) fireGen(gen uint64) acts {
	h.t.Helper()
	return h.apply(fmt.Sprintf("fire(gen %d)", gen), h.c.deadlineFired(gen, h.now))
}

func (h *harness) done(id callID, err error) (acts, bool) {
	h.t.Helper()
	_, live := h.live[id]
	wasCancelled := h.cancelled[id]
	a, counts := h.c.callDone(id, err, h.now)
	delete(h.live, id)
	delete(h.cancelled, id)
	h.apply(fmt.Sprintf("done(%d, %v)=%v", id, err, counts), a)
	if live && counts == wasCancelled {
		h.failf("R11: done(%d) counts=%v, the call was abandoned=%v", id, counts, wasCancelled)
	}
	if !live && (counts || len(a) > 0) {
		h.failf("done(%d) of no call: %v, %v", id, actStrings(a), counts)
	}
	return a, counts
}

func (h *harness) terminate() (acts, bool, error) {
	h.t.Helper()
	from := h.c.state
	a, wait, err := h.c.terminate(h.now)
	h.apply(fmt.Sprintf("terminate()=%v, %v", wait, err), a)
	switch {
	case err != nil:
	case wait && h.c.phase != phaseTerminating:
		h.failf("R17: terminate says wait, phase %d", h.c.phase)
	case !wait && (h.c.phase != phaseIdle || !(h.c.state == resource.Offline || h.c.state == resource.Failed && from == resource.Failed)):
		// R17: Offline, but a Failed resource stays Failed.
		h.failf("R17: terminate from %v done at once in %v, phase %d", from, h.c.state, h.c.phase)
	}
	return a, wait, err
}

func (h *harness) close() (acts, error) {
	h.t.Helper()
	a, err := h.c.close(h.now)
	h.apply(fmt.Sprintf("close()=%v", err), a)
	if h.c.state != resource.Unknown || err != nil {
		h.failf("R18: close() = %v in %v", err, h.c.state)
	}
	return a, err
}

func (h *harness) progress(id callID) acts {
	h.t.Helper()
	return h.apply(fmt.Sprintf("progress(%d)", id), h.c.progress(id, h.now))
}

func (h *harness) waitWithoutTimeout(id callID) acts {
	h.t.Helper()
	return h.apply(fmt.Sprintf("waitWithoutTimeout(%d)", id), h.c.waitWithoutTimeout(id))
}

func (h *harness) latch(err error) acts {
	h.t.Helper()
	return h.apply(fmt.Sprintf("latch(%v)", err), h.c.latch(resource.OpIsAlive, err, 0, h.now))
}

func (h *harness) report(err error) acts {
	h.t.Helper()
	return h.apply(fmt.Sprintf("report(%v)", err), h.c.report(err, h.now))
}

func (h *harness) startCheck(op resource.Op) (acts, callID, bool) {
	h.t.Helper()
	k := new(call)
	id, st := h.c.startCheck(op, 0, h.now, k)
	ok := st == healthcheck.Started
	var a acts
	if ok {
		a = acts{{kind: actStart, call: k}} // the one action the shell takes
	}
	h.lastStart = st
	h.apply(fmt.Sprintf("startCheck(%v)=%d, %v", op, id, ok), a)
	if tracked := h.c.calls.get(id) == k; ok != tracked || ok != (id != 0) || (ok && (k.op != op || k.lane != laneCheck)) {
		h.failf("startCheck ok=%v, id %d, call %+v tracked %v", ok, id, *k, tracked)
	}
	return a, id, ok
}

func (h *harness) checkTimedOut(id callID, err error) acts {
	h.t.Helper()
	return h.apply(fmt.Sprintf("checkTimedOut(%d)", id), h.c.checkTimedOut(id, err, h.now))
}

func (h *harness) startProbe() (acts, callID, error) {
	h.t.Helper()
	a, id, err := h.c.startProbe(h.now)
	h.apply(fmt.Sprintf("startProbe()=%d, %v", id, err), a)
	if err == nil {
		h.lastProbe = id
	}
	return a, id, err
}

func (h *harness) probeResult(err error) acts {
	h.t.Helper()
	return h.apply(fmt.Sprintf("probeResult(%d, %v)", h.lastProbe, err), h.c.probeResult(h.lastProbe, err, h.now))
}

func (h *harness) startControl() (acts, callID, error) {
	h.t.Helper()
	a, id, err := h.c.startControl(resource.OpControl, h.now)
	h.apply(fmt.Sprintf("startControl()=%d, %v", id, err), a)
	return a, id, err
}

func (h *harness) abandonCall(id callID) acts {
	h.t.Helper()
	return h.apply(fmt.Sprintf("abandonCall(%d)", id), h.c.abandonCall(id, h.now))
}

// reach drives a fresh harness to s the ordinary way: OnlinePending and
// OfflinePending with their worker running, Failed by a failed Online,
// Unknown by Close (with the resource's Close returned).
func (h *harness) reach(s resource.State) {
	h.t.Helper()
	switch s {
	case resource.Offline:
	case resource.OnlinePending:
		h.mustRequest(resource.OpOnline)
	case resource.Online:
		h.done(startedID(h.t, h.mustRequest(resource.OpOnline), resource.OpOnline), nil)
	case resource.OfflinePending:
		h.reach(resource.Online)
		h.mustRequest(resource.OpOffline)
	case resource.Failed:
		h.done(startedID(h.t, h.mustRequest(resource.OpOnline), resource.OpOnline), errBoom)
	case resource.Unknown:
		a, _ := h.close()
		if k, ok := startedCall(a, resource.OpClose); ok {
			h.done(k.id, nil)
		}
	}
	if h.c.state != s {
		h.failf("reach(%v) ended in %v", s, h.c.state)
	}
}

// Reading actions.

// actString formats an action for comparison: "start Online#1", "arm 10s" (the
// time since t0), "emit Offline→OnlinePending Online", "emit Terminated",
// "checks-off".
func actString(x action) string {
	switch x.kind {
	case actStart, actCancel:
		return fmt.Sprintf("%s %v#%d", actionNames[x.kind], x.call.op, x.call.id)
	case actArm:
		return "arm " + x.at.Sub(t0).String()
	case actEmit:
		e := *x.ev
		s := "emit " + e.Kind.String()
		if e.Kind == resource.StateChanged {
			s = fmt.Sprintf("emit %v→%v %v", e.From, e.To, e.Op)
		}
		if e.Forced {
			s += " forced"
		}
		return s
	}
	return actionNames[x.kind]
}

func actStrings(a acts) []string {
	out := make([]string, 0, len(a))
	for _, x := range a {
		out = append(out, actString(x))
	}
	return out
}

// wantActs checks a's actions, in order.
func wantActs(t testing.TB, a acts, want ...string) {
	t.Helper()
	got := actStrings(a)
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("actions:\n got  %q\n want %q", got, want)
	}
}

func startedCall(a acts, op resource.Op) (call, bool) {
	for _, x := range a {
		if x.kind == actStart && x.call.op == op {
			return *x.call, true
		}
	}
	return call{}, false
}

// startedID returns the id of the call of op that a starts.
func startedID(t testing.TB, a acts, op resource.Op) callID {
	t.Helper()
	k, ok := startedCall(a, op)
	if !ok {
		t.Fatalf("no start of %v in %q", op, actStrings(a))
	}
	return k.id
}

func eventsOf(a acts) []resource.Event {
	var out []resource.Event
	for _, x := range a {
		if x.kind == actEmit {
			out = append(out, *x.ev)
		}
	}
	return out
}

// oneEvent returns the only event of a, of kind k.
func oneEvent(t testing.TB, a acts, k resource.EventKind) resource.Event {
	t.Helper()
	var out []resource.Event
	for _, e := range eventsOf(a) {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	if len(out) != 1 {
		t.Fatalf("want one %v event in %q, got %d", k, actStrings(a), len(out))
	}
	return out[0]
}

// wantErr checks err against want: nil wants nil, else errors.Is.
func wantErr(t testing.TB, what string, err error, want ...error) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("%s: %v, want nil", what, err)
		}
		return
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Fatalf("%s: %v, want one wrapping %v", what, err, w)
		}
	}
}

func actIndex(a acts, s string) int { return slices.Index(actStrings(a), s) }

func countKind(a []action, k actionKind) int {
	n := 0
	for _, x := range a {
		if x.kind == k {
			n++
		}
	}
	return n
}

// armOf returns the generation of the deadline a arms.
func armOf(t testing.TB, a acts) uint64 {
	t.Helper()
	for _, x := range a {
		if x.kind == actArm {
			return x.gen
		}
	}
	t.Fatalf("no arm in %q", actStrings(a))
	return 0
}

// coreSnapshot is what a refused or joined input must leave as it was.
type coreSnapshot struct {
	state           resource.State
	seq, gen        uint64
	phase           phase
	op              resource.Op
	armed, exempt   bool
	deadline        stamp
	calls           int
	nextID          callID
	checking        bool
	lastErr         error
	closing, closed bool
}

func snapCore(c *core) coreSnapshot {
	return coreSnapshot{c.state, c.seq, c.gen, c.phase, c.op, c.armed, c.exempt, c.deadline, c.calls.len(), c.nextID, c.checking, c.lastErr(), c.closing, c.closed}
}

// TestCoreRequest checks Online and Offline from every state: a start, a
// join (no action, nil error) or a refusal (no action, the sentinel).
func TestCoreRequest(t *testing.T) {
	type row struct {
		from    resource.State
		op      resource.Op
		want    error  // the refusal's sentinel
		event   string // the start's event; "" for a join or a refusal
		running bool   // the worker starts at once
	}
	rows := []row{
		{resource.Offline, resource.OpOnline, nil, "emit Offline→OnlinePending Online", true},  // R2, R10
		{resource.Offline, resource.OpOffline, nil, "", false},                                 // R3: join
		{resource.OnlinePending, resource.OpOnline, nil, "", false},                            // R3: join
		{resource.OnlinePending, resource.OpOffline, resource.ErrInvalidTransition, "", false}, // R3
		{resource.Online, resource.OpOnline, nil, "", false},                                   // R3: join
		{resource.Online, resource.OpOffline, nil, "emit Online→OfflinePending Offline", true}, // R2
		{resource.OfflinePending, resource.OpOnline, resource.ErrInvalidTransition, "", false}, // R3
		{resource.OfflinePending, resource.OpOffline, nil, "", false},                          // R3: join
		{resource.Failed, resource.OpOnline, nil, "emit Failed→OnlinePending Online", true},    // R2: a restart
		{resource.Failed, resource.OpOffline, nil, "emit Failed→OfflinePending Offline", true}, // R2: clean up
		{resource.Unknown, resource.OpOnline, resource.ErrClosed, "", false},                   // R2, R18
		{resource.Unknown, resource.OpOffline, resource.ErrClosed, "", false},                  // R2, R18
	}
	for _, r := range rows {
		for _, term := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/%v/terminator=%v", r.from, r.op, term), func(t *testing.T) {
				h := newHarness(t, term, false)
				h.reach(r.from)
				h.advance(time.Second)
				before := snapCore(h.c)
				a, err := h.request(r.op)
				if r.want != nil || r.event == "" {
					if r.want == nil {
						wantErr(t, "join", err)
					} else {
						wantErr(t, "refusal", err, r.want)
					}
					wantActs(t, a)
					if after := snapCore(h.c); after != before {
						t.Fatalf("the core changed:\n before %+v\n after  %+v", before, after)
					}
					return
				}
				wantErr(t, "request", err)
				evs := eventsOf(a)
				if len(evs) != 1 || actString(action{kind: actEmit, ev: &evs[0]}) != r.event {
					t.Fatalf("events %q, want %q", actStrings(a), r.event)
				}
				if _, ok := startedCall(a, r.op); ok != r.running {
					t.Fatalf("worker started=%v, want %v: %q", ok, r.running, actStrings(a))
				}
			})
		}
	}
}

// TestCoreRequestWhileTerminating checks that Online is refused while a
// caller's Terminate runs (R3, R17; the wrapper's documented behaviour), in
// every state Terminate can run in, and so is an Offline of a Failed
// resource, which Terminate leaves Failed. An Offline of a resource the
// Terminate takes Offline joins it.
func TestCoreRequestWhileTerminating(t *testing.T) {
	for _, from := range []resource.State{resource.OnlinePending, resource.Online, resource.OfflinePending, resource.Failed} {
		for _, op := range []resource.Op{resource.OpOnline, resource.OpOffline} {
			t.Run(fmt.Sprintf("%v/%v", from, op), func(t *testing.T) {
				h := newHarness(t, true, false)
				h.reach(from)
				if _, wait, err := h.terminate(); err != nil || !wait {
					t.Fatalf("terminate: wait=%v err=%v", wait, err)
				}
				before := snapCore(h.c)
				a, err := h.request(op)
				if op == resource.OpOffline && from != resource.Failed && from != resource.OnlinePending { // R3 refuses Offline while OnlinePending
					wantErr(t, "R3: Offline joins the Terminate", err)
				} else {
					wantErr(t, "request while Terminate runs", err, resource.ErrInvalidTransition)
				}
				wantActs(t, a)
				if snapCore(h.c) != before {
					t.Fatalf("the core changed")
				}
			})
		}
	}
}

// TestCoreOnlineOffline checks an operation's life: start, worker return,
// deadline (R10, R11, R19).
func TestCoreOnlineOffline(t *testing.T) {
	rows := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"R10 R11: Online succeeds", func(t *testing.T, h *harness) {
			a := h.mustRequest(resource.OpOnline)
			// R11: the deadline is armed before the worker starts.
			wantActs(t, a, "emit Offline→OnlinePending Online", "arm 10s", "start Online#1")
			if h.c.phase != phaseRunning || !h.c.busy() {
				t.Fatalf("phase %d after the start", h.c.phase)
			}
			h.advance(3 * time.Second)
			a, counts := h.done(1, nil)
			if !counts {
				t.Fatal("the worker's return does not count")
			}
			wantActs(t, a, "checks-on", "emit OnlinePending→Online Online", "disarm", "settled")
			wantErr(t, "lastErr", h.c.lastErr())
			if e := oneEvent(t, a, resource.StateChanged); e.Err != nil || e.Forced || !e.Time.Equal(t0.Add(3*time.Second)) {
				t.Fatalf("event %+v", e)
			}
		}},
		{"R11 R19: Online fails", func(t *testing.T, h *harness) {
			h.mustRequest(resource.OpOnline)
			a, _ := h.done(1, errBoom)
			wantActs(t, a, "emit OnlinePending→Failed Online", "disarm", "settled")
			wantErr(t, "event", oneEvent(t, a, resource.StateChanged).Err, errBoom)
			wantErr(t, "lastErr", h.c.lastErr(), errBoom)
		}},
		{"R11: Online times out, the worker is cancelled and abandoned", func(t *testing.T, h *harness) {
			h.mustRequest(resource.OpOnline)
			h.advance(tPend)
			a := h.fire()
			wantActs(t, a, "cancel Online#1", "emit OnlinePending→Failed Online", "settled")
			e := oneEvent(t, a, resource.StateChanged)
			wantErr(t, "event", e.Err, resource.ErrPendingTimeout)
			wantErr(t, "lastErr", h.c.lastErr(), resource.ErrPendingTimeout)
			if !e.Time.Equal(t0.Add(tPend)) {
				t.Fatalf("event at %v", e.Time)
			}
			if ab := h.c.abandoned(); len(ab) != 1 || ab[0].id != 1 || ab[0].abandonedAt != h.c.env.stampOf(t0.Add(tPend)) {
				t.Fatalf("abandoned %+v", ab)
			}
			// Its later return is recorded, not acted on.
			h.advance(time.Minute)
			a, counts := h.done(1, nil)
			if counts {
				t.Fatal("an abandoned worker's return counts")
			}
			wantActs(t, a)
			if h.c.state != resource.Failed || len(h.c.abandoned()) != 0 {
				t.Fatalf("%v, abandoned %v", h.c.state, h.c.abandoned())
			}
		}},
		{"R11: a stale deadline does nothing", func(t *testing.T, h *harness) {
			g := armOf(t, h.mustRequest(resource.OpOnline))
			h.advance(2 * time.Second)
			wantActs(t, h.progress(1), "arm 12s")
			h.advance(8 * time.Second)
			wantActs(t, h.fireGen(g)) // the timer of the first arm
			if h.c.state != resource.OnlinePending {
				t.Fatalf("%v after a stale fire", h.c.state)
			}
			h.done(1, nil)
			wantActs(t, h.fireGen(h.gen)) // disarmed since
			wantActs(t, h.fireGen(h.c.gen))
			if h.c.state != resource.Online {
				t.Fatalf("%v after a stale fire", h.c.state)
			}
		}},
		{"R15 R2: Offline succeeds", func(t *testing.T, h *harness) {
			h.reach(resource.Online)
			h.advance(time.Second)
			a := h.mustRequest(resource.OpOffline)
			wantActs(t, a, "checks-off", "emit Online→OfflinePending Offline", "arm 11s", "start Offline#2")
			a, _ = h.done(2, nil)
			wantActs(t, a, "emit OfflinePending→Offline Offline", "disarm", "settled")
		}},
		{"R19: Offline fails", func(t *testing.T, h *harness) {
			h.reach(resource.Online)
			h.mustRequest(resource.OpOffline)
			a, _ := h.done(2, errBoom)
			wantActs(t, a, "emit OfflinePending→Failed Offline", "disarm", "settled")
			wantErr(t, "event", oneEvent(t, a, resource.StateChanged).Err, errBoom)
		}},
		{"R2: Offline from Failed cleans up", func(t *testing.T, h *harness) {
			h.reach(resource.Failed)
			a := h.mustRequest(resource.OpOffline)
			wantActs(t, a, "emit Failed→OfflinePending Offline", "arm 10s", "start Offline#2")
			a, _ = h.done(2, nil)
			wantActs(t, a, "emit OfflinePending→Offline Offline", "disarm", "settled")
		}},
		{"R2: a restart from Failed", func(t *testing.T, h *harness) {
			h.reach(resource.Failed)
			wantActs(t, h.mustRequest(resource.OpOnline), "emit Failed→OnlinePending Online", "arm 10s", "start Online#2")
			a, _ := h.done(2, nil)
			wantActs(t, a, "checks-on", "emit OnlinePending→Online Online", "disarm", "settled")
		}},
		{"R11: no PendingTimeout arms nothing", func(t *testing.T, h *harness) {
			h.c.timing.pending, h.c.timing.maxPend = resource.Never, resource.Never
			wantActs(t, h.mustRequest(resource.OpOnline), "emit Offline→OnlinePending Online", "start Online#1")
			h.advance(24 * time.Hour)
			wantActs(t, h.progress(1))
			a, _ := h.done(1, nil)
			wantActs(t, a, "checks-on", "emit OnlinePending→Online Online", "settled")
		}},
		{"R11: an unknown call's return does nothing", func(t *testing.T, h *harness) {
			h.mustRequest(resource.OpOnline)
			if a, counts := h.done(42, nil); counts || len(a) > 0 {
				t.Fatalf("done(42) = %q, %v", actStrings(a), counts)
			}
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) { r.run(t, newHarness(t, false, false)) })
	}
}

// TestCoreWaitWithoutTimeout: an exempt worker's deadline is disarmed for
// the rest of the operation (R12).
func TestCoreWaitWithoutTimeout(t *testing.T) {
	for _, op := range []resource.Op{resource.OpOnline, resource.OpOffline} {
		t.Run(op.String(), func(t *testing.T) {
			h := newHarness(t, true, false)
			if op == resource.OpOffline {
				h.reach(resource.Online)
			}
			a := h.mustRequest(op)
			g, id := armOf(t, a), startedID(t, a, op)
			wantActs(t, h.waitWithoutTimeout(id+1)) // not the worker
			h.advance(time.Second)
			wantActs(t, h.waitWithoutTimeout(id), "disarm")
			if !h.c.exempt || h.c.armed {
				t.Fatalf("exempt=%v armed=%v", h.c.exempt, h.c.armed)
			}
			wantActs(t, h.waitWithoutTimeout(id)) // already
			h.advance(tPend)
			wantActs(t, h.fireGen(g)) // the generation that was armed is stale
			h.advance(time.Hour)
			wantActs(t, h.progress(id)) // R12: progress no longer arms
			if h.c.state != op2pending(op) {
				t.Fatalf("%v an hour later", h.c.state)
			}
			a, _ = h.done(id, nil)
			if actIndex(a, "settled") < 0 || h.c.exempt {
				t.Fatalf("%q, exempt %v", actStrings(a), h.c.exempt)
			}
			// The next operation is not exempt.
			next := resource.OpOffline
			if op == resource.OpOffline {
				next = resource.OpOnline
			}
			if a := h.mustRequest(next); actIndex(a, "arm 1h0m21s") < 0 {
				t.Fatalf("the next operation is not armed: %q", actStrings(a))
			}
		})
	}
	t.Run("R12 R17: Terminate still ends an exempt worker", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.mustRequest(resource.OpOnline)
		h.waitWithoutTimeout(1)
		a, wait, _ := h.terminate()
		wantActs(t, a, "cancel Online#1", "emit Terminated", "emit OnlinePending→Offline Terminate forced", "settled")
		if wait || h.c.exempt {
			t.Fatalf("wait=%v exempt=%v", wait, h.c.exempt)
		}
	})
	t.Run("R12: waitWithoutTimeout while waiting for an abandoned call does nothing", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.mustRequest(resource.OpOnline)
		h.advance(tPend)
		h.fire()
		h.mustRequest(resource.OpOnline) // waits for #1 (R14)
		wantActs(t, h.waitWithoutTimeout(1))
		wantActs(t, h.waitWithoutTimeout(2))
		if !h.c.armed {
			t.Fatal("disarmed")
		}
	})
}

func op2pending(op resource.Op) resource.State {
	if op == resource.OpOnline {
		return resource.OnlinePending
	}
	return resource.OfflinePending
}

// TestCoreProgress: progress pushes the deadline to now + PendingTimeout,
// never beyond MaxPendingTime after the start and never earlier (R13).
func TestCoreProgress(t *testing.T) {
	type step struct {
		at   time.Duration // since t0
		id   callID        // the reporting call; 0 means the worker
		want string        // the arm; "" for none
	}
	rows := []struct {
		name  string
		tm    timing
		steps []step
		fire  time.Duration // when the last deadline fires
	}{
		{"R13: each report pushes the deadline", stdTiming(),
			[]step{{4 * time.Second, 0, "arm 14s"}, {9 * time.Second, 0, "arm 19s"}, {9 * time.Second, 0, ""}}, 19 * time.Second},
		{"R13: capped at MaxPendingTime after the start", stdTiming(),
			[]step{{9 * time.Second, 0, "arm 19s"}, {18 * time.Second, 0, "arm 28s"}, {25 * time.Second, 0, "arm 30s"}, {29 * time.Second, 0, ""}}, 30 * time.Second},
		{"R13: a report of another call does nothing", stdTiming(),
			[]step{{4 * time.Second, 7, ""}}, 10 * time.Second},
		{"R13: no cap with MaxPendingTime Never", timing{pending: tPend, maxPend: resource.Never, terminate: tTerm},
			[]step{{9 * time.Second, 0, "arm 19s"}, {18 * time.Second, 0, "arm 28s"}, {27 * time.Second, 0, "arm 37s"}, {36 * time.Second, 0, "arm 46s"}}, 46 * time.Second},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			h := newHarnessTiming(t, r.tm, false, false)
			h.mustRequest(resource.OpOnline)
			for _, s := range r.steps {
				h.now = t0.Add(s.at)
				id := s.id
				if id == 0 {
					id = h.c.opCall
				}
				if s.want == "" {
					wantActs(t, h.progress(id))
				} else {
					wantActs(t, h.progress(id), s.want)
				}
			}
			h.now = t0.Add(r.fire)
			if !h.c.deadlineTime(h.now).Equal(h.now) {
				t.Fatalf("deadline %v, want %v", h.c.deadlineTime(h.now).Sub(t0), r.fire)
			}
			a := h.fire()
			wantErr(t, "timeout", oneEvent(t, a, resource.StateChanged).Err, resource.ErrPendingTimeout)
		})
	}
	t.Run("R13: never earlier", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.mustRequest(resource.OpOnline)
		h.now = t0.Add(4 * time.Second)
		wantActs(t, h.progress(1), "arm 14s")
		h.c.timing.pending = 2 * time.Second // SetPolicy shortened it
		h.now = t0.Add(5 * time.Second)
		wantActs(t, h.progress(1)) // 7s would be earlier
		if !h.c.deadlineTime(h.now).Equal(t0.Add(14 * time.Second)) {
			t.Fatalf("deadline %v", h.c.deadlineTime(h.now).Sub(t0))
		}
	})
	t.Run("R13 R14: progress while waiting for an abandoned call does nothing", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.mustRequest(resource.OpOnline)
		h.advance(tPend)
		h.fire()
		h.mustRequest(resource.OpOnline)
		h.advance(time.Second)
		wantActs(t, h.progress(1)) // the abandoned worker
		wantActs(t, h.progress(2)) // no such call yet
	})
	t.Run("R13 R11: an abandoned worker's progress does nothing", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.mustRequest(resource.OpOnline)
		h.advance(tPend)
		h.fire()
		h.advance(time.Second)
		wantActs(t, h.progress(1))
	})
	t.Run("R13 R16: progress while the Terminator runs does nothing", func(t *testing.T) {
		h := newHarness(t, true, false)
		h.reach(resource.OfflinePending)
		h.advance(tPend)
		h.fire()
		wantActs(t, h.progress(2))
		wantActs(t, h.progress(3))
	})
}

// TestCoreWaitForAbandoned: a new operation first waits for an abandoned
// call, within its own pending timeout (R14); an Offline that cannot
// escalates (R16).
func TestCoreWaitForAbandoned(t *testing.T) {
	// setup: Online timed out at 10s; its worker #1 is abandoned and runs.
	setup := func(t *testing.T, term bool) *harness {
		h := newHarness(t, term, false)
		h.mustRequest(resource.OpOnline)
		h.advance(tPend)
		h.fire()
		return h
	}
	t.Run("R14: Online starts once the abandoned call returns", func(t *testing.T) {
		h := setup(t, false)
		wantActs(t, h.mustRequest(resource.OpOnline), "emit Failed→OnlinePending Online", "arm 20s")
		if h.c.phase != phaseWaiting {
			t.Fatalf("phase %d", h.c.phase)
		}
		h.advance(3 * time.Second)
		a, counts := h.done(1, nil)
		if counts {
			t.Fatal("the abandoned call's return counts")
		}
		wantActs(t, a, "start Online#2")
		if !h.c.deadlineTime(h.now).Equal(t0.Add(20 * time.Second)) {
			t.Fatalf("the deadline moved to %v", h.c.deadlineTime(h.now).Sub(t0))
		}
		a, _ = h.done(2, nil)
		wantActs(t, a, "checks-on", "emit OnlinePending→Online Online", "disarm", "settled")
	})
	t.Run("R14: Online fails with ErrWorkerStuck when the call does not return", func(t *testing.T) {
		h := setup(t, true)
		h.mustRequest(resource.OpOnline)
		h.advance(tPend)
		a := h.fire()
		wantActs(t, a, "emit OnlinePending→Failed Online", "settled")
		wantErr(t, "event", oneEvent(t, a, resource.StateChanged).Err, resource.ErrWorkerStuck)
		wantErr(t, "lastErr", h.c.lastErr(), resource.ErrWorkerStuck)
		a, _ = h.done(1, nil)
		wantActs(t, a) // nothing starts any more
	})
	t.Run("R14 R16: Offline escalates to the Terminator", func(t *testing.T) {
		h := setup(t, true)
		wantActs(t, h.mustRequest(resource.OpOffline), "emit Failed→OfflinePending Offline", "arm 20s")
		h.advance(tPend)
		a := h.fire()
		wantActs(t, a, "start Terminate#2", "arm 25s")
		wantErr(t, "lastErr", h.c.lastErr(), resource.ErrWorkerStuck)
		h.advance(time.Second)
		a, _ = h.done(2, nil)
		wantActs(t, a, "disarm", "emit Terminated", "emit OfflinePending→Offline Offline forced", "settled")
		// The abandoned call still counts as running (R14): a new Online waits.
		wantActs(t, h.mustRequest(resource.OpOnline), "emit Offline→OnlinePending Online", "arm 31s")
		a, _ = h.done(1, nil)
		wantActs(t, a, "start Online#3")
	})
	t.Run("R14 R16: Offline without a Terminator fails with ErrWorkerStuck", func(t *testing.T) {
		h := setup(t, false)
		h.mustRequest(resource.OpOffline)
		h.advance(tPend)
		a := h.fire()
		wantActs(t, a, "emit OfflinePending→Failed Offline", "settled")
		wantErr(t, "event", oneEvent(t, a, resource.StateChanged).Err, resource.ErrWorkerStuck)
	})
	t.Run("R14 R5: a hung check holds Online back", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.reach(resource.Online)
		_, id, _ := h.startCheck(resource.OpIsAlive)
		h.checkTimedOut(id, resource.ErrCheckTimeout)
		h.latch(resource.ErrCheckTimeout)
		wantActs(t, h.mustRequest(resource.OpOnline), "emit Failed→OnlinePending Online", "arm 10s")
		a, _ := h.done(id, nil)
		wantActs(t, a, "start Online#3")
	})
}

// TestCoreOfflineStopsChecks: Offline stops health checking first, and its
// worker starts only once a running check has returned (R15, R5).
func TestCoreOfflineStopsChecks(t *testing.T) {
	h := newHarness(t, false, false)
	h.reach(resource.Online)
	a, id, ok := h.startCheck(resource.OpIsAlive)
	if !ok || id != 2 {
		t.Fatalf("startCheck = %q, %d, %v", actStrings(a), id, ok)
	}
	h.advance(time.Second)
	a = h.mustRequest(resource.OpOffline)
	wantActs(t, a, "checks-off", "cancel IsAlive#2", "emit Online→OfflinePending Offline", "arm 11s")
	if _, _, ok := h.startCheck(resource.OpLooksAlive); ok {
		t.Fatal("R15: a check started after Offline began")
	}
	h.advance(time.Second)
	a, counts := h.done(id, errSick)
	if counts {
		t.Fatal("the abandoned check's return counts")
	}
	wantActs(t, a, "start Offline#3")
	if !h.c.checkStatus(resource.OpIsAlive, h.now).At.IsZero() {
		t.Fatal("R22: an abandoned check's result was cached")
	}
}

// TestCoreEscalation: an Offline that does not return within
// PendingTimeout escalates to the Terminator (R16).
func TestCoreEscalation(t *testing.T) {
	rows := []struct {
		name   string
		term   bool
		finish func(h *harness) acts // after the Offline deadline fired
		want   []string
		state  resource.State
		forced bool
		errs   []error // the final state event's error
		term0  []error // the Terminated event's error
	}{
		{"R16: the Terminator returns nil: Offline, forced", true,
			func(h *harness) acts { a, _ := h.done(3, nil); return a },
			[]string{"disarm", "emit Terminated", "emit OfflinePending→Offline Offline forced", "settled"},
			resource.Offline, true, nil, nil},
		{"R16: the Terminator fails: Failed", true,
			func(h *harness) acts { a, _ := h.done(3, errTerm); return a },
			[]string{"disarm", "emit Terminated", "emit OfflinePending→Failed Offline", "settled"},
			resource.Failed, false, []error{resource.ErrPendingTimeout, errTerm}, []error{errTerm}},
		{"R16: the Terminator hangs: Failed", true,
			func(h *harness) acts { h.advance(tTerm); return h.fire() },
			[]string{"cancel Terminate#3", "emit Terminated", "emit OfflinePending→Failed Offline", "settled"},
			resource.Failed, false, []error{resource.ErrPendingTimeout}, []error{resource.ErrPendingTimeout}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			h := newHarness(t, r.term, false)
			h.reach(resource.OfflinePending) // Online#1 returned, Offline#2 runs
			h.advance(tPend)
			a := h.fire()
			wantActs(t, a, "cancel Offline#2", "start Terminate#3", "arm 15s")
			if h.c.state != resource.OfflinePending || h.c.phase != phaseTerminating || !h.c.busy() {
				t.Fatalf("%v, phase %d", h.c.state, h.c.phase)
			}
			h.advance(time.Second)
			a = r.finish(h)
			wantActs(t, a, r.want...)
			wantErr(t, "Terminated", oneEvent(t, a, resource.Terminated).Err, r.term0...)
			e := oneEvent(t, a, resource.StateChanged)
			wantErr(t, "state event", e.Err, r.errs...)
			wantErr(t, "lastErr", h.c.lastErr(), r.errs...)
			if h.c.state != r.state || e.Forced != r.forced || e.Op != resource.OpOffline {
				t.Fatalf("%v, event %v", h.c.state, e)
			}
			// The abandoned Offline's return changes nothing (R11).
			if a, counts := h.done(2, nil); counts || len(a) > 0 {
				t.Fatalf("done(Offline) = %q, %v", actStrings(a), counts)
			}
		})
	}
	t.Run("R16: without a Terminator the Offline fails", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.reach(resource.OfflinePending)
		h.advance(tPend)
		a := h.fire()
		wantActs(t, a, "cancel Offline#2", "emit OfflinePending→Failed Offline", "settled")
		wantErr(t, "event", oneEvent(t, a, resource.StateChanged).Err, resource.ErrPendingTimeout)
	})
	t.Run("R16 R17: a caller's Terminate joins the escalation", func(t *testing.T) {
		h := newHarness(t, true, false)
		h.reach(resource.OfflinePending)
		h.advance(tPend)
		h.fire()
		a, wait, err := h.terminate()
		if len(a) > 0 || !wait || err != nil {
			t.Fatalf("terminate = %q, %v, %v", actStrings(a), wait, err)
		}
	})
	t.Run("R16: TerminateTimeout Never waits for the Terminator", func(t *testing.T) {
		h := newHarness(t, true, false)
		h.c.timing.terminate = resource.Never
		h.reach(resource.OfflinePending)
		h.advance(tPend)
		wantActs(t, h.fire(), "cancel Offline#2", "start Terminate#3")
		h.advance(time.Hour)
		a, _ := h.done(3, nil)
		wantActs(t, a, "emit Terminated", "emit OfflinePending→Offline Offline forced", "settled")
	})
}

// TestCoreTerminate: Terminate in every state (R17).
func TestCoreTerminate(t *testing.T) {
	rows := []struct {
		name   string
		term   bool
		setup  func(h *harness)
		want   []string // terminate's actions
		wait   bool
		finish func(h *harness) acts // the Terminator's return; nil when none runs
		fin    []string
		state  resource.State
		last   []error // lastErr afterwards
	}{
		{"R17: Offline with nothing running does nothing", true,
			func(h *harness) {}, nil, false, nil, nil, resource.Offline, nil},
		{"R17: Offline with an abandoned call, no Terminator", false,
			func(h *harness) { h.reach(resource.OnlinePending); h.terminate() },
			[]string{"emit Terminated"}, false, nil, nil, resource.Offline, []error{resource.ErrTerminated}},
		{"R17: Offline with an abandoned call and a Terminator", true,
			func(h *harness) { h.reach(resource.OnlinePending); h.terminate(); h.done(2, nil) },
			[]string{"start Terminate#3", "arm 5s"}, true,
			func(h *harness) acts { a, _ := h.done(3, nil); return a },
			[]string{"disarm", "emit Terminated", "settled"}, resource.Offline, []error{resource.ErrTerminated}},
		{"R17: Online with a Terminator", true,
			func(h *harness) { h.reach(resource.Online) },
			[]string{"checks-off", "start Terminate#2", "arm 5s"}, true,
			func(h *harness) acts { a, _ := h.done(2, errTerm); return a },
			[]string{"disarm", "emit Terminated", "emit Online→Offline Terminate forced", "settled"}, resource.Offline, nil},
		{"R17: Online with a running check", true,
			func(h *harness) { h.reach(resource.Online); h.startCheck(resource.OpIsAlive) },
			[]string{"checks-off", "cancel IsAlive#2", "start Terminate#3", "arm 5s"}, true,
			func(h *harness) acts { a, _ := h.done(3, nil); return a },
			[]string{"disarm", "emit Terminated", "emit Online→Offline Terminate forced", "settled"}, resource.Offline, nil},
		{"R17: Online without a Terminator", false,
			func(h *harness) { h.reach(resource.Online) },
			[]string{"checks-off", "emit Terminated", "emit Online→Offline Terminate forced", "settled"}, false,
			nil, nil, resource.Offline, nil},
		{"R17: Online, the Terminator hangs: Offline all the same", true,
			func(h *harness) { h.reach(resource.Online) },
			[]string{"checks-off", "start Terminate#2", "arm 5s"}, true,
			func(h *harness) acts { h.advance(tTerm); return h.fire() },
			[]string{"cancel Terminate#2", "emit Terminated", "emit Online→Offline Terminate forced", "settled"}, resource.Offline, nil},
		{"R17: Failed stays Failed", true,
			func(h *harness) { h.reach(resource.Failed) },
			[]string{"start Terminate#2", "arm 5s"}, true,
			func(h *harness) acts { a, _ := h.done(2, errTerm); return a },
			[]string{"disarm", "emit Terminated", "settled"}, resource.Failed, []error{errBoom}},
		{"R17: Failed without a Terminator", false,
			func(h *harness) { h.reach(resource.Failed) },
			[]string{"emit Terminated", "settled"}, false, nil, nil, resource.Failed, []error{errBoom}},
		{"R17: OnlinePending with a Terminator", true,
			func(h *harness) { h.reach(resource.OnlinePending) },
			[]string{"cancel Online#1", "disarm", "start Terminate#2", "arm 5s"}, true,
			func(h *harness) acts { a, _ := h.done(2, errTerm); return a },
			[]string{"disarm", "emit Terminated", "emit OnlinePending→Offline Terminate forced", "settled"},
			resource.Offline, []error{resource.ErrTerminated}},
		{"R17: OnlinePending without a Terminator completes at once", false,
			func(h *harness) { h.reach(resource.OnlinePending) },
			[]string{"cancel Online#1", "disarm", "emit Terminated", "emit OnlinePending→Offline Terminate forced", "settled"}, false,
			nil, nil, resource.Offline, []error{resource.ErrTerminated}},
		{"R17 R14: OnlinePending waiting for an abandoned call", false,
			func(h *harness) {
				h.reach(resource.OnlinePending)
				h.advance(tPend)
				h.fire()
				h.mustRequest(resource.OpOnline)
			},
			[]string{"disarm", "emit Terminated", "emit OnlinePending→Offline Terminate forced", "settled"}, false,
			nil, nil, resource.Offline, []error{resource.ErrTerminated}},
		{"R17: OfflinePending with a Terminator", true,
			func(h *harness) { h.reach(resource.OfflinePending) },
			[]string{"cancel Offline#2", "disarm", "start Terminate#3", "arm 5s"}, true,
			func(h *harness) acts { a, _ := h.done(3, nil); return a },
			[]string{"disarm", "emit Terminated", "emit OfflinePending→Offline Terminate forced", "settled"},
			resource.Offline, []error{resource.ErrTerminated}},
		{"R17: OfflinePending without a Terminator", false,
			func(h *harness) { h.reach(resource.OfflinePending) },
			[]string{"cancel Offline#2", "disarm", "emit Terminated", "emit OfflinePending→Offline Terminate forced", "settled"}, false,
			nil, nil, resource.Offline, []error{resource.ErrTerminated}},
		{"R17 R5: a running Control is not cancelled", true,
			func(h *harness) { h.reach(resource.OnlinePending); h.startControl() },
			[]string{"cancel Online#1", "disarm", "start Terminate#3", "arm 5s"}, true,
			func(h *harness) acts { a, _ := h.done(3, nil); return a },
			[]string{"disarm", "emit Terminated", "emit OnlinePending→Offline Terminate forced", "settled"},
			resource.Offline, []error{resource.ErrTerminated}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			h := newHarness(t, r.term, false)
			r.setup(h)
			h.now = t0
			before := len(h.events)
			a, wait, err := h.terminate()
			wantErr(t, "terminate", err)
			wantActs(t, a, r.want...)
			if wait != r.wait || wait != h.c.busy() {
				t.Fatalf("wait=%v busy=%v, want %v", wait, h.c.busy(), r.wait)
			}
			if wait {
				if a, w, err := h.terminate(); len(a) > 0 || !w || err != nil {
					t.Fatalf("a second Terminate does not join: %q, %v, %v", actStrings(a), w, err)
				}
				h.advance(time.Second)
				a = r.finish(h)
				wantActs(t, a, r.fin...)
			}
			if h.c.state != r.state || h.c.busy() {
				t.Fatalf("%v, busy %v; want %v", h.c.state, h.c.busy(), r.state)
			}
			wantErr(t, "lastErr", h.c.lastErr(), r.last...)
			// R17: one Terminated event, carrying the Terminator's error.
			for _, e := range eventsOf(a) {
				if e.Kind == resource.Terminated && (e.Op != resource.OpTerminate || e.Err != h.c.lastTermErr()) {
					t.Fatalf("Terminated event %v, lastTermErr %v", e, h.c.lastTermErr())
				}
			}
			if n := len(h.events) - before; (n == 0) != (len(r.want) == 0) {
				t.Fatalf("%d events for %q", n, r.want)
			}
		})
	}
	t.Run("R17: Unknown is refused with ErrClosed", func(t *testing.T) {
		h := newHarness(t, true, false)
		h.reach(resource.Unknown)
		a, wait, err := h.terminate()
		wantErr(t, "terminate", err, resource.ErrClosed)
		if len(a) > 0 || wait {
			t.Fatalf("%q, %v", actStrings(a), wait)
		}
	})
	t.Run("R17: the Terminator's error is in the event and lastTermErr only", func(t *testing.T) {
		h := newHarness(t, true, false)
		h.reach(resource.Online)
		h.terminate()
		a, _ := h.done(2, errTerm)
		wantErr(t, "Terminated", oneEvent(t, a, resource.Terminated).Err, errTerm)
		wantErr(t, "state event", oneEvent(t, a, resource.StateChanged).Err)
		wantErr(t, "lastTermErr", h.c.lastTermErr(), errTerm)
		wantErr(t, "lastErr", h.c.lastErr())
	})
}

// TestCoreClose: Close from every state (R18).
func TestCoreClose(t *testing.T) {
	rows := []struct {
		name         string
		term, closer bool
		setup        func(h *harness)
		want         []string              // close's actions
		steps        []func(*harness) acts // what happens next, in order
		wants        [][]string            // each step's actions
		last         []error               // lastErr afterwards
	}{
		{"R18: Offline, no Close", false, false, func(h *harness) {},
			[]string{"emit Offline→Unknown Close", "closed"}, nil, nil, nil},
		{"R18: Offline, with Close", false, true, func(h *harness) {},
			[]string{"emit Offline→Unknown Close", "start Close#1"},
			[]func(*harness) acts{doneOf(1, nil)}, [][]string{{"closed"}}, nil},
		{"R18: Offline with nothing running calls no Terminator", true, true, func(h *harness) {},
			[]string{"emit Offline→Unknown Close", "start Close#1"},
			[]func(*harness) acts{doneOf(1, errBoom)}, [][]string{{"closed"}}, nil},
		{"R18: Online, the Terminator runs first", true, true, func(h *harness) { h.reach(resource.Online) },
			[]string{"checks-off", "emit Online→Unknown Close", "start Terminate#2", "arm 5s"},
			[]func(*harness) acts{doneOf(2, nil), doneOf(3, nil)},
			[][]string{{"disarm", "emit Terminated", "settled", "start Close#3"}, {"closed"}}, nil},
		{"R18: Online without a Terminator", false, true, func(h *harness) { h.reach(resource.Online) },
			[]string{"checks-off", "emit Online→Unknown Close", "start Close#2"},
			[]func(*harness) acts{doneOf(2, nil)}, [][]string{{"closed"}}, nil},
		{"R18: Online, Close waits for a running check", false, true,
			func(h *harness) { h.reach(resource.Online); h.startCheck(resource.OpIsAlive) },
			[]string{"cancel IsAlive#2", "checks-off", "emit Online→Unknown Close"},
			[]func(*harness) acts{doneOf(2, nil), doneOf(3, nil)}, [][]string{{"start Close#3"}, {"closed"}}, nil},
		{"R18: OnlinePending, the Terminator runs, Close waits for the worker", true, true,
			func(h *harness) { h.reach(resource.OnlinePending) },
			[]string{"cancel Online#1", "emit OnlinePending→Unknown Close", "disarm", "start Terminate#2", "arm 5s"},
			[]func(*harness) acts{doneOf(2, errTerm), doneOf(1, nil), doneOf(3, nil)},
			[][]string{{"disarm", "emit Terminated", "settled"}, {"start Close#3"}, {"closed"}}, []error{resource.ErrTerminated}},
		{"R18: OnlinePending without a Terminator", false, true,
			func(h *harness) { h.reach(resource.OnlinePending) },
			[]string{"cancel Online#1", "emit OnlinePending→Unknown Close", "disarm", "settled"},
			[]func(*harness) acts{doneOf(1, nil), doneOf(2, nil)},
			[][]string{{"start Close#2"}, {"closed"}}, []error{resource.ErrTerminated}},
		{"R18: OfflinePending with a Terminator", true, false,
			func(h *harness) { h.reach(resource.OfflinePending) },
			[]string{"cancel Offline#2", "emit OfflinePending→Unknown Close", "disarm", "start Terminate#3", "arm 5s"},
			[]func(*harness) acts{doneOf(2, nil), doneOf(3, nil)},
			[][]string{nil, {"disarm", "emit Terminated", "settled", "closed"}}, []error{resource.ErrTerminated}},
		{"R18: Failed, the Terminator runs first", true, false,
			func(h *harness) { h.reach(resource.Failed) },
			[]string{"emit Failed→Unknown Close", "start Terminate#2", "arm 5s"},
			[]func(*harness) acts{doneOf(2, nil)},
			[][]string{{"disarm", "emit Terminated", "settled", "closed"}}, []error{errBoom}},
		{"R18: Failed without a Terminator", false, false,
			func(h *harness) { h.reach(resource.Failed) },
			[]string{"emit Failed→Unknown Close", "closed"}, nil, nil, []error{errBoom}},
		{"R18: the close Terminator hangs; Close waits for it", true, true,
			func(h *harness) { h.reach(resource.Online) },
			[]string{"checks-off", "emit Online→Unknown Close", "start Terminate#2", "arm 5s"},
			[]func(*harness) acts{fireDeadline, doneOf(2, nil), doneOf(3, nil)},
			[][]string{{"cancel Terminate#2", "emit Terminated", "settled"}, {"start Close#3"}, {"closed"}}, nil},
		{"R18 R17: during a caller's Terminate the same Terminator serves", true, false,
			func(h *harness) { h.reach(resource.Online); h.terminate() },
			[]string{"emit Online→Unknown Close"},
			[]func(*harness) acts{doneOf(2, nil)},
			[][]string{{"disarm", "emit Terminated", "settled", "closed"}}, nil},
		{"R18 R16: during an Offline escalation", true, false,
			func(h *harness) { h.reach(resource.OfflinePending); h.advance(tPend); h.fire(); h.now = t0 },
			[]string{"emit OfflinePending→Unknown Close"},
			[]func(*harness) acts{doneOf(3, nil), doneOf(2, nil)},
			[][]string{{"disarm", "emit Terminated", "settled"}, {"closed"}}, []error{resource.ErrPendingTimeout}},
		{"R18 R5: Close waits for a running Control", false, true,
			func(h *harness) { h.startControl() },
			[]string{"cancel Control#1", "emit Offline→Unknown Close"},
			[]func(*harness) acts{doneOf(1, nil), doneOf(2, nil)},
			[][]string{{"start Close#2"}, {"closed"}}, nil},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			h := newHarness(t, r.term, r.closer)
			r.setup(h)
			h.now = t0
			a, err := h.close()
			wantErr(t, "close", err)
			wantActs(t, a, r.want...)
			if h.c.state != resource.Unknown || len(eventsOf(a)) != 1 {
				t.Fatalf("%v after close, events %q", h.c.state, actStrings(a))
			}
			for i, step := range r.steps {
				h.advance(time.Second)
				wantActs(t, step(h), r.wants[i]...)
			}
			if countKind(h.log, actClosed) != 1 || !h.c.closed || h.c.calls.len() > 0 {
				t.Fatalf("closed %d times, %d calls run", countKind(h.log, actClosed), h.c.calls.len())
			}
			wantErr(t, "lastErr", h.c.lastErr(), r.last...)
			// R18: a second Close is a no-op; every entry point is closed.
			if a, err := h.close(); len(a) > 0 || err != nil {
				t.Fatalf("second close: %q, %v", actStrings(a), err)
			}
			checkClosed(t, h)
		})
	}
}

func doneOf(id callID, err error) func(*harness) acts {
	return func(h *harness) acts { a, _ := h.done(id, err); return a }
}

// fireDeadline fires the armed deadline at its time.
func fireDeadline(h *harness) acts { h.now = h.deadline; return h.fire() }

// checkClosed checks that every input of a closed core is refused or
// ignored (R18).
func checkClosed(t *testing.T, h *harness) {
	t.Helper()
	before := snapCore(h.c)
	for _, op := range []resource.Op{resource.OpOnline, resource.OpOffline} {
		a, err := h.request(op)
		wantErr(t, "request after close", err, resource.ErrClosed)
		wantActs(t, a)
	}
	if a, wait, err := h.terminate(); len(a) > 0 || wait || !errors.Is(err, resource.ErrClosed) {
		t.Fatalf("terminate after close: %q, %v, %v", actStrings(a), wait, err)
	}
	if a, _, err := h.startProbe(); len(a) > 0 || !errors.Is(err, resource.ErrClosed) {
		t.Fatalf("probe after close: %q, %v", actStrings(a), err)
	}
	if a, _, err := h.startControl(); len(a) > 0 || !errors.Is(err, resource.ErrClosed) {
		t.Fatalf("control after close: %q, %v", actStrings(a), err)
	}
	if _, _, ok := h.startCheck(resource.OpIsAlive); ok {
		t.Fatal("a check started after close")
	}
	wantActs(t, h.latch(errSick))
	wantActs(t, h.report(errSick))
	wantActs(t, h.probeResult(nil))
	if snapCore(h.c) != before {
		t.Fatalf("a closed core changed:\n before %+v\n after  %+v", before, snapCore(h.c))
	}
}

// TestCoreLatch: failures latch while Online, once per online period (R21);
// reports latch while Online and fail a pending Online (R23); maintenance
// records and never latches (R74).
func TestCoreLatch(t *testing.T) {
	type row struct {
		name  string
		term  bool
		setup func(h *harness)
		input func(h *harness) acts
		want  []string
		state resource.State
	}
	latch := func(h *harness) acts { return h.latch(errSick) }
	report := func(h *harness) acts { return h.report(errSick) }
	reach := func(s resource.State) func(*harness) { return func(h *harness) { h.reach(s) } }
	terminating := func(s resource.State) func(*harness) {
		return func(h *harness) { h.reach(s); h.terminate() }
	}
	waiting := func(h *harness) { // R14: OnlinePending, waiting for the abandoned #1
		h.mustRequest(resource.OpOnline)
		h.advance(tPend)
		h.fire()
		h.mustRequest(resource.OpOnline)
	}
	rows := []row{
		{"R21: latch while Online", false, reach(resource.Online), latch,
			[]string{"checks-off", "emit Online→Failed IsAlive"}, resource.Failed},
		{"R21 R15: latch abandons a running check", false,
			func(h *harness) { h.reach(resource.Online); h.startCheck(resource.OpLooksAlive) }, latch,
			[]string{"checks-off", "cancel LooksAlive#2", "emit Online→Failed IsAlive"}, resource.Failed},
		{"R21: latch in Offline is ignored", false, reach(resource.Offline), latch, nil, resource.Offline},
		{"R21: latch in OnlinePending is ignored", false, reach(resource.OnlinePending), latch, nil, resource.OnlinePending},
		{"R21: latch in OfflinePending is ignored", false, reach(resource.OfflinePending), latch, nil, resource.OfflinePending},
		{"R21: latch in Failed is ignored", false, reach(resource.Failed), latch, nil, resource.Failed},
		{"R21: latch in Unknown is ignored", false, reach(resource.Unknown), latch, nil, resource.Unknown},
		{"R21 R17: latch while Terminate runs on Online is ignored", true, terminating(resource.Online), latch, nil, resource.Online},
		{"R23: a report while Online latches", false, reach(resource.Online), report,
			[]string{"checks-off", "emit Online→Failed Report"}, resource.Failed},
		// The event names the operation that failed, Online, with the report's error.
		{"R23: a report fails a pending Online", false, reach(resource.OnlinePending), report,
			[]string{"cancel Online#1", "emit OnlinePending→Failed Online", "disarm", "settled"}, resource.Failed},
		{"R23 R14: a report fails an Online waiting for an abandoned call", false, waiting, report,
			[]string{"emit OnlinePending→Failed Online", "disarm", "settled"}, resource.Failed},
		{"R23: a report in Offline is ignored", false, reach(resource.Offline), report, nil, resource.Offline},
		{"R23: a report in OfflinePending is ignored", false, reach(resource.OfflinePending), report, nil, resource.OfflinePending},
		{"R23: a report in Failed is ignored", false, reach(resource.Failed), report, nil, resource.Failed},
		{"R23: a report in Unknown is ignored", false, reach(resource.Unknown), report, nil, resource.Unknown},
		{"R23 R17: a report while Terminate runs on OnlinePending is ignored", true, terminating(resource.OnlinePending), report, nil, resource.OnlinePending},
		{"R23 R17: a report while Terminate runs on Online is ignored", true, terminating(resource.Online), report, nil, resource.Online},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			h := newHarness(t, r.term, false)
			r.setup(h)
			h.advance(time.Second)
			a := r.input(h)
			wantActs(t, a, r.want...)
			if h.c.state != r.state {
				t.Fatalf("%v, want %v", h.c.state, r.state)
			}
			if len(r.want) > 0 {
				wantErr(t, "event", oneEvent(t, a, resource.StateChanged).Err, errSick)
				// R21: once; the second does nothing.
				wantActs(t, h.latch(errSick))
				wantActs(t, h.report(errSick))
			}
		})
	}
	t.Run("R21: once per online period, again in the next", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.reach(resource.Online)
		if !slices.Contains(actStrings(h.latch(errSick)), "emit Online→Failed IsAlive") || h.c.state != resource.Failed {
			t.Fatal("no latch")
		}
		wantActs(t, h.latch(errSick)) // R21: once
		h.mustRequest(resource.OpOnline)
		h.done(2, nil)
		wantActs(t, h.latch(errSick), "checks-off", "emit Online→Failed IsAlive")
	})
	t.Run("R74: maintenance records and never latches", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.reach(resource.Online)
		h.c.maintenance = true
		h.advance(time.Second)
		wantActs(t, h.latch(errSick))
		wantErr(t, "maintErr", h.c.maintErr(), errSick)
		if !h.c.checkStatus(resource.OpIsAlive, h.now).At.IsZero() {
			t.Fatal("a checker's latch overwrote the cached check result")
		}
		errOther := errors.New("reported")
		wantActs(t, h.report(errOther))
		wantErr(t, "maintErr", h.c.maintErr(), errOther)
		if r := h.c.checkStatus(resource.OpIsAlive, h.now); !errors.Is(r.Err, errOther) || !r.At.Equal(h.now) {
			t.Fatalf("R74 R22: a report in maintenance is not the cached result: %+v", r)
		}
		_, id, _ := h.startCheck(resource.OpLooksAlive)
		h.done(id, errSick)
		wantErr(t, "maintErr", h.c.maintErr(), errSick)
		_, id, _ = h.startCheck(resource.OpIsAlive)
		h.checkTimedOut(id, resource.ErrCheckTimeout)
		wantErr(t, "maintErr", h.c.maintErr(), resource.ErrCheckTimeout)
		if h.c.state != resource.Online {
			t.Fatalf("%v: latched in maintenance", h.c.state)
		}
		// Out of maintenance the next failure latches (R74).
		h.c.maintenance = false
		h.done(id, nil)
		wantActs(t, h.latch(errSick), "checks-off", "emit Online→Failed IsAlive")
		// R22: a new online period forgets maintErr.
		h.mustRequest(resource.OpOnline)
		h.done(h.c.opCall, nil)
		if h.c.maintErr() != nil || h.c.results != (checkResults{}) {
			t.Fatalf("maintErr %v, results %v", h.c.maintErr(), h.c.results)
		}
	})
}

// TestCoreStartCheck: a check starts only while Online with nothing but
// Control running, one at a time (R5, R15, R21).
func TestCoreStartCheck(t *testing.T) {
	rows := []struct {
		name  string
		term  bool
		setup func(h *harness)
		ok    bool
	}{
		{"R5: Offline", false, func(h *harness) {}, false},
		{"R5: OnlinePending", false, func(h *harness) { h.reach(resource.OnlinePending) }, false},
		{"R21: Online and idle", false, func(h *harness) { h.reach(resource.Online) }, true},
		{"R21: Online in maintenance", false, func(h *harness) { h.reach(resource.Online); h.c.maintenance = true }, true},
		{"R5: Online, a check runs", false, func(h *harness) { h.reach(resource.Online); h.startCheck(resource.OpIsAlive) }, false},
		{"R5 R14: Online, an abandoned check runs", false, func(h *harness) {
			h.reach(resource.Online)
			_, id, _ := h.startCheck(resource.OpIsAlive)
			h.checkTimedOut(id, resource.ErrCheckTimeout)
		}, false},
		{"R5: Online, the abandoned check returned", false, func(h *harness) {
			h.reach(resource.Online)
			_, id, _ := h.startCheck(resource.OpIsAlive)
			h.checkTimedOut(id, resource.ErrCheckTimeout)
			h.done(id, nil)
		}, true},
		{"R5: Online, a Control runs", false, func(h *harness) { h.reach(resource.Online); h.startControl() }, true},
		{"R5 R17: Online while the Terminator runs", true, func(h *harness) { h.reach(resource.Online); h.terminate() }, false},
		{"R15: OfflinePending", false, func(h *harness) { h.reach(resource.OfflinePending) }, false},
		{"R21: Failed", false, func(h *harness) { h.reach(resource.Failed) }, false},
		{"R18: Unknown", false, func(h *harness) { h.reach(resource.Unknown) }, false},
		{"R7: Online by Probe", false, func(h *harness) {
			_, id, _ := h.startProbe()
			h.done(id, nil)
			h.probeResult(nil)
		}, true},
	}
	for _, r := range rows {
		for _, op := range []resource.Op{resource.OpIsAlive, resource.OpLooksAlive} {
			t.Run(r.name+"/"+op.String(), func(t *testing.T) {
				h := newHarness(t, r.term, false)
				r.setup(h)
				before := h.c.calls.len()
				a, id, ok := h.startCheck(op)
				if ok != r.ok {
					t.Fatalf("startCheck ok=%v, want %v", ok, r.ok)
				}
				if !ok {
					if len(a) > 0 || id != 0 || h.c.calls.len() != before {
						t.Fatalf("a refused check: %q, %d", actStrings(a), id)
					}
					return
				}
				wantActs(t, a, fmt.Sprintf("start %v#%d", op, id))
				// R21: one at a time.
				if _, _, ok := h.startCheck(resource.OpIsAlive); ok {
					t.Fatal("a second check started")
				}
			})
		}
	}
}

// TestCoreCheckResults: check results are cached (R22).
func TestCoreCheckResults(t *testing.T) {
	h := newHarness(t, false, false)
	h.reach(resource.Online)
	// R22: a successful Online counts as a pass until the first check.
	if h.c.results != (checkResults{}) {
		t.Fatalf("results %v after Online", h.c.results)
	}
	h.advance(time.Second)
	_, id, _ := h.startCheck(resource.OpIsAlive)
	h.advance(time.Second)
	if _, counts := h.done(id, errSick); !counts {
		t.Fatal("a check's return does not count")
	}
	if r := h.c.checkStatus(resource.OpIsAlive, h.now); !errors.Is(r.Err, errSick) || !r.At.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("IsAlive result %+v", r)
	}
	if h.c.state != resource.Online {
		t.Fatal("R21: a failed check latched by itself; latching is the checker's")
	}
	_, id, _ = h.startCheck(resource.OpLooksAlive)
	h.advance(time.Second)
	h.done(id, nil)
	if r := h.c.checkStatus(resource.OpLooksAlive, h.now); r.At.IsZero() || r.Err != nil || !r.At.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("LooksAlive result %+v", r)
	}

	// R21 R22: a time-out is cached and the check abandoned.
	_, id, _ = h.startCheck(resource.OpIsAlive)
	h.advance(time.Second)
	errTO := fmt.Errorf("IsAlive: %w", resource.ErrCheckTimeout)
	wantActs(t, h.checkTimedOut(id, errTO), fmt.Sprintf("cancel IsAlive#%d", id))
	if r := h.c.checkStatus(resource.OpIsAlive, h.now); !errors.Is(r.Err, resource.ErrCheckTimeout) || !r.At.Equal(t0.Add(4*time.Second)) {
		t.Fatalf("IsAlive result %+v", r)
	}
	wantActs(t, h.checkTimedOut(id, errTO)) // once
	wantActs(t, h.checkTimedOut(99, errTO)) // no such call
	h.advance(time.Second)
	if a, counts := h.done(id, nil); counts || len(a) > 0 {
		t.Fatalf("the abandoned check's return: %q, %v", actStrings(a), counts)
	}
	if r := h.c.checkStatus(resource.OpIsAlive, h.now); !errors.Is(r.Err, resource.ErrCheckTimeout) {
		t.Fatalf("R22: a late return replaced the time-out: %+v", r)
	}

	// R22: entering Online resets the results.
	h.latch(errSick)
	h.mustRequest(resource.OpOnline)
	h.done(h.c.opCall, nil)
	if h.c.results != (checkResults{}) {
		t.Fatalf("R22: results %v in a new online period", h.c.results)
	}
}

// TestCoreProbe: Probe asks an Offline resource whether it runs (R7).
func TestCoreProbe(t *testing.T) {
	rows := []struct {
		name  string
		err   error
		want  []string
		state resource.State
	}{
		{"R7: running: Online", nil, []string{"checks-on", "emit Offline→Online Probe"}, resource.Online},
		{"R7: ErrNotRunning: stays Offline", fmt.Errorf("stopped: %w", resource.ErrNotRunning), nil, resource.Offline},
		{"R7: another error: Failed", errBoom, []string{"emit Offline→Failed Probe"}, resource.Failed},
		{"R7 R21: a time-out: Failed", fmt.Errorf("IsAlive: %w", resource.ErrCheckTimeout), []string{"emit Offline→Failed Probe"}, resource.Failed},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			h := newHarness(t, false, false)
			a, id, err := h.startProbe()
			wantErr(t, "startProbe", err)
			wantActs(t, a, "start Probe#1")
			h.advance(time.Second)
			a, counts := h.done(id, r.err)
			if !counts || len(a) > 0 {
				t.Fatalf("the probe's return: %q, %v", actStrings(a), counts)
			}
			a = h.probeResult(r.err)
			wantActs(t, a, r.want...)
			if h.c.state != r.state {
				t.Fatalf("%v, want %v", h.c.state, r.state)
			}
			if r.state == resource.Failed {
				wantErr(t, "event", oneEvent(t, a, resource.StateChanged).Err, r.err)
			}
		})
	}
	refused := []struct {
		name  string
		term  bool
		setup func(h *harness)
		want  error
	}{
		{"R7: OnlinePending", false, func(h *harness) { h.reach(resource.OnlinePending) }, resource.ErrInvalidTransition},
		{"R7: Online", false, func(h *harness) { h.reach(resource.Online) }, resource.ErrInvalidTransition},
		{"R7: OfflinePending", false, func(h *harness) { h.reach(resource.OfflinePending) }, resource.ErrInvalidTransition},
		{"R7: Failed", false, func(h *harness) { h.reach(resource.Failed) }, resource.ErrInvalidTransition},
		{"R7 R18: Unknown", false, func(h *harness) { h.reach(resource.Unknown) }, resource.ErrClosed},
		{"R7 R5: a probe runs", false, func(h *harness) { h.startProbe() }, resource.ErrWorkerStuck},
		{"R7 R14: an abandoned worker runs", false, func(h *harness) { h.reach(resource.OnlinePending); h.terminate() }, resource.ErrWorkerStuck},
	}
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) {
			h := newHarness(t, r.term, false)
			r.setup(h)
			before := snapCore(h.c)
			a, id, err := h.startProbe()
			wantErr(t, "startProbe", err, r.want)
			if len(a) > 0 || id != 0 || snapCore(h.c) != before {
				t.Fatalf("a refused probe changed something: %q, %d", actStrings(a), id)
			}
		})
	}
	t.Run("R7 R17: refused while a Terminator runs on Offline", func(t *testing.T) {
		h := newHarness(t, true, false)
		h.reach(resource.OnlinePending)
		h.terminate()
		h.done(2, nil) // Offline; Online#1 abandoned and running
		if _, wait, _ := h.terminate(); !wait {
			t.Fatal("no Terminator runs")
		}
		_, _, err := h.startProbe()
		wantErr(t, "startProbe", err, resource.ErrWorkerStuck)
	})
	t.Run("R7 R5: allowed beside a Control", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.startControl()
		a, _, err := h.startProbe()
		wantErr(t, "startProbe", err)
		wantActs(t, a, "start Probe#2")
	})
	t.Run("R7 R14: an Online started meanwhile wins", func(t *testing.T) {
		h := newHarness(t, false, false)
		_, id, _ := h.startProbe()
		// R14: the Probe is abandoned; the Online waits for it to return.
		wantActs(t, h.mustRequest(resource.OpOnline), "cancel Probe#1", "emit Offline→OnlinePending Online", "arm 10s")
		h.advance(time.Second)
		a, _ := h.done(id, nil)
		wantActs(t, a, "start Online#2")
		wantActs(t, h.probeResult(nil))
		wantActs(t, h.probeResult(errBoom))
		if h.c.state != resource.OnlinePending {
			t.Fatalf("%v", h.c.state)
		}
	})
	t.Run("R7 R11: a probe abandoned by its caller counts as running until it returns", func(t *testing.T) {
		h := newHarness(t, false, false)
		_, id, _ := h.startProbe()
		wantActs(t, h.abandonCall(id), "cancel Probe#1")
		wantActs(t, h.abandonCall(id))
		_, _, err := h.startProbe()
		wantErr(t, "startProbe", err, resource.ErrWorkerStuck)
		if a, counts := h.done(id, context.Canceled); counts || len(a) > 0 {
			t.Fatalf("%q, %v", actStrings(a), counts)
		}
		if _, _, err := h.startProbe(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCoreControl: Control may run beside a pending operation and never
// holds one back (R5); it is refused after Close (R18).
func TestCoreControl(t *testing.T) {
	t.Run("R5: during a pending Online", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.reach(resource.OnlinePending)
		a, id, err := h.startControl()
		wantErr(t, "startControl", err)
		wantActs(t, a, "start Control#2")
		a, _ = h.done(1, nil)
		wantActs(t, a, "checks-on", "emit OnlinePending→Online Online", "disarm", "settled")
		a, counts := h.done(id, errBoom)
		if !counts || len(a) > 0 || h.c.state != resource.Online {
			t.Fatalf("%q, %v, %v", actStrings(a), counts, h.c.state)
		}
	})
	for _, op := range []resource.Op{resource.OpOnline, resource.OpOffline} {
		t.Run("R5: does not hold "+op.String()+" back", func(t *testing.T) {
			h := newHarness(t, false, false)
			if op == resource.OpOffline {
				h.reach(resource.Online)
			}
			_, id, _ := h.startControl()
			a := h.mustRequest(op)
			if startedID(t, a, op) != id+1 {
				t.Fatalf("%q", actStrings(a))
			}
		})
	}
	t.Run("R5: an abandoned Control does not hold Online back", func(t *testing.T) {
		h := newHarness(t, false, false)
		_, id, _ := h.startControl()
		wantActs(t, h.abandonCall(id), "cancel Control#1")
		wantActs(t, h.abandonCall(id))
		wantActs(t, h.abandonCall(77))
		startedID(t, h.mustRequest(resource.OpOnline), resource.OpOnline)
		if a, counts := h.done(id, nil); counts || len(a) > 0 {
			t.Fatalf("%q, %v", actStrings(a), counts)
		}
	})
	t.Run("R5: during an escalation", func(t *testing.T) {
		h := newHarness(t, true, false)
		h.reach(resource.OfflinePending)
		h.advance(tPend)
		h.fire()
		if _, _, err := h.startControl(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("R18: refused after Close", func(t *testing.T) {
		h := newHarness(t, false, false)
		h.reach(resource.Unknown)
		_, _, err := h.startControl()
		wantErr(t, "startControl", err, resource.ErrClosed)
	})
}

// fuzzer feeds a core random inputs as the shell would.
type fuzzer struct {
	h      *harness
	r      *rand.Rand
	probes map[callID]*probeCall // Probe calls whose caller still waits
}

// probeCall is a Probe's caller: it applies the result once the call
// resolved (returned or timed out), unless its context ended first.
type probeCall struct {
	resolved bool
	err      error
}

var fuzzErrs = []error{
	nil, nil, errBoom, fmt.Errorf("stopped: %w", resource.ErrNotRunning), context.Canceled,
	fmt.Errorf("IsAlive: %w", resource.ErrPanic),
}

var fuzzTimings = []timing{
	stdTiming(),
	{pending: resource.Never, maxPend: resource.Never, terminate: tTerm},
	{pending: tPend, maxPend: resource.Never, terminate: resource.Never},
	{pending: 3 * time.Second, maxPend: 3 * time.Second, terminate: time.Second},
	{pending: 20 * time.Second, maxPend: 200 * time.Second, terminate: 30 * time.Second},
}

// pick returns a random running call that keep accepts, or false.
func (f *fuzzer) pick(keep func(call) bool) (call, bool) {
	var ids []callID
	for id, k := range f.h.live {
		if keep(k) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return call{}, false
	}
	slices.Sort(ids)
	return f.h.live[ids[f.r.IntN(len(ids))]], true
}

func (f *fuzzer) resolveProbe(id callID, err error) {
	if p := f.probes[id]; p != nil && !p.resolved {
		p.resolved, p.err = true, err
	}
}

func isWorker(k call) bool { return k.lane == laneMain && k.op != resource.OpProbe }

// inputs is every input of the core, with a weight.
func (f *fuzzer) inputs() []struct {
	w  int
	fn func()
} {
	h, r := f.h, f.r
	type in = struct {
		w  int
		fn func()
	}
	return []in{
		{4, func() { h.request(resource.OpOnline) }},
		{4, func() { h.request(resource.OpOffline) }},
		{4, func() { h.advance(time.Duration(r.IntN(12000)) * time.Millisecond) }},
		{4, func() { // the armed timer fires, at or after its time
			if h.armed {
				if h.now.Before(h.deadline) {
					h.now = h.deadline
				}
				h.fire()
			}
		}},
		{1, func() { // a stale timer fires
			for _, g := range []uint64{h.c.gen - 1, h.c.gen + 1, h.gen - 1} {
				if h.armed && g == h.gen {
					continue
				}
				if a := h.fireGen(g); len(a) > 0 {
					h.failf("R11: a stale deadline (gen %d, current %d) acted: %q", g, h.c.gen, actStrings(a))
				}
			}
		}},
		{8, func() { // a call returns
			if k, ok := f.pick(func(call) bool { return true }); ok {
				err := fuzzErrs[r.IntN(len(fuzzErrs))]
				h.done(k.id, err)
				f.resolveProbe(k.id, err)
			}
		}},
		{1, func() { h.done(h.c.nextID+callID(r.IntN(5))+1, errBoom) }},
		{2, func() { h.terminate() }},
		{1, func() { h.close() }},
		{3, func() { // a worker, abandoned or not, reports progress
			if k, ok := f.pick(isWorker); ok {
				h.progress(k.id)
			}
		}},
		{1, func() {
			if k, ok := f.pick(isWorker); ok {
				h.waitWithoutTimeout(k.id)
			}
		}},
		{2, func() { h.latch(errSick) }},
		{2, func() { h.report(errSick) }},
		{5, func() {
			op := resource.OpIsAlive
			if r.IntN(2) == 0 {
				op = resource.OpLooksAlive
			}
			h.startCheck(op)
		}},
		{2, func() { // a check's or probe's time-out
			if k, ok := f.pick(func(k call) bool { return k.lane == laneCheck || k.op == resource.OpProbe }); ok {
				err := fmt.Errorf("%v: %w", k.op, resource.ErrCheckTimeout)
				h.checkTimedOut(k.id, err)
				f.resolveProbe(k.id, err)
			}
		}},
		{3, func() {
			if _, id, err := h.startProbe(); err == nil {
				f.probes[id] = &probeCall{}
			}
		}},
		{3, func() { // a Probe's caller applies the result
			for _, id := range slices.Sorted(mapsKeys(f.probes)) {
				if p := f.probes[id]; p.resolved {
					delete(f.probes, id)
					h.probeResult(p.err)
					return
				}
			}
		}},
		{2, func() { h.startControl() }},
		{1, func() { // a Probe's or Control's caller gives up
			if k, ok := f.pick(func(k call) bool { return k.lane == laneControl || k.op == resource.OpProbe }); ok {
				h.abandonCall(k.id)
				delete(f.probes, k.id)
			}
		}},
		{1, func() { // SetMaintenance
			h.c.maintenance = !h.c.maintenance
			if h.c.maintenance {
				h.c.setMaintErr(nil)
			}
			h.apply(fmt.Sprintf("maintenance=%v", h.c.maintenance), nil)
		}},
		{1, func() { // SetPolicy
			tm := fuzzTimings[r.IntN(len(fuzzTimings))] // a copy: tests change their harness's timing
			h.c.timing = &tm
			h.apply(fmt.Sprintf("timing=%+v", *h.c.timing), nil)
		}},
	}
}

func mapsKeys(m map[callID]*probeCall) func(func(callID) bool) {
	return func(yield func(callID) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// drain lets every call return and every deadline fire; afterwards nothing
// may be pending, running or armed, and a closing core must be closed.
func (f *fuzzer) drain() {
	h := f.h
	for i := 0; ; i++ {
		if i > 1000 {
			h.failf("drain does not end")
		}
		if k, ok := f.pick(func(call) bool { return true }); ok {
			h.advance(time.Second)
			h.done(k.id, nil)
			continue
		}
		if h.armed {
			h.now = h.deadline
			h.fire()
			continue
		}
		break
	}
	c := h.c
	if c.phase != phaseIdle || c.armed || c.calls.len() > 0 || c.state.Pending() || (c.state == resource.Unknown && !c.closed) {
		h.failf("after drain: %v, phase %d, armed %v, %d calls, closed %v", c.state, c.phase, c.armed, c.calls.len(), c.closed)
	}
}

// TestCoreRandom applies random input sequences and checks the invariants
// after each step (harness.apply, coreInvariants): every state event is a
// legal move (R2) chained to the one before, sequence numbers go up by one
// (R4), the core never panics, main-lane and check calls start alone (R5,
// R14), Close runs once after every other call (R18); and once every call
// returned and every deadline fired, nothing is left pending.
func TestCoreRandom(t *testing.T) {
	const seeds, steps = 150, 200
	for _, term := range []bool{false, true} {
		for _, closer := range []bool{false, true} {
			for ti, tm := range fuzzTimings[:3] {
				t.Run(fmt.Sprintf("terminator=%v/closer=%v/timing=%d", term, closer, ti), func(t *testing.T) {
					for seed := uint64(1); seed <= seeds; seed++ {
						h := newHarnessTiming(t, tm, term, closer)
						h.trace = append(h.trace, fmt.Sprintf("seed %d", seed))
						f := &fuzzer{h: h, r: rand.New(rand.NewPCG(seed, uint64(ti))), probes: map[callID]*probeCall{}}
						ins := f.inputs()
						total := 0
						for _, in := range ins {
							total += in.w
						}
						for range steps {
							n := f.r.IntN(total)
							for _, in := range ins {
								if n -= in.w; n < 0 {
									f.guard(in.fn)
									break
								}
							}
						}
						f.guard(f.drain)
					}
				})
			}
		}
	}
}

// guard fails the test, with the inputs that led there, if fn panics.
func (f *fuzzer) guard(fn func()) {
	defer func() {
		if p := recover(); p != nil {
			f.h.failf("the core panicked: %v", p)
		}
	}()
	fn()
}

// The tests below pin bugs the core once had (found by these tests).

// TestCoreProbeAfterTerminate: Terminate cancels a running Probe and
// leaves the resource Offline (R17), but the Probe's caller then applies
// the cancelled IsAlive's error through probeResult, which moves the
// resource Offline→Failed: the return of an abandoned call is acted on
// (R11), and Terminate's "leaves the resource Offline" does not hold.
func TestCoreProbeAfterTerminate(t *testing.T) {
	for _, term := range []bool{false, true} {
		t.Run(fmt.Sprintf("terminator=%v", term), func(t *testing.T) {
			h := newHarness(t, term, false)
			_, id, _ := h.startProbe()
			a, wait, _ := h.terminate()
			if actIndex(a, "cancel Probe#1") < 0 {
				t.Fatalf("Terminate does not cancel the probe: %q", actStrings(a))
			}
			// The probe's IsAlive sees its context cancelled and returns.
			h.done(id, context.Canceled)
			if wait {
				h.done(h.c.opCall, nil)
			}
			// The shell's Probe then applies r.result, as it does with any result.
			wantActs(t, h.probeResult(context.Canceled))
			if h.c.state != resource.Offline {
				t.Fatalf("R17: %v after Terminate, want Offline", h.c.state)
			}
		})
	}
}

// TestCoreOfflineJoinWhileTerminating: R3 makes Offline on an
// OfflinePending or Offline resource a join (nil error, no change, Wait
// waits for what is pending); request refuses every request while a
// Terminator runs, so an Offline during the R16 escalation of a hung
// Offline — the same Offline operation, still OfflinePending — is refused
// with ErrInvalidTransition, and so is one on an Offline resource whose
// Terminate runs.
func TestCoreOfflineJoinWhileTerminating(t *testing.T) {
	rows := []struct {
		name  string
		setup func(h *harness)
	}{
		{"R3 R16: during the escalation of a hung Offline", func(h *harness) {
			h.reach(resource.OfflinePending)
			h.advance(tPend)
			h.fire()
		}},
		{"R3 R17: OfflinePending while a caller's Terminate runs", func(h *harness) {
			h.reach(resource.OfflinePending)
			h.terminate()
		}},
		{"R3 R17: Offline while a caller's Terminate runs", func(h *harness) {
			h.reach(resource.OnlinePending)
			h.terminate()
			h.done(2, nil) // Offline; the abandoned Online#1 runs
			h.terminate()
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			h := newHarness(t, true, false)
			r.setup(h)
			before := snapCore(h.c)
			a, err := h.request(resource.OpOffline)
			wantErr(t, "R3: Offline joins", err)
			wantActs(t, a)
			if snapCore(h.c) != before {
				t.Fatal("a join changed the core")
			}
		})
	}
}

// TestCoreTerminatorNotBesideProbe: a Probe's IsAlive that an Online waits
// for (R14) is not abandoned when that Online fails with ErrWorkerStuck; a
// later Offline then escalates (R16) and starts the Terminator beside an
// IsAlive that is neither abandoned nor cancelled — R5 lets Terminate run
// only beside abandoned calls. (Reachable when CheckTimeout, which bounds
// Probe, exceeds PendingTimeout or is resource.Never.)
func TestCoreTerminatorNotBesideProbe(t *testing.T) {
	h := newHarness(t, true, false)
	_, id, _ := h.startProbe() // CheckTimeout Never: it may run for ever
	h.mustRequest(resource.OpOnline)
	h.advance(tPend)
	wantErr(t, "R14", oneEvent(t, h.fire(), resource.StateChanged).Err, resource.ErrWorkerStuck)
	h.mustRequest(resource.OpOffline)
	h.advance(tPend)
	a := h.fire() // the harness fails here: Terminate#2 starts while Probe#1 runs
	if k := h.c.calls.get(id); k != nil && !k.abandoned {
		t.Fatalf("R5: %q with the probe not abandoned", actStrings(a))
	}
}
