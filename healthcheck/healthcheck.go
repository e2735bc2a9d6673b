package healthcheck

import (
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/resource"
)

// Defaults of [Policy] (R20, R24).
const (
	DefaultIsAliveInterval    = 60 * time.Second // Windows' IsAlivePollInterval
	DefaultLooksAliveInterval = 5 * time.Second  // Windows' LooksAlivePollInterval
	DefaultFailureThreshold   = 1
)

// Policy is how one target is checked. The zero value of each field means
// its default.
type Policy struct {
	// IsAliveInterval is the time between IsAlive checks (R20). Default
	// 60 s; EXRES uses 10 s. resource.Never turns IsAlive checks off.
	IsAliveInterval time.Duration
	// LooksAliveInterval is the time between LooksAlive checks, for targets
	// that have LooksAlive (R20). Default 5 s; resource.Never turns them
	// off.
	LooksAliveInterval time.Duration
	// FailureThreshold is how many failed checks in a row latch a failure
	// (R24). Default 1.
	FailureThreshold int
	// StartupGrace is how long after registration failed checks do not
	// count (R24). Default 0.
	StartupGrace time.Duration
}

// Resolve returns p with its defaults filled in, or an error naming the
// first field out of range.
func (p Policy) Resolve() (Policy, error) {
	var err error
	if p.IsAliveInterval, err = resource.DurationOption("IsAliveInterval", p.IsAliveInterval, DefaultIsAliveInterval, true, false); err != nil {
		return p, err
	}
	if p.LooksAliveInterval, err = resource.DurationOption("LooksAliveInterval", p.LooksAliveInterval, DefaultLooksAliveInterval, true, false); err != nil {
		return p, err
	}
	if p.StartupGrace < 0 {
		return p, fmt.Errorf("StartupGrace is %v: allowed is 0 or more: %w", p.StartupGrace, resource.ErrInvalidOption)
	}
	switch {
	case p.FailureThreshold == 0:
		p.FailureThreshold = DefaultFailureThreshold
	case p.FailureThreshold < 0:
		return p, fmt.Errorf("FailureThreshold is %d: allowed is 1 or more, or 0 for the default %d: %w",
			p.FailureThreshold, DefaultFailureThreshold, resource.ErrInvalidOption)
	}
	return p, nil
}

// Start is what Target.Check did with a tick.
type Start uint8

const (
	// Started: the check runs; its Done will be reported once.
	Started Start = iota
	// StillRunning: the previous check of the same kind still runs; the
	// tick starts none and counts as one more failed check (R21).
	StillRunning
	// Skipped: the target cannot be checked now for another reason (the
	// other kind of check runs, R5; an operation is pending; it is not
	// Online); the tick is neither a pass nor a failure.
	Skipped
)

// Target is what a Scheduler checks; package wrapper's Wrapper is one,
// registered once per online period.
//
// A tick or a failure may reach the target after its registration was
// unregistered (it was on its way). Check and Fail say which registration
// they come from, so that a target registered again since can refuse them:
// a check or a failure of an earlier registration must not count in a
// later one.
type Target interface {
	// HasLooksAlive reports whether the target has a LooksAlive check.
	HasLooksAlive() bool

	// Check runs one check of kind d.Op(), resource.OpIsAlive or
	// resource.OpLooksAlive, for the registration d.Registration(). It may
	// run it on the calling goroutine — the scheduler calls Check on a
	// worker that no other tick waits for, so a check that hangs holds up
	// nothing else — or hand it to another. When it returns Started it has
	// called, or will call, d.Report exactly once with the outcome: nil,
	// the check's error, or an error wrapping resource.ErrCheckTimeout when
	// the check did not return within the target's check timeout.
	// Otherwise it starts nothing and never calls d.Report. A check of a
	// registration the target no longer uses is Skipped.
	Check(d Done) Start

	// Fail hands the target a failure of registration reg: FailureThreshold
	// failed checks of kind op in a row outside the startup grace (R21,
	// R24). The target latches it, unless reg is a registration it no
	// longer uses.
	Fail(reg Registration, op resource.Op, err error)
}

// Done is how a check's outcome gets back to the registration that started
// it: the Checker hands one to Target.Check, and the target, when Check
// returned Started, calls Report exactly once. It is a small value, passed
// and kept by value: a Scheduler makes one per tick at no cost, where a
// function per registration would be an allocation (issue 10). The zero
// Done is of no registration, and its Report does nothing.
type Done struct {
	reg Registration // a Scheduler's *registration, or a Reporter (NewDone)
	op  resource.Op
}

// Reporter is a registration of a Checker other than Scheduler: it takes
// the outcomes of its checks from the Dones that NewDone makes for it.
type Reporter interface {
	Registration
	// ReportCheck receives the outcome of a check of kind op: what the
	// target passed to Done.Report.
	ReportCheck(op resource.Op, err error)
}

// NewDone returns the Done of a check of kind op that r's Checker hands to
// a Target: its Report calls r.ReportCheck. A Scheduler makes its own.
func NewDone(r Reporter, op resource.Op) Done { return Done{reg: r, op: op} }

// Op returns the kind of the check: resource.OpIsAlive or
// resource.OpLooksAlive.
func (d Done) Op() resource.Op { return d.op }

// Registration returns the registration whose check it is: what Register
// returned. A target compares it with the registration it has now.
func (d Done) Registration() Registration { return d.reg }

// Report hands the check's outcome to its registration: nil, the check's
// error, or one wrapping resource.ErrCheckTimeout. A target calls it once
// per Started check; a second call would count the check twice (and, under
// MaxConcurrentChecks, free a slot it does not hold).
func (d Done) Report(err error) {
	switch r := d.reg.(type) {
	case *registration:
		r.s.release()
		r.result(d.op, err)
	case Reporter:
		r.ReportCheck(d.op, err)
	}
}

// Checker is the scheduler side, as package wrapper sees it.
type Checker interface {
	// Register starts checking t under p until the registration is
	// unregistered. p must be resolved. A tick may reach t before
	// Register has returned: a target that compares registrations
	// (Target) records what Register returns under a lock that its Check
	// and Fail take, as package wrapper does.
	Register(t Target, p Policy) Registration
}

// Registration is one target's place in a Checker. Targets compare
// registrations with == (Target), so a Checker's registrations must be
// comparable, and distinct from one another while they are in use: a
// pointer each, as a Scheduler's are.
type Registration interface {
	// SetPolicy changes the intervals, threshold and grace; the next ticks
	// use them.
	SetPolicy(p Policy)
	// Unregister stops the checks: no tick arms or queues after it
	// returns, and results that come in later are dropped. A tick already
	// on its way may still call Check once; targets refuse checks from a
	// registration they no longer use. Calling it again does nothing.
	Unregister()
}

// Options configure a Scheduler.
type Options struct {
	// Clock is the clock ticks come from; nil means the real clock.
	Clock clock.Clock
	// Logger receives check failures at debug level; nil discards.
	Logger *slog.Logger
	// MaxConcurrentChecks bounds the checks running at once across all
	// targets; 0 means no bound. A tick that finds every slot taken waits
	// in a queue, in order. A check that times out frees its slot at once
	// (its target keeps tracking it until it returns), so a few hung
	// resources never stall the checks of the others.
	MaxConcurrentChecks int
}

// Scheduler runs checks on one timer from its clock, whatever the number
// of targets: a heap of their due ticks sets it for the earliest, and no
// goroutine runs between checks. It is safe for concurrent use, and its
// zero value is not usable: call [New].
type Scheduler struct {
	clock  clock.Clock
	logger *slog.Logger
	max    int       // MaxConcurrentChecks; 0: no bound
	epoch  time.Time // the heap's zero

	// policies holds one copy of each policy registrations have: a node's
	// targets mostly share one, and a pointer is a quarter of a Policy.
	policies policyCache

	tmu      sync.Mutex   // guards the heap, the timer and every alarm; taken after a registration's mu
	heap     []entry      // the armed alarms, earliest first (alarms.go)
	timer    *clock.Timer // set for heap[0]; nil until the first alarm
	timerAt  int64        // when timer is set for, if timerSet
	timerSet bool

	wmu      sync.Mutex   // guards ready, lows, sinceLow and free; taken after tmu
	ready    fifo[due]    // due ticks and firings waiting for a worker
	lows     fifo[func()] // what Later was handed, waiting for a worker
	sinceLow int          // ticks taken while lows waited, since one of them was
	free     int          // workers not inside a tick

	mu      sync.Mutex         // guards running, queue and inQueue
	running int                // checks holding a slot
	queue   []queuedTick       // ticks waiting for a slot, oldest first
	inQueue map[queuedKey]bool // what queue holds
}

type queuedTick struct {
	r  *registration
	op resource.Op
}

// queuedKey marks a (registration, kind) already in the queue, so a target
// waits there once however many of its ticks come.
type queuedKey struct {
	r *registration
	i int
}

// New returns a scheduler. A negative MaxConcurrentChecks is treated as 0.
func New(opts Options) *Scheduler {
	s := &Scheduler{clock: opts.Clock, logger: opts.Logger, max: max(opts.MaxConcurrentChecks, 0)}
	if s.clock == nil {
		s.clock = clock.New()
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.epoch = s.clock.Now()
	return s
}

// Clock returns the clock the scheduler runs on.
func (s *Scheduler) Clock() clock.Clock { return s.clock }

// Register implements [Checker]. The first IsAlive runs one IsAliveInterval
// after registration, the first LooksAlive one LooksAliveInterval after it.
func (s *Scheduler) Register(t Target, p Policy) Registration {
	r := s.newRegistration(t, p)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.arm(resource.OpIsAlive, 0, false)
	if t.HasLooksAlive() {
		r.arm(resource.OpLooksAlive, 0, false)
	}
	return r
}

// newRegistration returns a registration of t under p, not armed.
func (s *Scheduler) newRegistration(t Target, p Policy) *registration {
	r := &registration{s: s, t: t, policy: s.policies.get(p), since: s.now()}
	r.isAlive = alarm{owner: unsafe.Pointer(r), index: -1, op: resource.OpIsAlive}
	return r
}

// registration is one target's place in the timer heap and its failure
// counts: 80 bytes, a size class (issue 10; TestRegistrationSize). Its
// LooksAlive part is out of line, made when LooksAlive is first armed: most
// targets have none, or check it Never. What its checks report comes back
// through Done, which names it: it keeps no function per check.
type registration struct {
	isAlive alarm // IsAlive's; alarm says what guards what
	// policy is shared (Scheduler.policies): never changed through it. It
	// is replaced holding both mu and Scheduler.tmu, while no alarm of r
	// is in the heap (SetPolicy), and read holding either: the heap reads
	// an alarm's interval from it (alarm.every). Next to the alarm, as a
	// tick reads both.
	policy *Policy
	s      *Scheduler
	t      Target
	looks  *looks      // LooksAlive's, made by its first arm under mu and never changed; nil until then. Read under mu, or by a tick of its alarm (pushed after it was set)
	since  int64       // when checking began, on the heap's clock (Scheduler.now), for StartupGrace; never changed
	off    atomic.Bool // unregistered: set under mu; read without it by a tick already on its way, which then starts nothing

	mu       sync.Mutex    // guards failures and looks.failures (written under it, atomic so that a pass can read them without it), and policy with tmu
	failures atomic.Uint32 // IsAlive's failed checks in a row (R24); see result
}

// looks is a registration's LooksAlive part.
type looks struct {
	alarm    alarm         // alarm says what guards what
	failures atomic.Uint32 // failed checks in a row (R24); written under the registration's mu; see result
}

// alarmOf returns r's alarm of kind op, or nil when r has none (LooksAlive
// never armed).
func (r *registration) alarmOf(op resource.Op) *alarm {
	if op != resource.OpLooksAlive {
		return &r.isAlive
	}
	if r.looks == nil {
		return nil
	}
	return &r.looks.alarm
}

// failuresOf returns r's count of failed checks of kind op in a row, which
// has been armed. Written with r.mu held.
func (r *registration) failuresOf(op resource.Op) *atomic.Uint32 {
	if op == resource.OpLooksAlive {
		return &r.looks.failures
	}
	return &r.failures
}

func slot(op resource.Op) int {
	if op == resource.OpLooksAlive {
		return 1
	}
	return 0
}

// arm puts the alarm of kind op in the heap, due one interval after prev
// when hasPrev (the phase of the schedule it replaces), else one interval
// from now; a time already past is due at once. Called with r.mu held.
func (r *registration) arm(op resource.Op, prev int64, hasPrev bool) {
	d := intervalOf(*r.policy, op)
	if r.off.Load() || d <= 0 {
		return
	}
	if op == resource.OpLooksAlive && r.looks == nil {
		r.looks = &looks{alarm: alarm{owner: unsafe.Pointer(r), index: -1, op: op}}
	}
	s, a := r.s, r.alarmOf(op)
	s.tmu.Lock()
	defer s.tmu.Unlock()
	now := s.now()
	if !hasPrev {
		prev = now
	}
	s.remove(a)
	if s.push(a, max(later(prev, d), now)) {
		s.rearm(now)
	}
}

// disarm takes the alarm of kind op out of the heap and returns when its
// last tick was due (ok false when it was not armed). Called with r.mu
// held.
func (r *registration) disarm(op resource.Op) (last int64, ok bool) {
	s, a := r.s, r.alarmOf(op)
	if a == nil {
		return 0, false
	}
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if a.index < 0 {
		return 0, false
	}
	due := s.due(a)
	s.remove(a)
	return due - int64(a.every()), true
}

// tick is an alarm's tick, on a worker (alarms.go); the heap has already
// set the next (R21: the next tick is due whatever this one finds).
func (r *registration) tick(op resource.Op) {
	if r.off.Load() {
		return
	}
	r.s.run(r, op)
}

// run starts a check of r when a slot is free, or queues it.
func (s *Scheduler) run(r *registration, op resource.Op) {
	if s.max == 0 { // no bound: no slots to count
		r.check(op)
		return
	}
	s.mu.Lock()
	if s.max > 0 && s.running >= s.max {
		k := queuedKey{r, slot(op)}
		if !s.inQueue[k] {
			if s.inQueue == nil {
				s.inQueue = make(map[queuedKey]bool)
			}
			s.inQueue[k] = true
			s.queue = append(s.queue, queuedTick{r, op})
		}
		s.mu.Unlock()
		return
	}
	s.running++
	s.mu.Unlock()
	r.check(op)
}

// errStillRunning is what a tick that finds the previous check of its kind
// still running counts as (R21): made once, as a tick is no place to
// allocate.
var errStillRunning = [2]error{
	fmt.Errorf("%v: the previous check is still running: %w", resource.OpIsAlive, resource.ErrCheckTimeout),
	fmt.Errorf("%v: the previous check is still running: %w", resource.OpLooksAlive, resource.ErrCheckTimeout),
}

// release frees a slot and starts the oldest queued tick whose target is
// still registered.
func (s *Scheduler) release() {
	if s.max == 0 {
		return
	}
	s.mu.Lock()
	s.running--
	for len(s.queue) > 0 {
		q := s.queue[0]
		s.queue = s.queue[1:]
		delete(s.inQueue, queuedKey{q.r, slot(q.op)})
		if q.r.off.Load() {
			continue
		}
		s.running++
		s.mu.Unlock()
		// A goroutine of its own: release runs inside the done of the
		// check that ended, which Check may call on the goroutine that
		// ran it, and the next check may take as long as it likes.
		go q.r.check(q.op)
		return
	}
	s.mu.Unlock()
}

// check runs one check of r holding a slot, and frees the slot when the
// target reports the outcome (its return or its time-out) through the Done.
func (r *registration) check(op resource.Op) {
	switch r.t.Check(Done{reg: r, op: op}) {
	case StillRunning:
		r.s.release()
		// R21: the previous check is still running; this tick counts as
		// one more failed check.
		r.result(op, errStillRunning[slot(op)])
	case Skipped:
		r.s.release()
	}
}

// result counts one check's outcome and fails the target at the threshold.
func (r *registration) result(op resource.Op, err error) {
	failures := r.failuresOf(op)
	if err == nil && failures.Load() == 0 {
		// A pass with no failure to reset, the common case, takes no
		// lock (issue 10). A failure counted at the same time by another
		// tick of this kind is ordered after it, as the lock could have.
		return
	}
	r.mu.Lock()
	if r.off.Load() {
		r.mu.Unlock()
		return
	}
	if err == nil {
		failures.Store(0)
		r.mu.Unlock()
		return
	}
	if time.Duration(r.s.now()-r.since) < r.policy.StartupGrace {
		r.mu.Unlock() // R24: inside the grace failures do not count
		return
	}
	// The count stops at MaxUint32 rather than wrap: a threshold above it
	// (four billion failed checks in a row, over a DWORD property's range)
	// is never reached, where a wrapped count would restart at 0.
	n := failures.Load()
	if n < math.MaxUint32 {
		n++
	}
	threshold := r.policy.FailureThreshold
	fail := uint64(n) >= uint64(threshold)
	if fail {
		failures.Store(0)
	} else {
		failures.Store(n)
	}
	r.mu.Unlock()
	r.s.logger.Debug("health check failed", "op", op, "err", err, "failures", n, "threshold", threshold)
	if fail {
		r.t.Fail(r, op, err)
	}
}

func (r *registration) SetPolicy(p Policy) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.off.Load() {
		return
	}
	policy := r.s.policies.get(p)
	// Keep each schedule's phase: the next tick comes one new interval
	// after the last one was due, which the old interval says; and the
	// policy changes while no alarm of r is in the heap (registration).
	lastIsAlive, okIsAlive := r.disarm(resource.OpIsAlive)
	lastLooks, okLooks := r.disarm(resource.OpLooksAlive)
	r.s.tmu.Lock()
	r.policy = policy
	r.s.tmu.Unlock()
	r.arm(resource.OpIsAlive, lastIsAlive, okIsAlive)
	if r.t.HasLooksAlive() {
		r.arm(resource.OpLooksAlive, lastLooks, okLooks)
	}
}

func intervalOf(p Policy, op resource.Op) time.Duration {
	if op == resource.OpLooksAlive {
		return p.LooksAliveInterval
	}
	return p.IsAliveInterval
}

func (r *registration) Unregister() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.off.Store(true)
	r.disarm(resource.OpIsAlive)
	r.disarm(resource.OpLooksAlive)
}

// policyCache hands out one *Policy per distinct value: a node's
// thousands of registrations mostly have the same policy (issue 10). It
// keeps the first maxSharedPolicies; past those each registration gets its
// own copy, so churn cannot grow it. (A small copy of the monitor's
// internal/intern: DESIGN keeps healthcheck's imports to resource.) Safe
// for concurrent use; its zero value is ready.
type policyCache struct {
	mu sync.Mutex
	m  map[Policy]*Policy
}

// maxSharedPolicies is how many distinct policies a policyCache keeps.
const maxSharedPolicies = 64

// get returns the shared copy of p. Callers must not change what it
// points to.
func (c *policyCache) get(p Policy) *Policy {
	c.mu.Lock()
	defer c.mu.Unlock()
	if shared, ok := c.m[p]; ok {
		return shared
	}
	// A copy, made here: returning &p would move p to the heap on every
	// call, a hit included (an allocation per registration).
	q := new(Policy)
	*q = p
	if len(c.m) >= maxSharedPolicies {
		return q
	}
	if c.m == nil {
		c.m = make(map[Policy]*Policy)
	}
	c.m[p] = q
	return q
}
