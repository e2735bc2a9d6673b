package resourcetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// Gate holds back the calls of a [Hang] behaviour until it is opened. The
// zero Gate is not usable: call [NewGate].
type Gate struct {
	once sync.Once
	c    chan struct{}
}

// NewGate returns a closed gate.
func NewGate() *Gate { return &Gate{c: make(chan struct{})} }

// Open lets every call waiting at the gate, and every later one, through.
// Opening an open gate does nothing.
func (g *Gate) Open() { g.once.Do(func() { close(g.c) }) }

type kind uint8

const (
	kSucceed kind = iota
	kFail
	kHangCancel
	kHang
	kPanic
	kTake
	kReport
	kProgress
	kNoTimeout
	kFailFrom
	kFlap
)

// Behaviour is what one call of an entry point does. Build one with the
// functions below; a script is a list of them, one per call.
type Behaviour struct {
	kind  kind
	err   error
	d     time.Duration
	n     int
	gate  *Gate
	value any
	at    time.Time
}

// Succeed returns nil.
func Succeed() Behaviour { return Behaviour{kind: kSucceed} }

// Fail returns err.
func Fail(err error) Behaviour { return Behaviour{kind: kFail, err: err} }

// HangUntilCancelled blocks until the call's context is cancelled, then
// returns the context's error.
func HangUntilCancelled() Behaviour { return Behaviour{kind: kHangCancel} }

// Hang blocks until g is opened, whatever happens to its context (a call
// that ignores cancellation), then returns err.
func Hang(g *Gate, err error) Behaviour { return Behaviour{kind: kHang, gate: g, err: err} }

// Panic panics with v.
func Panic(v any) Behaviour { return Behaviour{kind: kPanic, value: v} }

// Take waits d on the fake's clock, then returns err; if the context is
// cancelled first it returns the context's error.
func Take(d time.Duration, err error) Behaviour { return Behaviour{kind: kTake, d: d, err: err} }

// Report calls the report function the engine handed the fake
// (resource.FailureNotifier) with err, then returns nil (R23).
func Report(err error) Behaviour { return Behaviour{kind: kReport, err: err} }

// ProgressEvery reports progress (resource.Progress, R13) n times, waiting
// d on the fake's clock before each, then returns nil; a cancelled context
// ends it with the context's error.
func ProgressEvery(d time.Duration, n int) Behaviour { return Behaviour{kind: kProgress, d: d, n: n} }

// WithoutTimeout declares resource.WaitWithoutTimeout (R12), then blocks
// until g is opened (returning nil) or the context is cancelled.
func WithoutTimeout(g *Gate) Behaviour { return Behaviour{kind: kNoTimeout, gate: g} }

// Call is one recorded call of the fake.
type Call struct {
	Op    resource.Op
	Start time.Time // on the fake's clock
	End   time.Time // zero while running
	Err   error
	Code  resource.ControlCode // Control
	Props properties.Values    // ApplyProperties
}

// Caps chooses which optional interfaces [Fake.Resource] shows.
type Caps struct {
	NoTerminator    bool // hide resource.Terminator
	NoLooksAlive    bool // hide resource.LooksAliver
	NoController    bool // hide resource.Controller
	NoPropertyOwner bool // hide resource.PropertyOwner
}

// Fake is a programmable resource. Each entry point runs the next behaviour
// of its script, and its default (Succeed, unless set) once the script is
// spent. It records every call, and the overlaps that break R5. It is safe
// for concurrent use.
type Fake struct {
	clock clock.Clock
	caps  Caps

	mu        sync.Mutex
	scripts   map[resource.Op][]Behaviour
	defaults  map[resource.Op]Behaviour
	calls     []Call
	active    map[resource.Op]int
	overlaps  []string
	report    resource.ReportFunc
	closes    int
	changed   chan struct{} // closed and replaced on every recorded change
	ctlResult []byte
}

// NewFake returns a fake on clk (nil: the real clock) showing the optional
// interfaces caps allows; Close and FailureNotifier are always there.
func NewFake(clk clock.Clock, caps Caps) *Fake {
	if clk == nil {
		clk = clock.New()
	}
	return &Fake{
		clock: clk, caps: caps,
		scripts:  make(map[resource.Op][]Behaviour),
		defaults: make(map[resource.Op]Behaviour),
		active:   make(map[resource.Op]int),
		changed:  make(chan struct{}),
	}
}

// Script appends behaviours for the next calls of op.
func (f *Fake) Script(op resource.Op, bs ...Behaviour) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts[op] = append(f.scripts[op], bs...)
	return f
}

// SetDefault sets what op does once its script is spent.
func (f *Fake) SetDefault(op resource.Op, b Behaviour) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.defaults[op] = b
	return f
}

// SetControlResult sets what Control returns on success.
func (f *Fake) SetControlResult(out []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctlResult = out
}

// Resource returns the fake as a resource.Resource whose optional
// interfaces are those its Caps allow: type assertions find exactly those.
func (f *Fake) Resource() resource.Resource { return view(f, f.caps) }

// ReportFailure calls the report function the engine handed the fake, as
// the resource would on noticing a failure (R23). It returns false if no
// engine handed one.
func (f *Fake) ReportFailure(err error) bool {
	f.mu.Lock()
	report := f.report
	f.mu.Unlock()
	if report == nil {
		return false
	}
	report(err)
	return true
}

// Calls returns the recorded calls, in the order they started.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Count returns how many calls of op started.
func (f *Fake) Count(op resource.Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count(op)
}

func (f *Fake) count(op resource.Op) int {
	n := 0
	for _, c := range f.calls {
		if c.Op == op {
			n++
		}
	}
	return n
}

// Running returns how many calls of op are running.
func (f *Fake) Running(op resource.Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active[op]
}

// Overlaps lists the calls that ran beside another in a way R5 forbids:
// anything but Terminate and Control (and ApplyProperties, which the
// engine runs like Control) beside another call.
func (f *Fake) Overlaps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.overlaps...)
}

// WaitCount blocks until at least n calls of op have started, or ctx ends.
func (f *Fake) WaitCount(ctx context.Context, op resource.Op, n int) error {
	return f.waitFor(ctx, func() bool { return f.count(op) >= n },
		func() string { return fmt.Sprintf("%d calls of %v, have %d", n, op, f.count(op)) })
}

// WaitRunning blocks until exactly n calls of op are running, or ctx ends.
func (f *Fake) WaitRunning(ctx context.Context, op resource.Op, n int) error {
	return f.waitFor(ctx, func() bool { return f.active[op] == n },
		func() string { return fmt.Sprintf("%d running calls of %v, have %d", n, op, f.active[op]) })
}

func (f *Fake) waitFor(ctx context.Context, ok func() bool, what func() string) error {
	for {
		f.mu.Lock()
		if ok() {
			f.mu.Unlock()
			return nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			f.mu.Lock()
			defer f.mu.Unlock()
			return fmt.Errorf("resourcetest: waiting for %s: %w", what(), ctx.Err())
		}
	}
}

func (f *Fake) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// exclusive reports whether op is bound by R5's exclusion.
func exclusive(op resource.Op) bool {
	return op != resource.OpTerminate && op != resource.OpControl && op != resource.OpSetProperties
}

// enter records the start of a call and returns its behaviour and index.
func (f *Fake) enter(op resource.Op, rec Call) (Behaviour, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if exclusive(op) {
		for other, n := range f.active {
			if n > 0 && exclusive(other) {
				f.overlaps = append(f.overlaps, fmt.Sprintf("%v started while %v ran", op, other))
			}
		}
	}
	f.active[op]++
	rec.Op, rec.Start = op, f.clock.Now()
	f.calls = append(f.calls, rec)
	b, ok := f.defaults[op]
	if !ok {
		b = Succeed()
	}
	if s := f.scripts[op]; len(s) > 0 {
		b, f.scripts[op] = s[0], s[1:]
	}
	f.notify()
	return b, len(f.calls) - 1
}

func (f *Fake) leave(op resource.Op, i int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active[op]--
	f.calls[i].End, f.calls[i].Err = f.clock.Now(), err
	f.notify()
}

// do runs one call of op.
func (f *Fake) do(ctx context.Context, op resource.Op, rec Call) (err error) {
	b, i := f.enter(op, rec)
	defer func() { f.leave(op, i, err) }()
	return f.behave(ctx, b)
}

func (f *Fake) behave(ctx context.Context, b Behaviour) error {
	switch b.kind {
	case kFail:
		return b.err
	case kHangCancel:
		<-ctx.Done()
		return ctx.Err()
	case kHang:
		<-b.gate.c
		return b.err
	case kPanic:
		panic(b.value)
	case kTake:
		if err := f.sleep(ctx, b.d); err != nil {
			return err
		}
		return b.err
	case kReport:
		f.ReportFailure(b.err)
		return nil
	case kProgress:
		for range b.n {
			if err := f.sleep(ctx, b.d); err != nil {
				return err
			}
			resource.Progress(ctx)
		}
		return nil
	case kFailFrom:
		if !f.clock.Now().Before(b.at) {
			return b.err
		}
		return nil
	case kFlap:
		if b.d > 0 && f.clock.Now().Sub(b.at)/b.d%2 == 1 {
			return b.err
		}
		return nil
	case kNoTimeout:
		resource.WaitWithoutTimeout(ctx)
		select {
		case <-b.gate.c:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// sleep waits d on the fake's clock, or until ctx is cancelled.
func (f *Fake) sleep(ctx context.Context, d time.Duration) error {
	t := f.clock.Timer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Closes returns how many times Close was called.
func (f *Fake) Closes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closes
}

// basic shows Resource, io.Closer and FailureNotifier; the views in
// views.go add the optional interfaces Caps allows.
type basic struct{ f *Fake }

func (r *basic) Online(ctx context.Context) error  { return r.f.do(ctx, resource.OpOnline, Call{}) }
func (r *basic) Offline(ctx context.Context) error { return r.f.do(ctx, resource.OpOffline, Call{}) }
func (r *basic) IsAlive(ctx context.Context) error { return r.f.do(ctx, resource.OpIsAlive, Call{}) }

// Close counts the call and runs the Close script (each call runs it: a
// second Close is the engine's duty to avoid, R42, and Closes shows it).
func (r *basic) Close() error {
	r.f.mu.Lock()
	r.f.closes++
	r.f.mu.Unlock()
	return r.f.do(context.Background(), resource.OpClose, Call{})
}

func (r *basic) SetFailureReporter(report resource.ReportFunc) {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.f.report = report
}

func (f *Fake) terminate(ctx context.Context) error { return f.do(ctx, resource.OpTerminate, Call{}) }
func (f *Fake) looksAlive(ctx context.Context) error {
	return f.do(ctx, resource.OpLooksAlive, Call{})
}

func (f *Fake) control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	if err := f.do(ctx, resource.OpControl, Call{Code: code}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(append([]byte(nil), f.ctlResult...), in...), nil
}

func (f *Fake) applyProperties(ctx context.Context, vals properties.Values) error {
	return f.do(ctx, resource.OpSetProperties, Call{Props: vals.Clone()})
}

// ErrInjected is a ready-made error for scripts.
var ErrInjected = errors.New("resourcetest: injected failure")

var (
	_ resource.Resource        = (*v00)(nil)
	_ resource.FailureNotifier = (*v00)(nil)
	_ resource.Terminator      = (*v15)(nil)
	_ resource.LooksAliver     = (*v15)(nil)
	_ resource.Controller      = (*v15)(nil)
	_ resource.PropertyOwner   = (*v15)(nil)
)
