package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/internal/intern"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// Errors of the monitor, wrapped with the resource or group they concern.
var (
	// ErrNoResource: no resource is hosted under the name.
	ErrNoResource = errors.New("monitor: no such resource")
	// ErrExists: a resource is already hosted under the name.
	ErrExists = errors.New("monitor: resource already hosted")
	// ErrUnknownType: no resource type is registered under the name.
	ErrUnknownType = errors.New("monitor: unknown resource type")
	// ErrShutdown: the monitor has been shut down (R38).
	ErrShutdown = errors.New("monitor: shut down")
	// ErrNoFailoverRequest: the group has no failover request to accept or
	// decline (R31).
	ErrNoFailoverRequest = errors.New("monitor: no failover request pending")
)

// DefaultSubscriptionSize is the queue size of a subscription made with
// size 0 (R36).
const DefaultSubscriptionSize = 1024

// Options configure a Monitor. The zero Options give a monitor on the real
// clock with an empty type registry and the contract's defaults.
type Options struct {
	// Clock drives every timer of the monitor and of its resources; nil
	// means the real clock.
	Clock clock.Clock
	// Logger receives failures, restarts, failover requests and deadlocks;
	// nil discards. Records carry the fields resource, op, state and err.
	Logger *slog.Logger
	// Types holds the resource types Add opens resources from; nil gives
	// the monitor an empty registry of its own (see RegisterType).
	Types *resource.Registry
	// DefaultPolicy is the policy of a resource added without one.
	DefaultPolicy Policy
	// DeadlockTimeout: a call abandoned for longer is reported as a
	// deadlock and quarantines its resource (R35). Default 300 s;
	// resource.Never turns hang detection off.
	DeadlockTimeout time.Duration
	// MaxConcurrentOps bounds the Online and Offline operations running at
	// once (R39): 0 means no bound; the others wait in a queue, showing
	// their pending state, marked queued in Status.
	MaxConcurrentOps int
	// MaxConcurrentChecks bounds the health checks running at once; 0
	// means no bound (see healthcheck.Options).
	MaxConcurrentChecks int
	// RestartJitter spreads restarts: each waits RestartDelay plus a random
	// part of up to RestartJitter (R39). Default 0.
	RestartJitter time.Duration
	// Rand returns a number in [0, n) for the jitter; nil uses math/rand/v2.
	// Tests pass a fixed one.
	Rand func(n int64) int64
	// Store is the cluster database: each resource's private properties
	// (namespace Parameters) and common properties (namespace Common) live
	// there under its name (R53, R57). nil gives the monitor an in-memory
	// store of its own; bboltstore.Open gives the embedded, crash-safe one.
	// The monitor does not close a store it was given.
	Store properties.Store
}

// Spec describes a resource to host.
type Spec struct {
	// Name is the resource's name, unique in the monitor. Required.
	Name string
	// Type is the name of a registered resource type. Required.
	Type string
	// Properties are its private property values (R40); the type's schema
	// fills in the defaults.
	Properties properties.Values
	// Group is the group it fails over with (R71); default its own name.
	Group string
	// DependsOn names resources of the same group, already hosted, that
	// must be Online before it starts (R70).
	DependsOn []string
	// Policy is its common properties; the zero Policy means the monitor's
	// DefaultPolicy.
	Policy Policy
}

// FailoverState is where a resource's failover request stands (R31, R34).
type FailoverState uint8

// The failover states.
const (
	FailoverNone      FailoverState = iota // no request
	FailoverRequested                      // asked; the cluster layer has not answered
	FailoverAccepted                       // accepted: the group is taken offline to move
	FailoverDeclined                       // declined: retried after RetryPeriodOnFailure
)

var failoverNames = [...]string{"None", "Requested", "Accepted", "Declined"}

// String returns the state's name.
func (f FailoverState) String() string {
	if int(f) < len(failoverNames) {
		return failoverNames[f]
	}
	return fmt.Sprintf("FailoverState(%d)", uint8(f))
}

// Monitor is the Resource Monitor. Create one with New; it is safe for
// concurrent use (R37).
type Monitor struct {
	policies intern.Cache[resolved] // resources with one policy share it
	classes  intern.Cache[class]    // and the resources of one type with it (entry.cls)
	clock    clock.Clock
	logger   *slog.Logger
	types    *resource.Registry
	defPol   Policy
	deadlock time.Duration
	jitter   time.Duration
	rand     func(int64) int64
	checks   *healthcheck.Scheduler
	gate     *opGate // nil: no bound on operations
	store    properties.Store
	ownStore bool                // the monitor made store and closes it
	common   *properties.Manager // the common properties of every resource (R51)

	// life is cancelled by Shutdown; the goroutines the monitor starts
	// (clean-up before a restart, taking a group offline) watch it, and wg
	// counts them.
	life context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
	// noWait is done from the start: a call given it returns at once
	// rather than wait (the clean-up's Terminate on a delivering
	// goroutine).
	noWait context.Context

	mu      sync.Mutex // guards entries, closed, private and every entry's policy state
	entries index      // by name
	closed  bool
	private map[string]*properties.Manager // by type name: the private properties (R50–R58)

	subMu sync.RWMutex    // guards subs
	nsubs atomic.Int32    // len(subs), read without the lock
	subs  []*Subscription // a slice, not a map: publish runs on every call's goroutine, and a map's iterator made its frame grow that goroutine's stack (issue 10)
}

// entry is one hosted resource. It holds what every resource needs, also
// an idle one that never failed, of which a host keeps many (issue 10:
// 100 000); what only a resource that failed, hung or waits, or one with
// dependencies, dependents or a group of another name needs is in x.
type entry struct {
	name string
	// cls is its monitor, its type and its policy. Replaced (a new policy)
	// under Monitor.mu, never changed; read without the lock for the
	// monitor and the type, which no replacement changes.
	cls atomic.Pointer[class]
	w   *wrapper.Wrapper

	// Guarded by Monitor.mu.
	x       *extra // nil until needed (more), then kept
	removed bool

	// dependents is len(x.rdeps) > 0, written with them under Monitor.mu and
	// read without it: the failure and Online paths of a resource nothing
	// depends on (most) skip the dependency work and the lock (R72).
	dependents atomic.Bool
}

// class is what the resources of one type under one policy share: their
// host, their type and their resolved policy. Interned (Monitor.classes),
// so that an entry holds one word where it held three (issue 10).
type class struct {
	m      *Monitor       // the host: an entry is its wrapper's Observer (see Event)
	t      *resource.Type // t.Name() is the Spec's Type
	policy *resolved      // shared by the resources with the same policy (Monitor.policies); nil until Add resolved it
}

// host returns e's monitor.
func (e *entry) host() *Monitor { return e.cls.Load().m }

// typ returns e's resource type.
func (e *entry) typ() *resource.Type { return e.cls.Load().t }

// pol returns e's resolved policy. Called with Monitor.mu held, or for a
// hosted resource (e.w set), whose policy is never nil.
func (e *entry) pol() *resolved { return e.cls.Load().policy }

// setPolicy gives e the policy res. Called with Monitor.mu held, or by Add
// before e's wrapper exists.
func (m *Monitor) setPolicy(e *entry, res resolved) {
	e.cls.Store(m.classes.Get(class{m: m, t: e.typ(), policy: m.policies.Get(res)}))
}

// extra is the part of an entry that an idle resource that never failed
// does without. An entry without one reads as one with every field zero:
// its group is its name, nothing is pending, no generation was handed out,
// nothing depends on anything. It is made the first time a field is set
// (entry.more) and then kept, so that gen only grows. Guarded by
// Monitor.mu, as is the entry's pointer to it.
type extra struct {
	group         string       // the group (R71), when it is not the resource's name
	gen           uint64       // bumped to invalidate the timers and clean-up of earlier decisions
	timer         *clock.Timer // the pending restart or retry
	nextRestart   time.Time
	cleanup       chan struct{} // closed when the Terminate after the last failure returned
	failures      []time.Time   // within RestartPeriod (R33), sorted (record)
	restarts      []time.Time   // restarts the monitor started, within RestartPeriod, sorted
	lastFailure   error
	lastFailureAt time.Time
	failover      FailoverState
	deferred      bool                  // a restart waits for a quarantine to end (R35)
	deps          []string              // what it depends on, sorted (R70)
	rdeps         []string              // what depends on it
	waitDeps      bool                  // taken down by a dependency; comes back when its dependencies are Online (R72)
	orch          chan struct{}         // closed when the dependency work Online or Offline started ends
	orchCancel    context.CancelFunc    // ends that work: a later Online or Offline of the resource replaces it
	hangTimers    map[*clock.Timer]bool // R35: one per abandoned call; nil until the first
	reported      map[string]bool       // deadlocks already reported, by call; nil until the first
}

// more returns e's extra state, made on first use. Called with m.mu held,
// or before e is in Monitor.entries.
func (e *entry) more() *extra {
	if e.x == nil {
		e.x = new(extra)
	}
	return e.x
}

// Event, Abandoned and Returned make e the wrapper's Observer: the entry
// itself, which knows its monitor, so the three callbacks cost no
// allocation per resource (issue 10: method values cost 16 bytes each,
// closures 24).
func (e *entry) Event(ev resource.Event)               { e.host().onEvent(e, &ev) }
func (e *entry) Abandoned(_ resource.Op, at time.Time) { e.host().onAbandon(e, at) }
func (e *entry) Returned(resource.Op)                  { e.host().onReturn(e) }

// groupLocked returns e's group (R71). Called with m.mu held.
func (e *entry) groupLocked() string {
	if e.x != nil && e.x.group != "" {
		return e.x.group
	}
	return e.name
}

// depsLocked returns what e depends on, sorted (R70); rdepsLocked what
// depends on it. Called with m.mu held.
func (e *entry) depsLocked() []string {
	if e.x == nil {
		return nil
	}
	return e.x.deps
}

func (e *entry) rdepsLocked() []string {
	if e.x == nil {
		return nil
	}
	return e.x.rdeps
}

// waitsForDepsLocked reports whether e was taken down by a dependency and
// comes back with it (R72). Called with m.mu held.
func (e *entry) waitsForDepsLocked() bool { return e.x != nil && e.x.waitDeps }

// stopWaitingLocked ends e's wait for its dependencies: it stays down
// (R72). Called with m.mu held.
func (e *entry) stopWaitingLocked() {
	if e.x != nil {
		e.x.waitDeps = false
	}
}

// New returns a monitor. It refuses bad options with an error naming the
// field.
func New(opts Options) (*Monitor, error) {
	if _, err := opts.DefaultPolicy.resolve(); err != nil {
		return nil, fmt.Errorf("monitor: New: DefaultPolicy.%w", err)
	}
	deadlock, err := resource.DurationOption("DeadlockTimeout", opts.DeadlockTimeout, DefaultDeadlockTimeout, true, false)
	if err != nil {
		return nil, fmt.Errorf("monitor: New: %w", err)
	}
	switch {
	case opts.RestartJitter < 0:
		return nil, fmt.Errorf("monitor: New: RestartJitter is %v: allowed is 0 or more: %w", opts.RestartJitter, resource.ErrInvalidOption)
	case opts.MaxConcurrentOps < 0:
		return nil, fmt.Errorf("monitor: New: MaxConcurrentOps is %d: allowed is 0 (no bound) or more: %w", opts.MaxConcurrentOps, resource.ErrInvalidOption)
	case opts.MaxConcurrentChecks < 0:
		return nil, fmt.Errorf("monitor: New: MaxConcurrentChecks is %d: allowed is 0 (no bound) or more: %w", opts.MaxConcurrentChecks, resource.ErrInvalidOption)
	}
	m := &Monitor{
		clock:    opts.Clock,
		logger:   opts.Logger,
		types:    opts.Types,
		defPol:   opts.DefaultPolicy,
		deadlock: deadlock,
		jitter:   opts.RestartJitter,
		rand:     opts.Rand,
		private:  make(map[string]*properties.Manager),
		store:    opts.Store,
	}
	if m.store == nil {
		m.store, m.ownStore = properties.NewMemStore(), true
	}
	common, err := properties.NewManager(properties.Options{Store: m.store, Schema: commonSchema, Namespace: properties.Common, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("monitor: New: %w", err)
	}
	m.common = common
	if m.clock == nil {
		m.clock = clock.New()
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	if m.types == nil {
		m.types = &resource.Registry{}
	}
	if m.rand == nil {
		m.rand = rand.Int64N
	}
	if opts.MaxConcurrentOps > 0 {
		m.gate = &opGate{max: opts.MaxConcurrentOps}
	}
	m.checks = healthcheck.New(healthcheck.Options{Clock: m.clock, Logger: m.logger, MaxConcurrentChecks: opts.MaxConcurrentChecks})
	m.life, m.stop = context.WithCancel(context.Background())
	var cancel context.CancelFunc
	m.noWait, cancel = context.WithCancel(context.Background())
	cancel()
	return m, nil
}

// RegisterType adds a resource type to the monitor's registry.
func (m *Monitor) RegisterType(t *resource.Type) error { return m.types.Register(t) }

// Add opens a resource of a registered type and hosts it, Offline (R40).
// It refuses an empty or taken name, an unknown type and a bad policy; if
// the type's Open fails nothing of the resource remains. Other resources
// are not affected (R37).
func (m *Monitor) Add(ctx context.Context, spec Spec) error {
	if spec.Name == "" {
		return fmt.Errorf("monitor: add: the resource name is empty: %w", resource.ErrInvalidOption)
	}
	typ, ok := m.types.Lookup(spec.Type)
	if !ok {
		return fmt.Errorf("monitor: add %q: type %q (registered: %s): %w", spec.Name, spec.Type, strings.Join(m.types.Names(), ", "), ErrUnknownType)
	}
	if _, err := spec.Policy.resolve(); err != nil {
		return fmt.Errorf("monitor: add %q: Policy.%w", spec.Name, err)
	}
	e := &entry{name: spec.Name}
	e.cls.Store(m.classes.Get(class{m: m, t: typ}))
	if spec.Group != "" && spec.Group != spec.Name {
		e.more().group = spec.Group // the default, its name, needs no extra
	}

	// Reserve the name while the type opens the resource.
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return fmt.Errorf("monitor: add %q: %w", spec.Name, ErrShutdown)
	case m.entries.get(spec.Name) != nil:
		m.mu.Unlock()
		return fmt.Errorf("monitor: add %q: %w", spec.Name, ErrExists)
	}
	for _, dep := range spec.DependsOn {
		if err := m.addDependencyLocked(e, dep); err != nil {
			m.mu.Unlock()
			return fmt.Errorf("monitor: add: %w", err)
		}
	}
	m.entries.add(e)
	m.mu.Unlock()

	var w *wrapper.Wrapper
	var r resource.Resource
	var release resource.Release
	vals, pol, err := m.loadOrStore(ctx, typ, spec) // R53: validated and stored, or loaded
	var res resolved
	if err == nil {
		res, err = pol.resolve()
	}
	if err == nil {
		m.setPolicy(e, res)
		r, release, err = typ.Open(ctx, spec.Name, vals)
	}
	if err == nil {
		opts := wrapper.Options{
			Name: spec.Name, Clock: m.clock, Logger: m.logger, Policy: res.Policy.Policy,
			Checker: m.checks, Schema: typ.Schema(), Properties: vals,
			Release: release, Observer: e,
		}
		if m.gate != nil {
			opts.Gate = m.gate
		}
		w, err = wrapper.New(r, opts)
		if err != nil { // R40: nothing of it remains
			if c, ok := r.(io.Closer); ok {
				_ = c.Close()
			}
			_ = release()
		}
	}
	if err != nil && (spec.Properties.Len() > 0 || spec.Policy != (Policy{})) {
		m.forget(ctx, e) // R40: nothing of it remains, its stored values neither
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.unlinkLocked(e)
		return fmt.Errorf("monitor: add %q: %w", spec.Name, err)
	}
	e.w = w // published under the lock: lookups see a whole entry or none
	if m.closed {
		// Shutdown began while the resource opened: close it again.
		m.unlinkLocked(e)
		m.goClose(e)
		return fmt.Errorf("monitor: add %q: %w", spec.Name, ErrShutdown)
	}
	return nil
}

// unlinkLocked removes e from the monitor and from the dependents lists of
// its dependencies. Called with m.mu held.
func (m *Monitor) unlinkLocked(e *entry) {
	m.entries.remove(e.name)
	for _, dep := range e.depsLocked() {
		if d := m.entries.get(dep); d != nil && d.x != nil {
			d.x.rdeps = slices.DeleteFunc(d.x.rdeps, func(s string) bool { return s == e.name })
			d.dependents.Store(len(d.x.rdeps) > 0)
		}
	}
}

// goClose closes e's wrapper in a goroutine the monitor waits for.
func (m *Monitor) goClose(e *entry) {
	m.wg.Go(func() { _ = e.w.Close(m.life) })
}

// Remove stops hosting a resource: it cancels its pending restarts and
// closes it (R18), waiting until its Close ran or ctx ends.
func (m *Monitor) Remove(ctx context.Context, name string) error {
	m.mu.Lock()
	e, err := m.lookupLocked(name)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	if ds := m.dependentsLocked(name); len(ds) > 0 {
		names := make([]string, len(ds))
		for i, d := range ds {
			names[i] = d.name
		}
		slices.Sort(names)
		m.mu.Unlock()
		return fmt.Errorf("monitor: remove %q: %s depend on it: %w", name, strings.Join(names, ", "), ErrDependency)
	}
	m.unlinkLocked(e)
	e.removed = true
	m.cancelTimersLocked(e)
	m.mu.Unlock()
	err = e.w.Close(ctx)
	if ferr := m.forget(ctx, e); ferr != nil {
		err = errors.Join(err, ferr)
	}
	if err != nil {
		return fmt.Errorf("monitor: remove: %w", err)
	}
	return nil
}

// forget deletes a resource's stored properties, private and common: it is
// no longer a resource of the cluster.
func (m *Monitor) forget(ctx context.Context, e *entry) error {
	var errs []error
	if mgr, err := m.privateManager(e.typ()); err != nil {
		errs = append(errs, err)
	} else if err := mgr.Delete(ctx, e.name); err != nil {
		errs = append(errs, err)
	}
	if err := m.common.Delete(ctx, e.name); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// lookupLocked finds a hosted, fully opened resource. Called with m.mu
// held.
func (m *Monitor) lookupLocked(name string) (*entry, error) {
	if m.closed {
		return nil, fmt.Errorf("monitor: %q: %w", name, ErrShutdown)
	}
	e := m.entries.get(name)
	if e == nil || e.w == nil {
		return nil, fmt.Errorf("monitor: %q: %w", name, ErrNoResource)
	}
	return e, nil
}

func (m *Monitor) lookup(name string) (*entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lookupLocked(name)
}

// cancelTimersLocked drops e's pending restart or retry, and what its
// clean-up would start. Called with m.mu held.
func (m *Monitor) cancelTimersLocked(e *entry) {
	x := e.x
	if x == nil {
		return // nothing is pending and no generation was handed out to invalidate
	}
	x.gen++
	if x.timer != nil {
		x.timer.Stop()
		x.timer = nil
	}
	x.nextRestart = time.Time{}
	x.deferred = false
	if e.removed {
		for t := range x.hangTimers {
			t.Stop()
		}
		clear(x.hangTimers)
	}
}

// quarantined reports whether a call of e has been abandoned for longer
// than DeadlockTimeout and still runs (R35).
func (m *Monitor) quarantined(e *entry) bool {
	if m.deadlock == resource.Never {
		return false
	}
	return m.quarantinedIn(e.w.Status())
}

// quarantinedIn is quarantined, from a status of the resource's wrapper.
func (m *Monitor) quarantinedIn(st wrapper.Status) bool {
	old := st.OldestAbandoned
	return m.deadlock != resource.Never && !old.IsZero() && m.clock.Now().Sub(old) >= m.deadlock
}

// Online brings a resource online (R10): it returns at once with its
// state. A resource whose dependencies are not all Online stays Offline
// while the monitor brings them online first, in order (R70); Wait waits
// for all of it. An operator's Online resets the restart count and any
// failover state (R31). It is refused with resource.ErrQuarantined while a
// call of the resource is deadlocked (R35).
func (m *Monitor) Online(name string) (resource.State, error) {
	e, err := m.lookup(name)
	if err != nil {
		return resource.Unknown, err
	}
	if m.quarantined(e) {
		return e.w.State(), fmt.Errorf("monitor: online %q: %w", name, resource.ErrQuarantined)
	}
	m.mu.Lock()
	m.supersedeLocked(e)
	m.resetLocked(e)
	down := m.depsDownLocked(e)
	var set map[string]*entry
	if down {
		set = m.closureLocked([]string{name}, true)
	}
	m.mu.Unlock()
	if down {
		st := e.w.State()
		m.orchestrate(e, func(ctx context.Context) {
			if err := m.onlineOrdered(ctx, set); err != nil {
				m.logger.Warn("online with dependencies", "resource", name, "err", err)
			}
		})
		return st, nil
	}
	return e.w.Online()
}

// resetLocked is an operator's Online: no pending restart, a fresh restart
// window, no failover state (R31). Called with m.mu held.
func (m *Monitor) resetLocked(e *entry) {
	m.cancelTimersLocked(e)
	if x := e.x; x != nil {
		x.failures, x.restarts, x.failover, x.waitDeps = nil, nil, FailoverNone, false
	}
}

// Offline takes a resource offline (R10), cancelling a pending restart. It
// is refused with resource.ErrQuarantined while a call is deadlocked (R35).
func (m *Monitor) Offline(name string) (resource.State, error) {
	e, err := m.lookup(name)
	if err != nil {
		return resource.Unknown, err
	}
	if m.quarantined(e) {
		return e.w.State(), fmt.Errorf("monitor: offline %q: %w", name, resource.ErrQuarantined)
	}
	m.mu.Lock()
	m.supersedeLocked(e)
	set := m.closureLocked([]string{name}, false)
	up := false
	for _, d := range set {
		m.cancelTimersLocked(d)
		d.stopWaitingLocked() // the operator's intent: they stay down
		if d != e && d.w.State() != resource.Offline {
			up = true
		}
	}
	m.mu.Unlock()
	if up {
		// R70: dependents go offline first.
		st := e.w.State()
		m.orchestrate(e, func(ctx context.Context) {
			if err := m.offlineOrdered(ctx, set); err != nil {
				m.logger.Warn("offline with dependents", "resource", name, "err", err)
			}
		})
		return st, nil
	}
	return e.w.Offline()
}

// Terminate forces a resource down (R17), also while it is quarantined
// (R35), cancelling a pending restart.
func (m *Monitor) Terminate(ctx context.Context, name string) error {
	e, err := m.lookup(name)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.cancelTimersLocked(e)
	e.stopWaitingLocked() // a restart that waits for its dependencies is cancelled too (R72)
	m.mu.Unlock()
	return e.w.Terminate(ctx)
}

// Probe asks an Offline resource whether it is in fact running (R7).
func (m *Monitor) Probe(ctx context.Context, name string) (resource.State, error) {
	e, err := m.lookup(name)
	if err != nil {
		return resource.Unknown, err
	}
	return e.w.Probe(ctx)
}

// Wait waits until nothing is pending on the resource (R10), including the
// dependency work an Online or Offline started (R70).
func (m *Monitor) Wait(ctx context.Context, name string) error {
	e, err := m.lookup(name)
	if err != nil {
		return err
	}
	var orch chan struct{}
	m.mu.Lock()
	if e.x != nil {
		orch = e.x.orch
	}
	m.mu.Unlock()
	if orch != nil {
		select {
		case <-orch:
		case <-ctx.Done():
			return fmt.Errorf("monitor: wait %q: %w", name, ctx.Err())
		}
	}
	return e.w.Wait(ctx)
}

// SetMaintenance puts a resource in maintenance or takes it out (R74).
func (m *Monitor) SetMaintenance(ctx context.Context, name string, on bool) error {
	e, err := m.lookup(name)
	if err != nil {
		return err
	}
	return e.w.SetMaintenance(ctx, on)
}

// SetPolicy replaces a resource's common properties (R30, R51): they are
// stored, then applied while it runs — the wrapper's time-outs and check
// intervals at once, the restart policy from the next failure. A bad policy
// changes nothing.
func (m *Monitor) SetPolicy(ctx context.Context, name string, p Policy) error {
	if _, err := p.resolve(); err != nil {
		return fmt.Errorf("monitor: set policy of %q: Policy.%w", name, err)
	}
	e, err := m.lookup(name)
	if err != nil {
		return err
	}
	err = m.store.Update(ctx, func(tx properties.Tx) error {
		return tx.Put(name, properties.Common, policyValues(p))
	})
	if err != nil {
		return fmt.Errorf("monitor: set policy of %q: %w", name, err)
	}
	return m.applyPolicy(e, p)
}

// Policy returns a resource's common properties, defaults filled in.
func (m *Monitor) Policy(name string) (Policy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.lookupLocked(name)
	if err != nil {
		return Policy{}, err
	}
	return e.pol().shown(), nil
}

// Control handles a control code for a resource (R51): the property codes
// (CodeGetCommonProperties … CodeGetDrift) here, resource-specific codes
// (resource.FirstResourceControlCode and above) in the resource's
// Controller. Other codes return an error wrapping resource.ErrUnsupported.
func (m *Monitor) Control(ctx context.Context, name string, code resource.ControlCode, in []byte) ([]byte, error) {
	e, err := m.lookup(name)
	if err != nil {
		return nil, err
	}
	if code >= resource.FirstResourceControlCode {
		return e.w.Control(ctx, code, in)
	}
	out, handled, err := m.controlProperties(ctx, e, code, in)
	if !handled {
		return nil, fmt.Errorf("monitor: control %#x of %q: %w", code, name, resource.ErrUnsupported)
	}
	return out, err
}

// Resources returns the names of the hosted resources, sorted.
func (m *Monitor) Resources() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, m.entries.len())
	for e := range m.entries.all() {
		name := e.name
		if e.w != nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// onEvent is each wrapper's sink. It applies the restart policy first, so
// that when a subscriber sees a failure its consequences are already
// scheduled, then publishes the event. It never blocks (R36).
//
// Its frame is kept small, and so are those of what it calls for every
// event: it runs at the bottom of the stack of the goroutine whose call
// ended (a restart's Online, among others), and a deeper path made each
// such goroutine copy its stack to a larger one (issue 10).
func (m *Monitor) onEvent(e *entry, ev *resource.Event) {
	if ev.Kind == resource.StateChanged {
		switch {
		case ev.To == resource.Failed && (ev.From == resource.Online || ev.From == resource.OnlinePending):
			m.failed(e, ev)
		case ev.To == resource.Online:
			m.publish(ev)
			m.dependencyOnline(e) // R72, after the event is out
			return
		}
	}
	m.publish(ev)
}

// failed is onEvent's part for a failure: the policy's verdict (R31–R34),
// the dependents (R72), the clean-up.
//
//go:noinline
func (m *Monitor) failed(e *entry, ev *resource.Event) {
	c, ok := m.onFailure(e, ev)
	m.dependencyFailed(e) // R72
	if ok {
		m.cleanUp(c)
	}
}

// cleanUp is what follows one failure once the policy decided (R31): the
// Terminate of the resource's work, then the verdict's next step.
type cleanUp struct {
	e       *entry
	err     error // the failure
	gen     uint64
	v       verdict
	done    chan struct{} // closed once the Terminate returned
	restart bool          // NoDelay: restart once the Terminate returned
}

// onFailure applies R31–R34 to one failure: by the verdict, a restart or a
// retry is scheduled or a failover request prepared; the clean-up it
// returns (ok false: none) terminates the resource's work (it stays Failed,
// R17) and carries the verdict out.
func (m *Monitor) onFailure(e *entry, ev *resource.Event) (c cleanUp, ok bool) {
	m.mu.Lock()
	if m.closed || e.removed {
		m.mu.Unlock()
		return c, false
	}
	now := m.clock.Now()
	x := e.more()
	x.lastFailure, x.lastFailureAt = ev.Err, now
	m.cancelTimersLocked(e)
	if e.w.Status().Maintenance {
		m.mu.Unlock()
		return c, false // R74: in maintenance the monitor starts no restart, Terminate or failover
	}
	var v verdict
	if m.depsDownLocked(e) {
		// R72: its dependency failed; not its own failure. It comes back
		// when its dependencies are Online.
		x.waitDeps = true
		v = stayFailed
	} else {
		x.failures, v = decide(*e.pol(), x.failures, x.restarts, now)
	}
	c = cleanUp{e: e, err: ev.Err, gen: x.gen, v: v, done: make(chan struct{})}
	x.cleanup = c.done
	nFailures := len(x.failures)
	switch v {
	case restartLater:
		delay := e.pol().RestartDelay
		if m.jitter > 0 {
			delay += time.Duration(m.rand(int64(m.jitter)))
		}
		if delay <= 0 {
			// NoDelay: the clean-up restarts the resource as soon as its
			// Terminate returned, with no timer and no goroutine waiting
			// for it (failure → restart latency, issue 10).
			x.nextRestart, c.restart = now, true
			break
		}
		gen, done := c.gen, c.done
		m.armLocked(e, delay, func() { m.restart(e, gen, done) })
	case retryLater:
		gen, done := c.gen, c.done
		m.armLocked(e, e.pol().RetryPeriodOnFailure, func() { m.retry(e, gen, done) })
	}
	m.mu.Unlock()
	if m.logger.Enabled(context.Background(), slog.LevelInfo) {
		m.logger.Info("resource failed", "resource", e.name, "op", ev.Op, "err", ev.Err, "failures", nFailures, "verdict", v.String())
	}
	return c, true
}

// cleanUp terminates the work of the failed resource (R31, R17: it stays
// Failed), then carries out the verdict. A resource without a Terminator is
// terminated at once — there is nothing to call and nothing to wait for —
// so that is done here, on the goroutine that delivers the failure, and a
// NoDelay restart starts from here too: the failure reaches the restart's
// worker with one goroutine start, not two (issue 10). A Terminator runs in
// a goroutine of its own; a goroutine of the monitor waits for it.
func (m *Monitor) cleanUp(c cleanUp) {
	if _, ok := c.e.w.Resource().(resource.Terminator); !ok {
		// m.noWait is done from the start, so Terminate cannot wait,
		// whatever it finds; without a Terminator it never needs to.
		err := c.e.w.Terminate(m.noWait)
		if !errors.Is(err, context.Canceled) {
			m.cleanedUp(c, err)
			return
		}
		// Not expected: a termination goes on after all. Wait for it as
		// for a Terminator.
		m.wg.Go(func() { m.cleanedUp(c, c.e.w.Wait(m.life)) })
		return
	}
	m.wg.Go(func() { m.cleanedUp(c, c.e.w.Terminate(m.life)) })
}

// cleanedUp carries out c's verdict once its Terminate returned with err.
func (m *Monitor) cleanedUp(c cleanUp, err error) {
	e := c.e
	if err != nil {
		m.logger.Warn("terminate after failure", "resource", e.name, "err", err)
	}
	close(c.done)
	if c.restart {
		m.restartNow(e, c.gen)
		return
	}
	if c.v != requestFailover {
		return
	}
	m.mu.Lock()
	if c.gen != e.x.gen || m.closed || e.removed || e.w.Status().Maintenance { // R74: no failover in maintenance
		m.mu.Unlock()
		return
	}
	e.x.failover = FailoverRequested
	group := e.groupLocked()
	m.mu.Unlock()
	m.logger.Warn("failover requested", "resource", e.name, "group", group)
	_ = e.w.Emit(resource.Event{Kind: resource.FailoverRequested, Group: group, Err: c.err})
}

// armLocked schedules f after d as e's pending restart or retry. Called
// with m.mu held, once e has its extra state.
func (m *Monitor) armLocked(e *entry, d time.Duration, f func()) {
	e.x.nextRestart = m.clock.Now().Add(d)
	if d <= 0 {
		m.wg.Go(f) // NoDelay: at once (a mock clock fires no zero timer by itself)
		return
	}
	e.x.timer = m.clock.AfterFunc(d, f)
}

// restart brings e online again after a failure (R31), once the clean-up
// Terminate has returned, unless something newer decided otherwise.
func (m *Monitor) restart(e *entry, gen uint64, cleanup <-chan struct{}) {
	select {
	case <-cleanup:
	case <-m.life.Done():
		return
	}
	m.restartNow(e, gen)
}

// restartNow is restart once the clean-up Terminate has returned. gen
// came from e's extra state, so e has one.
func (m *Monitor) restartNow(e *entry, gen uint64) {
	m.mu.Lock()
	x := e.x
	if gen != x.gen || m.closed || e.removed {
		m.mu.Unlock()
		return
	}
	x.timer, x.nextRestart = nil, time.Time{}
	st := e.w.Status()
	if st.State != resource.Failed {
		m.mu.Unlock()
		return // someone else moved it (an operator, a group move): no restart
	}
	if st.Maintenance {
		m.mu.Unlock()
		return // R74: in maintenance the monitor starts no restart
	}
	if m.quarantinedIn(st) {
		x.deferred = true // R35: the restart waits for the hung call
		m.mu.Unlock()
		return
	}
	if m.depsDownLocked(e) {
		x.waitDeps = true // R70: it starts when its dependencies are Online
		m.mu.Unlock()
		return
	}
	now := m.clock.Now()
	x.restarts = record(prune(x.restarts, now, e.pol().RestartPeriod), now)
	m.mu.Unlock()
	if m.logger.Enabled(context.Background(), slog.LevelInfo) {
		m.logger.Info("restarting", "resource", e.name)
	}
	if _, err := e.w.Online(); err != nil {
		m.logger.Warn("restart refused", "resource", e.name, "err", err)
	}
}

// retry tries a resource left Failed again with a fresh restart window
// (R34).
func (m *Monitor) retry(e *entry, gen uint64, cleanup <-chan struct{}) {
	m.mu.Lock()
	if x := e.x; gen == x.gen { // gen came from x
		x.failures, x.restarts, x.failover = nil, nil, FailoverNone
	}
	m.mu.Unlock()
	m.restart(e, gen, cleanup)
}

// AcceptFailover accepts the failover request of a group (R31): its
// members are taken offline — Terminate for those pending — and when all
// are, a GroupReadyToMove event follows. A resource whose failover was
// accepted is not restarted or retried here (R34).
func (m *Monitor) AcceptFailover(group string) error {
	members, requester, err := m.answer(group, FailoverAccepted)
	if err != nil {
		return err
	}
	m.wg.Go(func() {
		set := map[string]*entry{}
		for _, e := range members {
			set[e.name] = e
		}
		if err := m.offlineOrdered(m.life, set); err != nil {
			m.logger.Warn("group offline for failover", "group", group, "err", err)
		}
		if m.life.Err() != nil {
			return
		}
		// A removed resource gets no more events: a member still hosted
		// says it, if any is.
		m.mu.Lock()
		by := requester
		for _, e := range members {
			if by.removed && !e.removed {
				by = e
			}
		}
		m.mu.Unlock()
		if by.removed {
			return
		}
		m.logger.Info("group ready to move", "group", group)
		_ = by.w.Emit(resource.Event{Kind: resource.GroupReadyToMove, Group: group})
	})
	return nil
}

// DeclineFailover declines the failover request of a group (R31): nothing
// moves, and the failed resources are tried again after their
// RetryPeriodOnFailure with a fresh window (R34).
func (m *Monitor) DeclineFailover(group string) error {
	_, _, err := m.answer(group, FailoverDeclined)
	return err
}

// answer records the cluster layer's answer for group and returns its
// members and the resource that asked.
func (m *Monitor) answer(group string, to FailoverState) ([]*entry, *entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, nil, fmt.Errorf("monitor: failover of %q: %w", group, ErrShutdown)
	}
	var members []*entry
	var requester *entry
	for e := range m.entries.all() {
		if e.groupLocked() != group || e.w == nil {
			continue
		}
		members = append(members, e)
		if e.x != nil && e.x.failover == FailoverRequested {
			requester = e
		}
	}
	if requester == nil {
		return nil, nil, fmt.Errorf("monitor: failover of group %q: %w", group, ErrNoFailoverRequest)
	}
	slices.SortFunc(members, func(a, b *entry) int { return strings.Compare(a.name, b.name) })
	for _, e := range members {
		if to == FailoverAccepted {
			e.stopWaitingLocked() // R71: the group moves; nothing comes back here (R34)
		}
		x := e.x
		if x == nil || x.failover != FailoverRequested {
			continue
		}
		x.failover = to
		m.cancelTimersLocked(e)
		// R34: a declined request is retried, but only for a resource still
		// Failed: one the operator took offline meanwhile stays down.
		if to == FailoverDeclined && e.pol().RetryPeriodOnFailure != resource.Never && e.w.State() == resource.Failed {
			gen, cleanup := x.gen, x.cleanup
			m.armLocked(e, e.pol().RetryPeriodOnFailure, func() { m.retry(e, gen, cleanup) })
		}
	}
	return members, requester, nil
}

// onAbandon arms hang detection for a call of e abandoned at at (R35).
func (m *Monitor) onAbandon(e *entry, at time.Time) {
	if m.deadlock == resource.Never {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || e.removed {
		return
	}
	x := e.more() // made at the first hang: most resources never hang
	var t *clock.Timer
	t = m.clock.AfterFunc(at.Add(m.deadlock).Sub(m.clock.Now()), func() {
		m.mu.Lock()
		delete(x.hangTimers, t)
		m.mu.Unlock()
		m.checkHang(e)
	})
	if x.hangTimers == nil {
		x.hangTimers = make(map[*clock.Timer]bool)
	}
	x.hangTimers[t] = true
}

// checkHang reports each call of e abandoned for DeadlockTimeout or longer
// once, as a Deadlock event with its stack (R35).
func (m *Monitor) checkHang(e *entry) {
	now := m.clock.Now()
	for _, c := range e.w.Abandoned() {
		if now.Sub(c.AbandonedAt) < m.deadlock {
			continue
		}
		key := fmt.Sprint(c.Op, c.Started.UnixNano(), c.AbandonedAt.UnixNano())
		m.mu.Lock()
		x := e.more()
		seen := x.reported[key]
		if x.reported == nil {
			x.reported = make(map[string]bool)
		}
		x.reported[key] = true
		m.mu.Unlock()
		if seen {
			continue
		}
		err := fmt.Errorf("%v abandoned %v ago and still running: %w", c.Op, now.Sub(c.AbandonedAt), resource.ErrQuarantined)
		m.logger.Error("deadlock", "resource", e.name, "op", c.Op, "err", err, "stack", string(c.Stack))
		_ = e.w.Emit(resource.Event{Kind: resource.Deadlock, Op: c.Op, Err: err, Stack: c.Stack})
	}
}

// onReturn is told that an abandoned call of e returned: a restart that
// waited for the quarantine to end goes ahead (R35).
func (m *Monitor) onReturn(e *entry) {
	if m.deadlock == resource.Never {
		return // no hang detection: no restart is ever deferred
	}
	m.mu.Lock()
	x := e.x
	if x == nil || !x.deferred || m.quarantined(e) || m.closed || e.removed {
		m.mu.Unlock()
		return
	}
	x.deferred = false
	gen, cleanup := x.gen, x.cleanup
	m.mu.Unlock()
	m.wg.Go(func() { m.restart(e, gen, cleanup) })
}

// Status is a snapshot of one hosted resource (R36).
type Status struct {
	wrapper.Status
	Type  string
	Group string
	// Failures is the number of failures within RestartPeriod (R33);
	// LastFailure and LastFailureAt the latest, whenever it was.
	Failures      int
	LastFailure   error
	LastFailureAt time.Time
	// Restarts is the number of restarts the monitor began within
	// RestartPeriod.
	Restarts int
	// NextRestart is when a scheduled restart or retry is due; zero when
	// none is.
	NextRestart time.Time
	Failover    FailoverState
	// Quarantined: a call has been abandoned for DeadlockTimeout or longer
	// and still runs; Online and Offline are refused (R35).
	Quarantined bool
}

// Status returns a snapshot of one resource.
func (m *Monitor) Status(name string) (Status, error) {
	e, err := m.lookup(name)
	if err != nil {
		return Status{}, err
	}
	return m.status(e), nil
}

func (m *Monitor) status(e *entry) Status {
	ws := e.w.Status()
	q := m.quarantined(e)
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Status{Status: ws, Type: e.typ().Name(), Group: e.groupLocked(), Quarantined: q}
	if x := e.x; x != nil {
		now := m.clock.Now()
		st.Failures = inWindow(x.failures, now, e.pol().RestartPeriod)
		st.LastFailure, st.LastFailureAt = x.lastFailure, x.lastFailureAt
		st.Restarts = inWindow(x.restarts, now, e.pol().RestartPeriod)
		st.NextRestart, st.Failover = x.nextRestart, x.failover
	}
	return st
}

// StatusAll returns a snapshot of every resource, sorted by name.
func (m *Monitor) StatusAll() []Status {
	m.mu.Lock()
	entries := make([]*entry, 0, m.entries.len())
	for e := range m.entries.all() {
		if e.w != nil {
			entries = append(entries, e)
		}
	}
	m.mu.Unlock()
	out := make([]Status, len(entries))
	for i, e := range entries {
		out[i] = m.status(e)
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Shutdown takes every resource down and closes it (R38): Online and
// Failed resources go offline (an Offline that hangs escalates to
// Terminate, R16), pending ones and those that stay pending are
// terminated, and each is closed. It returns when every goroutine the
// monitor started has ended, or when ctx ends, with an error naming what
// it left running. After Shutdown every method returns ErrShutdown.
func (m *Monitor) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	entries := make([]*entry, 0, m.entries.len())
	for e := range m.entries.all() {
		e.removed = true
		m.cancelTimersLocked(e)
		if e.w != nil {
			entries = append(entries, e)
		}
	}
	m.mu.Unlock()
	m.stop() // ends the clean-ups and group moves in flight

	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, e := range entries {
		wg.Go(func() {
			if err := m.shutdownOne(ctx, e); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", e.name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	done := make(chan struct{})
	// This waiter ends with the last of the monitor's goroutines; if ctx
	// ends first it outlives Shutdown only as long as they do (each ends
	// with the call it waits for: life is cancelled above).
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("monitor goroutines still running: %w", ctx.Err()))
	}
	if m.ownStore {
		if err := m.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the property store: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return fmt.Errorf("monitor: shutdown left running: %w", errors.Join(errs...))
	}
	return nil
}

func (m *Monitor) shutdownOne(ctx context.Context, e *entry) error {
	switch e.w.State() {
	case resource.OnlinePending, resource.OfflinePending:
		_ = e.w.Terminate(ctx)
	case resource.Online, resource.Failed:
		if _, err := e.w.Offline(); err == nil {
			if err := e.w.Wait(ctx); err != nil && ctx.Err() != nil {
				_ = e.w.Terminate(ctx)
			}
		}
	}
	if err := e.w.Close(ctx); err != nil {
		return err
	}
	return nil
}
