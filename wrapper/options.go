package wrapper

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// Defaults of [Policy].
const (
	DefaultPendingTimeout   = 180 * time.Second // R11, Windows' PendingTimeout
	DefaultTerminateTimeout = 30 * time.Second  // R16
	// DefaultMaxPendingFactor: MaxPendingTime defaults to this many
	// PendingTimeouts (R13).
	DefaultMaxPendingFactor = 10
)

// Policy holds the time-outs and health-check settings of one resource: the
// common properties of R11–R24. The zero value of each field means the
// contract's default; [resource.Never] means none where the field says so.
// Any other negative value is refused by [New] and [Wrapper.SetPolicy] with
// an error naming the field.
type Policy struct {
	// PendingTimeout is how long an Online or Offline may run (R11), and
	// how far each progress report pushes its deadline (R13). Default
	// 180 s; resource.Never for no time-out.
	PendingTimeout time.Duration
	// MaxPendingTime caps progress: no deadline lies beyond it after the
	// operation began (R13). Default 10 × PendingTimeout; resource.Never
	// for no cap. It may not be below PendingTimeout.
	MaxPendingTime time.Duration
	// TerminateTimeout is how long Terminate waits for the resource's
	// Terminator (R16, R17). Default 30 s; resource.Never to wait for ever.
	TerminateTimeout time.Duration
	// CheckTimeout is how long a health check or a Probe may run (R20,
	// R21). Default PendingTimeout, as EXRES; resource.Never for none.
	CheckTimeout time.Duration
	// IsAliveInterval is the time between IsAlive checks while Online
	// (R20). Default 60 s; EXRES uses 10 s. resource.Never turns them off.
	IsAliveInterval time.Duration
	// LooksAliveInterval is the time between LooksAlive checks, for
	// resources that implement resource.LooksAliver (R20). Default 5 s;
	// resource.Never turns them off.
	LooksAliveInterval time.Duration
	// FailureThreshold is how many failed checks in a row latch a failure
	// (R24). Default 1.
	FailureThreshold int
	// StartupGrace is how long after Online failed checks do not count
	// (R24). Default 0.
	StartupGrace time.Duration
}

// resolved is a Policy with its defaults filled in.
type resolved struct {
	Policy
	timing timing
	checks healthcheck.Policy
}

// Resolve returns p with its defaults filled in, or an error naming the
// first field out of range (wrapping resource.ErrInvalidOption).
func (p Policy) Resolve() (Policy, error) {
	r, err := p.resolve()
	return r.Policy, err
}

func (p Policy) resolve() (resolved, error) {
	r := resolved{Policy: p}
	var err error
	if r.PendingTimeout, err = resource.DurationOption("PendingTimeout", p.PendingTimeout, DefaultPendingTimeout, true, false); err != nil {
		return r, err
	}
	defMax := resource.Never
	if r.PendingTimeout != resource.Never && r.PendingTimeout <= math.MaxInt64/DefaultMaxPendingFactor {
		defMax = DefaultMaxPendingFactor * r.PendingTimeout
	}
	if r.MaxPendingTime, err = resource.DurationOption("MaxPendingTime", p.MaxPendingTime, defMax, true, false); err != nil {
		return r, err
	}
	if r.MaxPendingTime != resource.Never && (r.PendingTimeout == resource.Never || r.MaxPendingTime < r.PendingTimeout) {
		return r, fmt.Errorf("MaxPendingTime is %v, below PendingTimeout %v: allowed is at least PendingTimeout, or resource.Never: %w",
			r.MaxPendingTime, durationText(r.PendingTimeout), resource.ErrInvalidOption)
	}
	if r.TerminateTimeout, err = resource.DurationOption("TerminateTimeout", p.TerminateTimeout, DefaultTerminateTimeout, true, false); err != nil {
		return r, err
	}
	if r.CheckTimeout, err = resource.DurationOption("CheckTimeout", p.CheckTimeout, r.PendingTimeout, true, false); err != nil {
		return r, err
	}
	r.checks, err = healthcheck.Policy{
		IsAliveInterval:    p.IsAliveInterval,
		LooksAliveInterval: p.LooksAliveInterval,
		FailureThreshold:   p.FailureThreshold,
		StartupGrace:       p.StartupGrace,
	}.Resolve()
	if err != nil {
		return r, err
	}
	r.IsAliveInterval, r.LooksAliveInterval = r.checks.IsAliveInterval, r.checks.LooksAliveInterval
	r.FailureThreshold, r.StartupGrace = r.checks.FailureThreshold, r.checks.StartupGrace
	r.timing = timing{pending: r.PendingTimeout, maxPend: r.MaxPendingTime, terminate: r.TerminateTimeout}
	return r, nil
}

func durationText(d time.Duration) string {
	if d == resource.Never {
		return "resource.Never"
	}
	return d.String()
}

// Options configure a Wrapper. Only the resource is required (to New); the
// zero Options give a wrapper named "resource" on the real clock with the
// default policy, its own health-check scheduler, and no event sink.
type Options struct {
	// Name is the resource's name in events and logs. Default "resource".
	Name string
	// Clock is the clock every deadline and check uses; nil means the real
	// clock. Tests pass a *clock.Mock.
	Clock clock.Clock
	// Logger receives time-outs, panics and latched failures; nil discards.
	// Records carry the fields resource, op, state and err. The wrapper may
	// log while holding its lock: a handler must not call the wrapper.
	Logger *slog.Logger
	// Sink receives every event (R4), in sequence order, from whichever
	// goroutine caused it, never two at once. It must not block: hand the
	// event on, or use [EventQueue]. It may call the wrapper.
	Sink func(resource.Event)
	// Policy holds the time-outs and check settings.
	Policy Policy
	// Checker schedules the health checks while the resource is Online
	// (R20). nil gives the wrapper a [healthcheck.Scheduler] of its own on
	// Clock; a host of many resources shares one. The wrapper calls
	// Register, SetPolicy and Unregister holding its lock: they must not
	// call back into the wrapper.
	Checker healthcheck.Checker
	// Schema is the resource type's property schema: SetProperties uses
	// it to tell which properties may change while Online (R58). nil
	// means none may.
	Schema *properties.Schema
	// Properties are the values the resource was opened with.
	Properties properties.Values
	// Release is called once, after the resource's Close has run (R18,
	// R41): pass the release that resource.Type.Open returned.
	Release resource.Release
	// Gate, when set, admits Online and Offline operations: a host's bound
	// on concurrent operations (R39). An operation shows its pending state
	// at once and its deadline starts when the gate admits it.
	Gate Gate
	// OnAbandon, when set, is told each time a call into the resource is
	// abandoned (its time-out passed, or Terminate or Close gave up on it):
	// the entry point and when. A host's hang detection (R35) arms a timer
	// with it. It is called outside the wrapper's lock and must not block.
	OnAbandon func(op resource.Op, at time.Time)
	// OnReturn, when set, is told when an abandoned call returns at last.
	// Called outside the wrapper's lock; it must not block. OnAbandon and
	// OnReturn of one call may arrive in either order: a host must read the
	// wrapper's state (Status, Abandoned) rather than count them.
	OnReturn func(op resource.Op)
	// Observer, when set, receives what Sink, OnAbandon and OnReturn
	// would, under the same rules: one value for the three, which a host
	// of many resources can make part of its own record of each (the
	// monitor does), where the three functions cost one allocation each.
	// Set either Observer or those three; New refuses both.
	Observer Observer
}

// Observer is the host's side of one wrapper: its events (R4) and the
// calls it abandoned (R35). See Options.Sink, Options.OnAbandon and
// Options.OnReturn for when each is called and what it must not do.
// Abandoned and Returned do not name the resource: give each wrapper an
// Observer of its own (the host's record of that resource, as the monitor
// does), or one that knows which wrapper it serves.
type Observer interface {
	// Event receives every event, as Options.Sink.
	Event(ev resource.Event)
	// Abandoned is told of each abandoned call, as Options.OnAbandon.
	Abandoned(op resource.Op, at time.Time)
	// Returned is told when an abandoned call returns, as
	// Options.OnReturn.
	Returned(op resource.Op)
}

// funcObserver is an Observer made of Options' three functions, any of
// which may be nil.
type funcObserver struct {
	sink     func(resource.Event)
	onAband  func(resource.Op, time.Time)
	onReturn func(resource.Op)
}

func (o *funcObserver) Event(ev resource.Event) {
	if o.sink != nil {
		o.sink(ev)
	}
}

func (o *funcObserver) Abandoned(op resource.Op, at time.Time) {
	if o.onAband != nil {
		o.onAband(op, at)
	}
}

func (o *funcObserver) Returned(op resource.Op) {
	if o.onReturn != nil {
		o.onReturn(op)
	}
}

// observer returns the Observer opts give, nil when they give none.
func (opts *Options) observer() (Observer, error) {
	funcs := opts.Sink != nil || opts.OnAbandon != nil || opts.OnReturn != nil
	switch {
	case opts.Observer != nil && funcs:
		return nil, fmt.Errorf("both Observer and Sink, OnAbandon or OnReturn are set: allowed is one or the other: %w", resource.ErrInvalidOption)
	case opts.Observer != nil:
		return opts.Observer, nil
	case funcs:
		return &funcObserver{opts.Sink, opts.OnAbandon, opts.OnReturn}, nil
	}
	return nil, nil
}

// Gate bounds how many operations run at once across the wrappers that
// share it (R39). The wrapper calls Enter when an Online or Offline begins
// and Leave when an admitted one ends, each outside its lock.
type Gate interface {
	// Enter queues an operation; the gate calls admit once, from any
	// goroutine (possibly before Enter returns), when it may start. An
	// admission that comes after the operation ended is handed back with
	// Leave.
	Enter(admit func())
	// Leave frees the slot of an admitted operation.
	Leave()
}
