package wrapper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// Wrapper is the engine around one resource: EXRES.DLL's role. It runs every
// entry point of the resource in a goroutine of its own (a scheduled check
// on the checker's worker), under the contract's time-outs, and keeps the
// resource's state by the transition table (R2). It is safe for concurrent
// use.
//
// A Wrapper at rest (Offline, Online with nothing running, Failed) owns no
// goroutine and no timer: deadlines and time-outs are entries in the
// checker's timer heap (its own scheduler's when the checker is not a
// healthcheck.Scheduler on the same clock), made while an operation or a
// call runs, and a goroutine exists only while a call into the resource
// runs.
type Wrapper struct {
	res     resource.Resource
	obs     Observer // nil: nobody listens
	release resource.Release

	mu         sync.Mutex               // guards everything below
	core       core                     // the state: one record with the wrapper (issue 10: bytes per resource); core.env is what it shares with its host's other wrappers
	policy     *resolved                // shared by the wrappers with the same policy (policies); replaced, never changed
	running    runningSet               // the shell's side of each call the core tracks
	timer      *healthcheck.Timer       // the operation deadline, nil when none is armed
	reg        healthcheck.Registration // while checking
	rare       *rare                    // made when first needed
	props      properties.Values        // the current property values (R58)
	outbox     *outbox                  // events not yet delivered; nil when none
	propsDirty bool                     // new values the resource has not been told of yet
	delivering bool                     // a goroutine is draining outbox
	slowLater  bool                     // exec leaves a call's cancellation to its steps (deadline)
}

// rare is the wrapper's state that only Control, SetProperties, CheckNow,
// Wait, Terminate and Close use: one pointer until one of them is called
// (issue 10: bytes per resource). Its fields are guarded by Wrapper.mu;
// ctlSem and fresh, once made, are used without it.
type rare struct {
	ctlSem      chan struct{}     // one Control or ApplyProperties at a time (R5); held until the call returns; made at the first
	fresh       healthcheck.Fresh // R25: fresh checks share one run
	settled     *settlement       // the current busy period's end; nil until somebody waits for it
	closed      chan struct{}     // closed once the resource's Close has run; made when first needed
	closing     chan struct{}     // closed when Close is called; made when first needed
	closeCalled bool              // Close was called: closing is closed
}

// rareLocked returns w.rare, making it. Called with w.mu held.
func (w *Wrapper) rareLocked() *rare {
	if w.rare == nil {
		w.rare = new(rare)
	}
	return w.rare
}

// env is what a wrapper takes from its host and, interned, shares with the
// host's other wrappers: most of a node's resources have the same clock,
// logger, checker, gate and schema, and one copy for all saves ~60 bytes
// per resource (issue 10). Never changed once made.
type env struct {
	envKey
	// epoch is what the core's stamps count from: the clock's reading
	// when this env was made. It is not part of the key, or wrappers made
	// at different times would not share their env.
	epoch time.Time
}

// envKey is what makes two envs one: the key of envs.
type envKey struct {
	clock   clock.Clock
	logger  *slog.Logger // without the resource's name: Wrapper.log adds it
	checker healthcheck.Checker
	gate    Gate
	schema  *properties.Schema
	// timeouts is whose heap times the checks and probes out: the
	// checker, when it is a Scheduler on the same clock, else one of the
	// wrapper's own (and so its env is its own).
	timeouts *healthcheck.Scheduler
}

var discard = slog.New(slog.DiscardHandler)

// envs hands out one *env per distinct value, shared by the wrappers that
// have it, and forgets it when the last is collected. It holds weak
// pointers, so an env and what it refers to (a clock, a checker) live as
// long as some wrapper has it, and no longer. (unique.Make does the same
// but hands out a Handle whose Value copies the whole env onto the stack
// of every caller: seventy bytes of frame under each check, which made
// fresh goroutines grow their stacks.)
var envs = struct {
	sync.Mutex
	m map[envKey]weak.Pointer[env]
}{m: make(map[envKey]weak.Pointer[env])}

// intern returns the shared *env of k, making it (with its epoch, now)
// when there is none.
func intern(k envKey) *env {
	now := k.clock.Now() // not under envs' lock: a clock is the host's code
	envs.Lock()
	defer envs.Unlock()
	if p := envs.m[k].Value(); p != nil {
		return p
	}
	p := &env{envKey: k, epoch: now}
	envs.m[k] = weak.Make(p)
	runtime.AddCleanup(p, forgetEnv, k)
	return p
}

// forgetEnv drops k's entry once its env was collected, unless a new one
// took its place.
func forgetEnv(k envKey) {
	envs.Lock()
	defer envs.Unlock()
	if envs.m[k].Value() == nil {
		delete(envs.m, k)
	}
}

// stamp is an instant of a wrapper's clock in one word, where a time.Time
// takes three (issue 10: bytes per resource): the nanoseconds from its
// env's epoch to the instant (by the monotonic readings, on a real clock),
// plus 2^63, so that the zero stamp, like the zero time.Time, stands for
// no instant, and stamps order as their instants do. It is read back
// through a later reading of the clock, moved by the time between the two:
// a mock clock's instant, which has no monotonic reading, comes back
// exactly as it went in (in the location of the clock's time then); a real
// clock's, with its monotonic reading, and the wall reading the clock
// gives it now (a step of the wall clock after the instant is in it; after
// the epoch alone would be too). It spans 292 years either side of the
// epoch; an instant beyond is clamped, as Time.Sub clamps.
type stamp uint64

const stampBias = 1 << 63

// stampOf returns t as a stamp.
func (e *env) stampOf(t time.Time) stamp { return stamp(uint64(t.Sub(e.epoch)) + stampBias) }

// timeOf returns the instant s, read through now, a reading of e's clock;
// the zero time for the zero stamp.
func (e *env) timeOf(s stamp, now time.Time) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(s - e.stampOf(now))) // the stamps' difference, in two's complement
}

// internable reports whether v, an interface value, is surely comparable,
// as a map key needs: nil, or a pointer.
func internable(v any) bool {
	return v == nil || reflect.TypeOf(v).Kind() == reflect.Pointer
}

// The boxes of values that are not pointers (see New).
type (
	boxedClock   struct{ clock.Clock }
	boxedChecker struct{ healthcheck.Checker }
	boxedGate    struct{ Gate }
)

func (w *Wrapper) clock() clock.Clock              { return w.core.env.clock }
func (w *Wrapper) checker() healthcheck.Checker    { return w.core.env.checker }
func (w *Wrapper) gate() Gate                      { return w.core.env.gate }
func (w *Wrapper) schema() *properties.Schema      { return w.core.env.schema }
func (w *Wrapper) terminator() resource.Terminator { t, _ := w.res.(resource.Terminator); return t }
func (w *Wrapper) looks() resource.LooksAliver     { l, _ := w.res.(resource.LooksAliver); return l }
func (w *Wrapper) closer() io.Closer               { c, _ := w.res.(io.Closer); return c }
func (w *Wrapper) controller() resource.Controller { c, _ := w.res.(resource.Controller); return c }
func (w *Wrapper) owner() resource.PropertyOwner   { o, _ := w.res.(resource.PropertyOwner); return o }

// log logs msg with the resource's name, at level, when the logger takes
// that level: the logger with the name is made per record, not kept per
// wrapper (issue 10), and records are rare.
func (w *Wrapper) log(level slog.Level, msg string, args ...any) {
	l := w.core.env.logger
	if !l.Enabled(context.Background(), level) {
		return
	}
	l.With("resource", w.core.name).Log(context.Background(), level, msg, args...)
}

// runningSet is the calls that run, as the shell sees them: a handful at
// most, linked through the records (one word per wrapper; issue 10). Its
// zero value is empty.
type runningSet struct{ head *running }

// add appends r, which is in no set.
func (s *runningSet) add(r *running) {
	p := &s.head
	for *p != nil {
		p = &(*p).next
	}
	*p = r
}

// get returns the running call id, or nil.
func (s *runningSet) get(id callID) *running {
	for r := s.head; r != nil; r = r.next {
		if r.call.id == id {
			return r
		}
	}
	return nil
}

// remove drops r.
func (s *runningSet) remove(r *running) {
	for p := &s.head; *p != nil; p = &(*p).next {
		if *p == r {
			*p, r.next = r.next, nil
			return
		}
	}
}

// all yields the running calls in the order they started.
func (s *runningSet) all() iter.Seq[*running] {
	return func(yield func(*running) bool) {
		for r := s.head; r != nil; {
			next := r.next
			if !yield(r) {
				return
			}
			r = next
		}
	}
}

// settlement is one busy period's end: done is closed when it ends, and err
// is written before.
type settlement struct {
	done chan struct{}
	err  error
}

func (s *settlement) close() { close(s.done) }

// running is the shell's side of one call: its context, what it runs, and
// how its outcome is handed on.
type running struct {
	call    call
	cc      *callCtx                        // cancelled when the engine stops waiting, or the call returns; made per call, as a resource may keep it after returning
	ctx     context.Context                 // what the call gets: cc, with an operation's worker hooks around it
	fn      func(ctx context.Context) error // nil: the call's op says what to run
	label   *label                          // labels the goroutine running it, for Abandoned (R35)
	entered atomic.Bool                     // its goroutine has called into the resource

	resolved chan struct{}     // closed by resolve: the first of return and time-out; made when first waited for, under Wrapper.mu
	result   error             // written once, before resolved is closed
	done     healthcheck.Done  // told the result by resolve: a scheduled check's tick, or the one tick sharing a fresh check; a value, no allocation per check (issue 10); guarded by Wrapper.mu; zero once resolved
	fresh    bool              // a check CheckNow started (R25)
	shared   bool              // a tick already shares this fresh check
	pending  bool              // tracked and not yet resolved; guarded by Wrapper.mu
	timeout  healthcheck.Timer // a check's or probe's time-out, on the wrapper's timeouts heap: in the call's record, so an idle wrapper keeps none (issue 10)
	timeFor  time.Duration     // its length while armed; 0 when not armed (guarded by Wrapper.mu)
	w        *Wrapper          // whose call it is, for OnTimer
	next     *running          // the next in Wrapper.running
	timedOut error             // set under Wrapper.mu when that time-out fired

	isResolved bool // resolve ran; guarded by Wrapper.mu
}

// resolve records the call's outcome, the first time, and hands it to
// r.done. It reports whether somebody may wait on the resolved channel (or
// read the result): true unless this call resolved r and nobody had asked
// for the channel. w.mu must not be held.
func (r *running) resolve(w *Wrapper, err error) (waited bool) {
	w.mu.Lock()
	done, waited := r.resolveLocked(err)
	w.mu.Unlock()
	done.Report(err) // nothing when there is none
	return waited
}

// resolveLocked is resolve under w.mu, which its caller holds: it returns
// the Done the caller reports err to once it released the lock (the zero
// Done, which reports nothing, when r was resolved before or has none).
// A check resolves in the same lock round as its return (finish), one
// fewer per check than resolve (issue 10).
func (r *running) resolveLocked(err error) (done healthcheck.Done, waited bool) {
	if r.isResolved {
		return healthcheck.Done{}, true
	}
	r.isResolved = true
	r.result = err
	waited = r.resolved != nil
	signal(&r.resolved)
	done = r.done
	r.done, r.pending = healthcheck.Done{}, false
	return done, waited
}

// New wraps res. The wrapper starts Offline, without an event (R2). If res
// implements resource.FailureNotifier it is handed its report function here
// (R23).
func New(res resource.Resource, opts Options) (*Wrapper, error) {
	if res == nil {
		return nil, fmt.Errorf("wrapper: New: the resource is nil: %w", resource.ErrInvalidOption)
	}
	pol, err := opts.Policy.resolve()
	if err != nil {
		return nil, fmt.Errorf("wrapper: New: Policy.%w", err)
	}
	obs, err := opts.observer()
	if err != nil {
		return nil, fmt.Errorf("wrapper: New: %w", err)
	}
	e := envKey{clock: opts.Clock, logger: opts.Logger, checker: opts.Checker, gate: opts.Gate, schema: opts.Schema}
	if e.clock == nil {
		e.clock = clock.New()
	}
	if e.logger == nil {
		e.logger = discard // one for all: envs differing only by it are one
	}
	if e.checker == nil {
		e.checker = healthcheck.New(healthcheck.Options{Clock: e.clock, Logger: e.logger})
	}
	// A value that is not a pointer goes in a box of its own: comparable,
	// and so the wrapper's env is its own.
	if !internable(e.clock) {
		e.clock = &boxedClock{e.clock}
	}
	if !internable(e.checker) {
		e.checker = &boxedChecker{e.checker}
	}
	if !internable(e.gate) {
		e.gate = &boxedGate{e.gate}
	}
	// Call time-outs go on the scheduler's heap, which costs no runtime
	// timer per wrapper (issue 10); on its own one when the checker is
	// something else or runs on another clock.
	if s, ok := e.checker.(*healthcheck.Scheduler); ok && s.Clock() == e.clock {
		e.timeouts = s
	} else {
		e.timeouts = healthcheck.New(healthcheck.Options{Clock: e.clock, Logger: e.logger})
	}
	name := opts.Name
	if name == "" {
		name = "resource"
	}
	w := &Wrapper{
		res:     res,
		obs:     obs,
		release: opts.Release,
		policy:  policies.Get(pol),
		props:   opts.Properties.Clone(),
	}
	w.core = newCore(name, intern(e), &w.policy.timing, w.terminator() != nil, w.closer() != nil)
	w.core.gated = e.gate != nil
	if n, ok := res.(resource.FailureNotifier); ok {
		n.SetFailureReporter(w.report)
	}
	return w, nil
}

// Name returns the resource's name.
func (w *Wrapper) Name() string { return w.core.name }

// Resource returns the wrapped resource.
func (w *Wrapper) Resource() resource.Resource { return w.res }

// State returns the resource's state.
func (w *Wrapper) State() resource.State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.core.state
}

// policies shares one resolved policy among the wrappers that have it: most
// of a node's resources have the same (issue 10: bytes per resource).
var policies policyCache

// maxSharedPolicies is how many distinct policies policies keeps; past
// those each wrapper gets its own copy, so churn cannot grow it.
const maxSharedPolicies = 64

// policyCache hands out one *resolved per distinct policy. Callers must not
// change what a returned pointer points to. Safe for concurrent use. (The
// monitor has its own, internal/intern: DESIGN keeps wrapper's imports to
// resource and healthcheck.)
type policyCache struct {
	mu sync.Mutex
	m  map[resolved]*resolved
}

// Get returns the shared copy of p.
func (c *policyCache) Get(p resolved) *resolved {
	c.mu.Lock()
	defer c.mu.Unlock()
	if shared, ok := c.m[p]; ok {
		return shared
	}
	// A copy, made here: returning &p would move p to the heap on every
	// call, a hit included.
	q := new(resolved)
	*q = p
	if len(c.m) >= maxSharedPolicies {
		return q
	}
	if c.m == nil {
		c.m = make(map[resolved]*resolved)
	}
	c.m[p] = q
	return q
}

// step is one thing exec defers until the lock is released: a function to
// call, a call whose goroutine to start, or a note: a call's cancellation
// (deadline), or a notice for the observer. A note is data where a closure
// would cost an allocation on a time-out's path (issue 10).
type step struct {
	fn   func()
	run  *running // the call to start, or, noteCancel, to cancel
	at   stamp    // noteAbandoned: when the call was abandoned
	op   resource.Op
	note note
}

// note says what a step that is not a function or a start does.
type note uint8

const (
	noNote        note = iota
	noteCancel         // cancel run's call, before the events are delivered
	noteAbandoned      // Observer.Abandoned(op, at)
	noteReturned       // Observer.Returned(op)
)

// steps is what exec defers, in order.
type steps []step

// stepsLen is the room steps start with: most core steps defer one (a
// call's start); a time-out's decision defers two, and grows them once.
const stepsLen = 1

// push appends s. Not inlined, nor is add: their callers include finish,
// at the bottom of a call's goroutine, whose small stack a larger frame
// there made grow on every call (issue 10).
//
//go:noinline
func (l *steps) push(s step) {
	if *l == nil {
		*l = make(steps, 0, stepsLen)
	}
	*l = append(*l, s)
}

// add appends a function to call.
//
//go:noinline
func (l *steps) add(f func()) { l.push(step{fn: f}) }

// exec carries out the actions of one core step. The caller holds w.mu;
// exec returns what must happen after the lock is released, which the caller
// runs with after.
func (w *Wrapper) exec(a acts) (later steps) {
	defer a.free() // nothing refers to the actions after: the steps copy what they need
	// The rare actions are methods of their own: exec runs on every
	// check's goroutine, and a small frame here keeps that goroutine's
	// stack from growing (issue 10).
	for i := range a {
		x := &a[i]
		switch x.kind {
		case actStart:
			later.push(step{run: w.start(*x.call)})
		case actCancel:
			w.execCancel(x, &later)
		case actEnqueue:
			w.execEnqueue(x, &later)
		case actLeave:
			later.add(w.gate().Leave)
		case actArm:
			w.execArm(x)
		case actDisarm:
			w.stopTimer()
		case actEmit:
			w.execEmit(x.ev)
		case actChecksOn:
			if w.reg == nil {
				w.register()
			}
		case actChecksOff:
			if w.reg != nil {
				w.reg.Unregister()
				w.reg = nil
			}
		case actSettled:
			if s := w.settledLocked(); s != nil { // somebody waits
				s.err = w.core.lastErr()
				w.rare.settled = nil
				later.add(s.close) // after the events are out: Wait returns after them
			}
		case actClosed:
			later.add(w.closedStep)
		}
	}
	return later
}

func (w *Wrapper) execCancel(x *action, later *steps) {
	r := w.running.get(x.call.id)
	if r == nil {
		return
	}
	if w.slowLater {
		later.push(step{run: r, note: noteCancel})
	} else {
		r.cc.cancel()
	}
	if x.call.lane == laneMain && x.call.op != resource.OpProbe {
		w.log(slog.LevelWarn, "call abandoned", "op", x.call.op, "state", w.core.state)
	}
	if w.obs != nil {
		later.push(step{op: x.call.op, at: x.call.abandonedAt, note: noteAbandoned}) // its time is read when it is delivered, off the decision's path
	}
}

func (w *Wrapper) execEnqueue(x *action, later *steps) {
	token := x.gen
	later.add(func() {
		w.gate().Enter(func() {
			w.input(func(now time.Time) acts { return w.core.admitted(token, now) })
		})
	})
}

func (w *Wrapper) execArm(x *action) {
	w.stopTimer()
	gen := x.gen
	// On the timeouts heap, made per operation: no runtime timer, and
	// nothing kept while no operation is pending (issue 10).
	e := w.core.env
	w.timer = new(healthcheck.Timer)
	e.timeouts.Arm(w.timer, x.at.Sub(e.clock.Now()), func(uint64) { w.deadline(gen) })
}

func (w *Wrapper) execEmit(ev *resource.Event) {
	if w.outbox == nil {
		w.outbox = outboxes.Get().(*outbox)
	}
	w.outbox.evs = append(w.outbox.evs, ev) // the core's own copy: no second one per event (issue 10)
	if ev.Err != nil {
		w.log(slog.LevelInfo, "event", "op", ev.Op, "state", ev.To, "kind", ev.Kind, "err", ev.Err)
	}
}

func (w *Wrapper) register() {
	// The wrapper is its own target: a pointer in the interface, no
	// allocation (issue 10). Ticks and failures of this registration count
	// while w.reg is it, which is this online period (checkTarget).
	w.reg = w.checker().Register((*checkTarget)(w), w.policy.checks)
}

// closedStep runs once the resource's Close has: the release, then Close's
// return (R18, R41).
func (w *Wrapper) closedStep() {
	if w.release != nil {
		if err := resource.Recover(resource.OpClose, w.release); err != nil {
			w.log(slog.LevelWarn, "release failed", "op", resource.OpClose, "err", err)
		}
	}
	w.mu.Lock()
	signal(&w.rareLocked().closed)
	w.mu.Unlock()
}

func (w *Wrapper) stopTimer() {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// after cancels the calls exec left to it (deadline), delivers the events,
// then runs what exec deferred (starting goroutines, waking Wait), outside
// the lock: so a caller of Online, or of Wait, sees the events before it
// returns, unless another goroutine is delivering at that moment (then
// they follow at once, in order).
func (w *Wrapper) after(later steps) {
	for i := range later {
		if s := &later[i]; s.note == noteCancel {
			s.run.cc.cancel() // an abandoned call's record, which is not used again
		}
	}
	w.deliver()
	for i := range later {
		switch s := &later[i]; {
		case s.note != noNote:
			w.notify(s)
		case s.run != nil:
			go w.run(s.run)
		case s.fn != nil:
			s.fn()
		}
	}
}

// notify tells the observer what s notes. Not inlined: after runs at the
// bottom of a call's goroutine, whose small stack a larger frame there
// made grow on every call (issue 10).
//
//go:noinline
func (w *Wrapper) notify(s *step) {
	switch s.note {
	case noteAbandoned:
		e := w.core.env
		w.obs.Abandoned(s.op, e.timeOf(s.at, e.clock.Now()))
	case noteReturned:
		w.obs.Returned(s.op)
	}
}

// settlement returns the current busy period's end, making it when the
// first waiter asks. Called with w.mu held.
func (w *Wrapper) settlement() *settlement {
	rr := w.rareLocked()
	if rr.settled == nil {
		rr.settled = &settlement{done: make(chan struct{})}
	}
	return rr.settled
}

// settledLocked returns the settlement somebody waits for, or nil. Called
// with w.mu held.
func (w *Wrapper) settledLocked() *settlement {
	if w.rare == nil {
		return nil
	}
	return w.rare.settled
}

// input runs f (a core input) under the lock, and its actions.
func (w *Wrapper) input(f func(now time.Time) acts) {
	w.mu.Lock()
	later := w.exec(f(w.clock().Now()))
	w.mu.Unlock()
	w.after(later)
}

// deliver hands queued events to the sink, in order, one goroutine at a
// time, never under the lock (R4).
func (w *Wrapper) deliver() {
	w.mu.Lock()
	if w.delivering || w.outbox == nil {
		w.mu.Unlock()
		return
	}
	w.delivering = true
	for w.outbox != nil {
		box := w.outbox
		w.outbox = nil
		w.mu.Unlock()
		w.sinkAll(box.evs)
		box.put()
		w.mu.Lock()
	}
	w.delivering = false
	w.mu.Unlock()
}

// outbox is the events a wrapper has not delivered yet, in sequence order;
// each emitted once and not changed after. A wrapper has one only while it
// has such events: an idle one keeps a nil pointer, not a slice (issue 10:
// bytes per resource), and the boxes, with their arrays, are used again.
type outbox struct{ evs []*resource.Event }

// outboxes holds the emptied outboxes, for the next events of any wrapper.
var outboxes = sync.Pool{New: func() any { return new(outbox) }}

// maxKeptOutbox is the most events an outbox kept for reuse has room for:
// a burst's large array is let go.
const maxKeptOutbox = 64

// put empties b, which nothing else reaches, and keeps it for reuse, with
// its events, which have been delivered (the sink got copies).
func (b *outbox) put() {
	for _, e := range b.evs {
		*e = resource.Event{} // what it pointed to is not kept
		events.Put(e)
	}
	if cap(b.evs) > maxKeptOutbox {
		return
	}
	clear(b.evs)
	b.evs = b.evs[:0]
	outboxes.Put(b)
}

// sinkAll hands evs to the sink. If the sink panics, delivery is handed
// back before the panic goes on, so later events still flow.
func (w *Wrapper) sinkAll(evs []*resource.Event) {
	if w.obs == nil {
		return
	}
	defer w.sinkPanicked()
	for _, e := range evs {
		w.obs.Event(*e)
	}
}

// sinkPanicked, deferred by sinkAll, ends the delivery when the observer
// panicked and lets the panic go on. A method, not a closure: sinkAll runs
// at the bottom of each call goroutine's stack, and a smaller frame there
// keeps the stack from growing (issue 10).
func (w *Wrapper) sinkPanicked() {
	if p := recover(); p != nil {
		w.mu.Lock()
		w.delivering = false
		w.mu.Unlock()
		panic(p)
	}
}

// start prepares the call k under the lock and returns it; its goroutine
// starts after the lock is released (after).
func (w *Wrapper) start(k call) *running {
	r := &running{call: k}
	w.track(r)
	return r
}

// track makes r, whose call is set, one of the running calls. Called with
// w.mu held.
func (w *Wrapper) track(r *running) {
	r.pending = true
	r.label = getLabel()
	r.cc = new(callCtx)
	r.ctx = r.cc
	if k := &r.call; k.lane == laneMain && k.op != resource.OpProbe {
		r.ctx = resource.WithWorkerHooks(r.ctx, hooks{w: w, id: k.id})
	}
	w.running.add(r)
}

// run is the goroutine of one call. Its owner is the wrapper: it ends when
// the resource's entry point returns, and the core stops waiting for it
// when it is abandoned (R11, R14).
func (w *Wrapper) run(r *running) {
	pprof.SetGoroutineLabels(r.label.ctx)
	if testHookBeforeEnter != nil {
		testHookBeforeEnter(w, r.call.op)
	}
	r.entered.Store(true)
	w.finish(r, w.invoke(r))
}

// finish is the end of run, once the resource's entry point has returned
// err: a function of its own, so that run's frame, under the resource's
// call for as long as it runs, stays small (a call's goroutine starts with
// a small stack, which a deep one made grow on every call; issue 10).
//
//go:noinline
func (w *Wrapper) finish(r *running, err error) {
	pprof.SetGoroutineLabels(context.Background()) // what this goroutine starts next is not the call
	w.mu.Lock()
	if r.timedOut != nil {
		err = r.timedOut // it returned because its time-out cancelled it
	}
	k := w.core.calls.get(r.call.id)
	clean := k != nil && !k.abandoned
	if clean {
		putLabel(r.label) // never abandoned: no Abandoned has seen its tag
	}
	a, counts := w.core.callDone(r.call.id, err, w.clock().Now())
	w.running.remove(r)
	quiet := w.stopCallTimeout(r)
	r.cc.cancel()
	// A scheduled check's record is used again when nothing can reach it
	// any more: it was not abandoned, no firing of its time-out is on its
	// way, and (below) nobody waits on its resolution but the checker.
	recycle := clean && quiet && r.call.lane == laneCheck && !r.fresh
	later := w.exec(a)
	if !counts && w.obs != nil {
		later.push(step{op: r.call.op, note: noteReturned}) // an abandoned call returned (R35)
	}
	var done healthcheck.Done
	var waited bool
	control := r.call.lane == laneControl
	if !control {
		done, waited = r.resolveLocked(err)
	}
	idle := len(later) == 0 && w.outbox == nil // after would only take the lock to find no event
	w.mu.Unlock()
	if control {
		<-w.rare.ctlSem // R5: the next Control may start once this one returned; made by acquireControl before the call
		waited = r.resolve(w, err)
	} else {
		done.Report(err)
	}
	if !idle {
		w.after(later)
	}
	if recycle && !waited {
		putRunning(r)
	}
}

// runnings holds the records of scheduled checks that ended, for the next
// checks: a record is the one allocation a check made, and at 100 000
// checks a second it set how often the collector ran, which is what made
// checks late (issue 10: the late ones all fell in its mark phases).
var runnings = sync.Pool{New: func() any { return new(running) }}

// getRunning returns a zeroed record.
func getRunning() *running { return runnings.Get().(*running) }

// putRunning zeroes r, which nothing reaches any more, and keeps it for a
// later check.
func putRunning(r *running) {
	if testHookRecycle != nil {
		testHookRecycle(r)
	}
	*r = running{}
	runnings.Put(r)
}

// testHookRecycle, when set by a test, sees each record putRunning keeps.
var testHookRecycle func(r *running)

// panicked turns a recovered panic of an entry point into its error, and
// logs it with the stack (R6).
func (w *Wrapper) panicked(op resource.Op, v any) error {
	pe := &resource.PanicError{Op: op, Value: v, Stack: debug.Stack()}
	w.log(slog.LevelError, "entry point panicked", "op", op, "err", pe, "stack", string(pe.Stack))
	return pe
}

// testHookBeforeEnter, when set by a test, runs in a call's goroutine just
// before it calls into the resource: there a test can hold a goroutine that
// has started but not yet run, as an overloaded process does.
var testHookBeforeEnter func(w *Wrapper, op resource.Op)

// invoke runs what call r calls, turning a panic into a
// *resource.PanicError (R6). It calls the entry point directly, so a check
// allocates no closure or method value.
func (w *Wrapper) invoke(r *running) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = w.panicked(r.call.op, v)
		}
	}()
	if r.fn != nil {
		return r.fn(r.ctx)
	}
	switch r.call.op {
	case resource.OpOnline:
		return w.online(r.ctx)
	case resource.OpOffline:
		return w.res.Offline(r.ctx)
	case resource.OpIsAlive, resource.OpProbe:
		return w.res.IsAlive(r.ctx)
	case resource.OpLooksAlive:
		return w.looks().LooksAlive(r.ctx)
	case resource.OpTerminate:
		return w.terminator().Terminate(r.ctx)
	case resource.OpClose:
		return w.closer().Close()
	}
	return fmt.Errorf("wrapper: no entry point for %v", r.call.op)
}

// online runs the resource's Online, first telling it of property values
// it has not taken yet (R58).
func (w *Wrapper) online(ctx context.Context) error {
	if err := w.applyStored(ctx); err != nil {
		return err
	}
	return w.res.Online(ctx)
}

// applyStored hands the resource the property values it has not been told
// of yet, if it takes them (R58). Not inlined, so that online's frame stays
// small under the resource's Online.
//
//go:noinline
func (w *Wrapper) applyStored(ctx context.Context) error {
	w.mu.Lock()
	owner := w.owner()
	if !w.propsDirty || owner == nil {
		w.mu.Unlock()
		return nil
	}
	props := w.props.Clone()
	w.mu.Unlock()
	if err := owner.ApplyProperties(ctx, props); err != nil {
		return fmt.Errorf("applying the new property values: %w", err)
	}
	w.mu.Lock()
	if w.props.Equal(props) {
		w.propsDirty = false
	}
	w.mu.Unlock()
	return nil
}

// hooks is the engine's side of resource.Progress and
// resource.WaitWithoutTimeout for one worker (R12, R13).
type hooks struct {
	w  *Wrapper
	id callID
}

func (h hooks) Progress() {
	h.w.input(func(now time.Time) acts { return h.w.core.progress(h.id, now) })
}

func (h hooks) WaitWithoutTimeout() {
	h.w.input(func(time.Time) acts { return h.w.core.waitWithoutTimeout(h.id) })
}

// deadline is the operation deadline's timer callback.
//
// It decides at once, under the lock, and leaves the effects — the timed-out
// call's cancellation, the events' delivery, what starts next — to the
// scheduler's Later: when ten thousand operations share a deadline, their
// outcomes are decided, stamped and visible (State, Status) first, the
// slower effects after (Later lets one run after every 64 decisions at
// most), and the last decision is no longer late by all the effects before
// it (issue 10: the one-deadline time-outs). For a
// lone time-out nothing waits in between: a worker runs the effects next.
// The call's context is still cancelled before its events are delivered,
// as when exec cancels it at once.
func (w *Wrapper) deadline(gen uint64) {
	w.mu.Lock()
	if w.core.armed && w.core.gen == gen {
		w.timer = nil // the one that fired: off the heap, nothing to stop
	}
	w.slowLater = true
	later := w.exec(w.core.deadlineFired(gen, w.clock().Now()))
	w.slowLater = false
	effects := len(later) > 0 || w.outbox != nil
	w.mu.Unlock()
	if effects {
		w.core.env.timeouts.Later(func() { w.after(later) })
	}
}

// Online starts bringing the resource online and returns at once with the
// state it is in (R10): OnlinePending, with the deadline armed (R11), or
// Online or OnlinePending when it joins what is there (R3). Completion is
// an event; [Wrapper.Wait] waits for it. Online is refused with
// resource.ErrInvalidTransition while OfflinePending or while a Terminate
// runs, and with resource.ErrClosed after Close. A Probe
// that runs is abandoned: the Online decides, once the Probe returned.
func (w *Wrapper) Online() (resource.State, error) { return w.request(resource.OpOnline) }

// Offline starts taking the resource offline and returns at once with the
// state it is in (R10): OfflinePending, or Offline or OfflinePending on a
// join (R3). Health checking stops first (R15). If the resource's Offline
// does not return within PendingTimeout the wrapper escalates to its
// Terminator (R16); an Offline while that, or a caller's Terminate, runs
// joins it. Offline is refused while OnlinePending.
func (w *Wrapper) Offline() (resource.State, error) { return w.request(resource.OpOffline) }

func (w *Wrapper) request(op resource.Op) (resource.State, error) {
	w.mu.Lock()
	a, err := w.core.request(op, w.clock().Now())
	state := w.core.state
	later := w.exec(a)
	w.mu.Unlock()
	w.after(later)
	if err != nil {
		return state, fmt.Errorf("%s: %w", w.core.name, err)
	}
	return state, nil
}

// Wait returns once no operation is pending (R10) — nor a Terminate — with
// the last completed operation's error, or ctx's error if it ends first.
func (w *Wrapper) Wait(ctx context.Context) error {
	w.mu.Lock()
	if !w.core.busy() {
		err := w.core.lastErr()
		w.mu.Unlock()
		return err
	}
	s := w.settlement()
	w.mu.Unlock()
	select {
	case <-s.done:
		return s.err
	case <-ctx.Done():
		return fmt.Errorf("%s: wait: %w", w.core.name, ctx.Err())
	}
}

// Terminate stops the resource by force (R17): it cancels any running
// worker's context, stops health checking, calls the resource's Terminator
// when it has one, waiting at most TerminateTimeout, and leaves the
// resource Offline — a Failed resource stays Failed. It emits a Terminated
// event carrying the Terminator's error, which it also returns; that error
// never changes the outcome. On an Offline resource with nothing running it
// does nothing. While a Terminate runs, Online is refused, and another
// Terminate or an Offline joins it (an Offline of a Failed resource, which
// Terminate leaves Failed, is refused). A Terminate during the escalation of
// a hung Offline (R16) joins that escalation, whose outcome the
// Terminator's result decides. If ctx ends first, Terminate returns its
// error and the termination goes on.
func (w *Wrapper) Terminate(ctx context.Context) error {
	w.mu.Lock()
	a, wait, err := w.core.terminate(w.clock().Now())
	var termErr error
	for _, x := range a {
		if x.kind == actEmit && x.ev.Kind == resource.Terminated {
			termErr = x.ev.Err
		}
	}
	var s *settlement
	if wait {
		s = w.settlement() // made only for a Terminate that waits (issue 10)
	}
	later := w.exec(a)
	w.mu.Unlock()
	w.after(later)
	if err != nil {
		return fmt.Errorf("%s: terminate: %w", w.core.name, err)
	}
	if !wait {
		return termErr
	}
	select {
	case <-s.done:
		return w.lastTerminateErr()
	case <-ctx.Done():
		return fmt.Errorf("%s: terminate: %w", w.core.name, ctx.Err())
	}
}

// lastTerminateErr returns the Terminator error of the last terminate phase.
func (w *Wrapper) lastTerminateErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.core.lastTermErr()
}

// Probe asks an Offline resource whether it is in fact running (R7): its
// IsAlive runs under CheckTimeout; nil makes the resource Online, an error
// wrapping resource.ErrNotRunning leaves it Offline, and any other error
// (a time-out included) makes it Failed. It returns the state and the
// IsAlive error. Probe is refused in other states, and while a call of the
// resource still runs (resource.ErrWorkerStuck). If ctx ends first, the
// call is abandoned and the state left as it is.
func (w *Wrapper) Probe(ctx context.Context) (resource.State, error) {
	w.mu.Lock()
	now := w.clock().Now()
	a, id, err := w.core.startProbe(now)
	if err != nil {
		state := w.core.state
		w.mu.Unlock()
		return state, fmt.Errorf("%s: probe: %w", w.core.name, err)
	}
	later := w.exec(a)
	r := w.running.get(id)
	w.armCallTimeout(r, now, w.policy.CheckTimeout)
	done := lazyChan(&r.resolved, 0)
	w.mu.Unlock()
	w.after(later)

	select {
	case <-done:
	case <-ctx.Done():
		w.input(func(now time.Time) acts { return w.core.abandonCall(id, now) })
		return w.State(), fmt.Errorf("%s: probe: %w", w.core.name, ctx.Err())
	}
	perr := r.result
	w.input(func(now time.Time) acts { return w.core.probeResult(id, perr, now) })
	if perr != nil {
		return w.State(), fmt.Errorf("%s: probe: %w", w.core.name, perr)
	}
	return w.State(), nil
}

// armCallTimeout arms the time-out of a check or probe that started at
// start, a reading of the wrapper's clock taken as it started (the zero
// time: now): when it fires, the call is abandoned and resolved with
// resource.ErrCheckTimeout (R21). Called with w.mu held.
func (w *Wrapper) armCallTimeout(r *running, start time.Time, d time.Duration) {
	if d == resource.Never {
		return
	}
	r.timeFor, r.w = d, w
	if start.IsZero() {
		w.core.env.timeouts.ArmHandler(&r.timeout, d, r) // r is the handler: no closure per check
		return
	}
	w.core.env.timeouts.ArmHandlerFrom(&r.timeout, start, d, r)
}

// OnTimer is r's time-out firing (healthcheck.TimerHandler): the call has
// not returned within its time-out, unless the firing is stale.
func (r *running) OnTimer(uint64) {
	w := r.w
	w.mu.Lock()
	d := r.timeFor
	if d == 0 { // stopped: the call returned while this firing was on its way
		w.mu.Unlock()
		return
	}
	r.timeFor = 0
	w.callTimedOut(r, d)
}

// stopCallTimeout stops r's time-out, when one is armed. Called with w.mu
// held.
func (w *Wrapper) stopCallTimeout(r *running) (quiet bool) {
	if r.timeFor == 0 {
		return true // not armed, or it fired and its handler ran
	}
	r.timeFor = 0 // a firing already on its way finds it so
	return r.timeout.Stop()
}

// callTimedOut abandons r, which has not returned within d, and resolves it
// with resource.ErrCheckTimeout (R21). Called with w.mu held; releases it.
func (w *Wrapper) callTimedOut(r *running, d time.Duration) {
	id, op := r.call.id, r.call.op
	err := &lateError{err: resource.ErrCheckTimeout, d: d, op: op}
	if w.running.get(id) == r {
		// Set before the call's context is cancelled, so a call that
		// returns because of the cancel resolves with the time-out.
		r.timedOut = err
	}
	later := w.exec(w.core.checkTimedOut(id, err, w.clock().Now()))
	done, _ := r.resolveLocked(err)
	w.mu.Unlock()
	done.Report(err)
	w.after(later)
}

// Close closes the resource (R18): the state is Unknown at once, health
// checking stops, what runs is terminated (the Terminator runs, under
// TerminateTimeout, unless the resource was Offline with nothing running),
// and the resource's Close runs once every call of the resource has
// returned, followed by Options.Release. Close returns when that is done,
// or with ctx's error if ctx ends first; the resource's Close then runs
// later, when the last call returns. After Close every entry point returns
// resource.ErrClosed; a second Close is a no-op.
func (w *Wrapper) Close(ctx context.Context) error {
	w.mu.Lock()
	rr := w.rareLocked()
	if !rr.closeCalled {
		rr.closeCalled = true
		signal(&rr.closing)
	}
	a, _ := w.core.close(w.clock().Now())
	later := w.exec(a)
	closed := lazyChan(&rr.closed, 0)
	w.mu.Unlock()
	w.after(later)
	select {
	case <-closed:
		w.mu.Lock()
		err := w.core.closeErr()
		w.core.setCloseErr(nil) // reported once; a later Close is a no-op
		w.mu.Unlock()
		if err != nil {
			return fmt.Errorf("%s: close: %w", w.core.name, err) // R19
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: close: the resource's Close waits for calls still running: %w", w.core.name, ctx.Err())
	}
}

// Closed returns a channel that is closed once the resource's Close has run
// (R18).
func (w *Wrapper) Closed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return lazyChan(&w.rareLocked().closed, 0)
}

// closedChan is a channel closed from the start: what a signal channel
// nobody asked for yet becomes when it is signalled.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// lazyChan returns *p, making it first if it is nil: the wrapper makes its
// channels when they are first needed, as most resources never need some
// of them. Called with w.mu held.
func lazyChan(p *chan struct{}, size int) chan struct{} {
	if *p == nil {
		*p = make(chan struct{}, size)
	}
	return *p
}

// signal closes *p, or makes it closedChan when nobody has asked for it
// yet. Called once per channel, with w.mu held.
func signal(p *chan struct{}) {
	if *p == nil {
		*p = closedChan
		return
	}
	close(*p)
}

// report is the resource.ReportFunc handed to a FailureNotifier (R23).
func (w *Wrapper) report(err error) {
	if err == nil {
		err = errors.New("the resource reported a failure")
	}
	w.input(func(now time.Time) acts { return w.core.report(err, now) })
}

// Control passes a resource-specific control code to the resource's
// Controller (R51). It may run while an operation is pending, but never
// beside another Control (R5); a panic in it is an error wrapping
// resource.ErrPanic (R6). It returns an error wrapping
// resource.ErrUnsupported when the resource has no Controller, and
// resource.ErrClosed after Close (R18). If ctx ends first, the call is
// abandoned; it counts as running until it returns.
func (w *Wrapper) Control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	if w.controller() == nil {
		if w.State() == resource.Unknown {
			return nil, fmt.Errorf("%s: control %#x: %w", w.core.name, code, resource.ErrClosed)
		}
		return nil, fmt.Errorf("%s: control %#x: the resource has no Controller: %w", w.core.name, code, resource.ErrUnsupported)
	}
	var out []byte
	err := w.control(ctx, resource.OpControl, func(ctx context.Context) error {
		var err error
		out, err = w.controller().Control(ctx, code, slices.Clone(in))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: control %#x: %w", w.core.name, code, err)
	}
	return out, nil
}

// control runs fn as a control-lane call and waits for it.
func (w *Wrapper) control(ctx context.Context, op resource.Op, fn func(context.Context) error) error {
	if err := w.acquireControl(ctx); err != nil {
		return err
	}
	return w.controlHeld(ctx, op, fn)
}

// acquireControl takes the control lane (R5), giving up with ctx, and with
// resource.ErrClosed once Close was called (R18): a hung Control must not
// keep callers waiting on a closed resource.
func (w *Wrapper) acquireControl(ctx context.Context) error {
	w.mu.Lock()
	rr := w.rareLocked()
	sem, closing := lazyChan(&rr.ctlSem, 1), lazyChan(&rr.closing, 0)
	w.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-closing:
		return resource.ErrClosed
	}
}

// controlHeld is control for a caller that holds the control lane; the
// lane is freed when the call returns (or at once if it cannot start).
func (w *Wrapper) controlHeld(ctx context.Context, op resource.Op, fn func(context.Context) error) error {
	w.mu.Lock()
	a, id, err := w.core.startControl(op, w.clock().Now())
	if err != nil {
		w.mu.Unlock()
		<-w.rare.ctlSem
		return err
	}
	later := w.exec(a)
	r := w.running.get(id)
	r.fn = fn
	done := lazyChan(&r.resolved, 0)
	w.mu.Unlock()
	w.after(later)
	select {
	case <-done:
		return r.result
	case <-ctx.Done():
		w.input(func(now time.Time) acts { return w.core.abandonCall(id, now) })
		return ctx.Err()
	}
}

// SetProperties gives the resource new property values: vals is the whole
// set (R58). The wrapper keeps them; when they differ from the current ones:
//
//   - while Online, if every changed property is reloadable in
//     Options.Schema and the resource implements resource.PropertyOwner, it
//     is told at once (under the rules of Control: R5, R6): nil means they
//     are in effect;
//   - otherwise, and when the resource declines, they are stored and take
//     effect at the next Online, which first hands them to the resource's
//     ApplyProperties: SetProperties then returns an error wrapping
//     properties.ErrStored while the resource is Online or OnlinePending,
//     and nil when it is not running.
//
// After Close it returns resource.ErrClosed (R18).
func (w *Wrapper) SetProperties(ctx context.Context, vals properties.Values) error {
	// Hold the control lane from the update to the apply, so concurrent
	// sets reach the resource in the order they are stored.
	if err := w.acquireControl(ctx); err != nil {
		return fmt.Errorf("%s: set properties: %w", w.core.name, err)
	}
	held := true
	defer func() {
		if held {
			<-w.rare.ctlSem
		}
	}()
	w.mu.Lock()
	state := w.core.state
	if state == resource.Unknown {
		w.mu.Unlock()
		return fmt.Errorf("%s: set properties: %w", w.core.name, resource.ErrClosed)
	}
	changed := changedNames(w.props, vals)
	if len(changed) == 0 {
		w.mu.Unlock()
		return nil
	}
	w.props = vals.Clone()
	w.propsDirty = true
	fixed := w.notReloadable(changed)
	w.mu.Unlock()

	running := state == resource.Online || state == resource.OnlinePending
	switch {
	case !running:
		return nil
	case state != resource.Online || w.owner() == nil || fixed != "":
		why := "the resource is " + state.String()
		if w.owner() == nil {
			why = "the resource does not take new values while running"
		} else if fixed != "" {
			why = fmt.Sprintf("property %q is not reloadable", fixed)
		}
		return fmt.Errorf("%s: set properties: %s: %w", w.core.name, why, properties.ErrStored)
	}
	held = false // the call takes the lane over and frees it when it returns
	err := w.controlHeld(ctx, resource.OpSetProperties, func(ctx context.Context) error {
		return w.owner().ApplyProperties(ctx, vals.Clone())
	})
	if err == nil {
		w.mu.Lock()
		if w.props.Equal(vals) {
			w.propsDirty = false
		}
		w.mu.Unlock()
		return nil
	}
	if errors.Is(err, properties.ErrStored) {
		return fmt.Errorf("%s: set properties: %w", w.core.name, err)
	}
	return fmt.Errorf("%s: set properties: the resource did not apply them (%w): %w", w.core.name, err, properties.ErrStored)
}

// Properties returns the current property values.
func (w *Wrapper) Properties() properties.Values {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.props.Clone()
}

// changedNames lists the names whose values differ between old and new.
func changedNames(old, new properties.Values) []string {
	var out []string
	for _, name := range new.Names() {
		a, had := old.Get(name)
		b, _ := new.Get(name)
		if !had || !valueEqual(a, b) {
			out = append(out, name)
		}
	}
	for _, name := range old.Names() {
		if !new.Has(name) {
			out = append(out, name)
		}
	}
	return out
}

func valueEqual(a, b any) bool {
	var x, y properties.Values
	_ = x.Set("v", a)
	_ = y.Set("v", b)
	return x.Equal(y)
}

// notReloadable returns the first of names that may not change while
// Online, or "".
func (w *Wrapper) notReloadable(names []string) string {
	for _, name := range names {
		if p, ok := w.schema().Lookup(name); !ok || !p.Reloadable {
			return name
		}
	}
	return ""
}

// AbandonedCall is a call into the resource that is still running after the
// engine stopped waiting for it (R14, R35).
type AbandonedCall struct {
	Op          resource.Op // the entry point
	Started     time.Time   // when it was called
	AbandonedAt time.Time   // when the engine stopped waiting
	Stack       []byte      // the goroutine's stack, when it could be found
}

// Abandoned lists the calls still running after being abandoned, oldest
// first: what the monitor's hang detection reports (R35).
func (w *Wrapper) Abandoned() []AbandonedCall {
	w.mu.Lock()
	calls := w.core.abandoned()
	ids := make([]uint64, len(calls))
	for i, k := range calls {
		if r := w.running.get(k.id); r != nil {
			ids[i] = r.label.tag
		}
	}
	e, now := w.core.env, w.clock().Now() // what the calls' stamps are read through
	w.mu.Unlock()
	out := make([]AbandonedCall, len(calls))
	stacks := goroutineStacks(ids)
	for i, k := range calls {
		out[i] = AbandonedCall{Op: k.op, Started: e.timeOf(k.started, now), AbandonedAt: e.timeOf(k.abandonedAt, now), Stack: stacks[ids[i]]}
	}
	slices.SortFunc(out, func(a, b AbandonedCall) int { return a.Started.Compare(b.Started) })
	return out
}

// SetPolicy changes the time-outs and check settings while the resource
// runs. A pending operation keeps the deadline it has; its progress reports
// (R13), the next operations and checks use the new values, and the check
// schedule keeps its phase. A bad value is refused with an error naming
// the field, and nothing changes.
func (w *Wrapper) SetPolicy(p Policy) error {
	pol, err := p.resolve()
	if err != nil {
		return fmt.Errorf("%s: SetPolicy: Policy.%w", w.core.name, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.policy = policies.Get(pol)
	w.core.timing = &w.policy.timing
	if w.reg != nil {
		w.reg.SetPolicy(pol.checks)
	}
	return nil
}

// Policy returns the policy in force, with its defaults filled in.
func (w *Wrapper) Policy() Policy {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.policy.Policy
}

// Emit adds an event of a kind that is not a state change (R4) to the
// resource's sequence: a host's failover request, deadlock or group event.
// The wrapper fills in the resource, the sequence number, the time and the
// state, and delivers it to the sink in order with its own events.
func (w *Wrapper) Emit(e resource.Event) error {
	switch e.Kind {
	case resource.FailoverRequested, resource.Deadlock, resource.GroupReadyToMove:
	default:
		return fmt.Errorf("%s: Emit: kind %v: allowed are FailoverRequested, Deadlock and GroupReadyToMove: %w", w.core.name, e.Kind, resource.ErrInvalidOption)
	}
	w.input(func(now time.Time) acts {
		var a acts
		w.core.emit(&a, now, &e) // e is this call's copy
		return a
	})
	return nil
}

// Status is a snapshot of a wrapper, for a host's status display (R36).
type Status struct {
	Name        string
	State       resource.State
	Pending     resource.Op // the pending operation, or OpNone
	Queued      bool        // it waits for the host's admission (R39)
	Deadline    time.Time   // its deadline, zero when none is armed
	Exempt      bool        // it waits without a time-out (R12)
	Terminating bool        // a Terminator runs for it
	LastErr     error       // the last completed operation's error
	IsAlive     CheckStatus // the last IsAlive check in this online period
	LooksAlive  CheckStatus // the last LooksAlive check
	Maintenance bool        // R74
	MaintErr    error       // the last failure recorded in maintenance
	Abandoned   int         // calls still running after being abandoned
	// OldestAbandoned is when the longest-abandoned call still running was
	// abandoned; zero when none runs (R35).
	OldestAbandoned time.Time
}

// CheckStatus is a cached check result; At is zero when none ran.
type CheckStatus struct {
	Err error
	At  time.Time
}

// Status returns a snapshot of the wrapper.
func (w *Wrapper) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.core
	now := w.clock().Now() // what the core's stamps are read through
	s := Status{
		Name: w.core.name, State: c.state, Exempt: c.exempt, Terminating: c.phase == phaseTerminating,
		LastErr: c.lastErr(), Maintenance: c.maintenance, MaintErr: c.maintErr(),
	}
	for _, k := range c.abandoned() {
		s.Abandoned++
		if at := c.env.timeOf(k.abandonedAt, now); s.OldestAbandoned.IsZero() || at.Before(s.OldestAbandoned) {
			s.OldestAbandoned = at
		}
	}
	if c.phase == phaseQueued || c.phase == phaseWaiting || c.phase == phaseRunning ||
		(c.phase == phaseTerminating && c.term == termEscalation) {
		s.Pending = c.op
	}
	s.Queued = c.phase == phaseQueued
	if c.armed {
		s.Deadline = c.deadlineTime(now)
	}
	s.IsAlive = c.checkStatus(resource.OpIsAlive, now)
	s.LooksAlive = c.checkStatus(resource.OpLooksAlive, now)
	return s
}
