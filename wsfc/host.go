package wsfc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// DefaultCloseTimeout is how long Close waits for a resource's calls to
// return when Options.CloseTimeout is zero.
const DefaultCloseTimeout = 30 * time.Second

// Options configure a Host. The zero Options give a host on the real clock,
// with the default wrapper.Policy, no log of its own, resources' records at
// Info and above sent to LogEvent, properties in the cluster database
// ([NewKeyStore] over the key Open receives), and no failure event handles
// (the Windows layer's Serve supplies Win32 events).
type Options struct {
	// Clock is the clock of every wrapper and of Close's time-out; nil
	// means the real clock. Tests pass a *clock.Mock.
	Clock clock.Clock

	// Logger receives what the host logs outside any resource (Startup,
	// ResourceTypeControl, calls with an unknown RESID, panics recovered
	// where no resource is known) and a copy of each failed Open and of
	// each recovered panic, with its stack. A resource's own records, and
	// its failed Opens and panics, go to the Resource Monitor's LogEvent
	// (see [NewLogHandler]). nil discards; in a DLL, NewDebugLogHandler
	// (Windows) is a sensible choice. A handler that panics is ignored.
	Logger *slog.Logger

	// LogLevel is the lowest level of a resource's records sent to
	// LogEvent; nil means slog.LevelInfo.
	LogLevel slog.Leveler

	// Policy is each resource's wrapper.Policy (time-outs, check
	// intervals: R11–R24) unless its type was registered with one of its
	// own. The zero Policy is the contract's defaults. Its PendingTimeout
	// also bounds how long Open and ResourceControl wait (see [Host]).
	// The cluster's common properties of the resource are not read: set
	// PendingTimeout no longer than the cluster's PendingTimeout (180 s by
	// default), and IsAliveInterval and LooksAliveInterval no longer than
	// its IsAlivePollInterval and LooksAlivePollInterval (60 s and 5 s by
	// default). The Resource Monitor terminates an operation pending
	// longer than its PendingTimeout, whatever progress is reported (R12
	// and R13 do not extend it).
	Policy wrapper.Policy

	// Store returns the store of one resource's private properties (R53),
	// given the resource's name and its key in the cluster database, which
	// is nil when the Resource Monitor passed none. nil means
	// NewKeyStore(name, key), and a resource opened without a key then
	// fails to open with ERROR_INVALID_PARAMETER. The host never closes a
	// store.
	Store func(name string, key Key) (properties.Store, error)

	// Events makes each resource's failure event handle (R23, R30). nil:
	// Online hands back no handle, and the Resource Monitor polls
	// LooksAlive. The Windows layer's Serve sets Win32 events when nil.
	Events EventSource

	// CloseTimeout bounds how long Close waits for the resource's running
	// calls to return (R18); the resource's Close then runs later, when
	// they do. Default 30 s; resource.Never to wait for ever.
	CloseTimeout time.Duration
}

// TypeOptions adjust how one resource type is served.
type TypeOptions struct {
	// Policy, when not nil, replaces Options.Policy for the type's
	// resources.
	Policy *wrapper.Policy
}

// Host serves resource types through the Resource API (resapi.h, version 1):
// the pure-Go side of a resource DLL. Startup hands back a per-type
// [Table]; the entry points that take a RESID are the Host's methods. Each
// resource runs in a wrapper.Wrapper, so the contract's engine (pending
// time-outs, terminate escalation, the failure latch, cached checks) is the
// same as under resdll's monitor and the OCF agent.
//
// Every entry point returns at once or within a bound of the policy, never
// lets a panic out (it is logged and answered with ERROR_GEN_FAILURE, or
// FALSE), and is safe to call from any thread. The bounds: Open and
// ResourceControl wait for the type's factory, the store, a Controller or a
// sync hook at most the policy's PendingTimeout (DefaultPendingTimeout
// when that is resource.Never), then answer ERROR_TIMEOUT and leave the
// call running, cancelled, in a goroutine of the host; Terminate waits at
// most TerminateTimeout for the Terminator; Close at most
// Options.CloseTimeout; Online and Offline return at once, or after a
// termination the Resource Monitor asked for (ResourceExitStateTerminate)
// within TerminateTimeout. A Host is usable on every
// platform; the Windows layer (Serve) turns the Resource Monitor's calls into
// calls of these methods.
type Host struct {
	opts  Options // resolved
	clk   clock.Clock
	log   *slog.Logger
	close time.Duration

	mu    sync.RWMutex // guards types
	types []*hostedType

	hmu     sync.RWMutex // guards handles and next
	handles map[ResID]*entry
	next    ResID

	// bg runs the Opens that did not return within their bound, to close
	// what they opened when they return; Shutdown waits for them.
	bg goroutines

	// sinkHook, when set (by tests only), wraps the sink of each wrapper
	// the host makes: a test reorders the delivery of events with it.
	sinkHook func(sink func(resource.Event)) func(resource.Event)
}

// hostedType is a registered type and its function table.
type hostedType struct {
	host   *Host
	index  int
	t      *resource.Type
	policy wrapper.Policy
	bound  time.Duration // how long Open waits for the factory and the store: callBound(policy)
	table  *Table

	mu  sync.Mutex // guards mon
	mon Monitor    // from the latest Startup of the type
}

func (ht *hostedType) monitor() Monitor {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	return ht.mon
}

// NewHost returns a Host with no types. It refuses a bad Policy or
// CloseTimeout with an error naming the field (wrapping
// resource.ErrInvalidOption).
func NewHost(opts Options) (*Host, error) {
	if _, err := opts.Policy.Resolve(); err != nil {
		return nil, fmt.Errorf("wsfc: Options.Policy: %w", err)
	}
	closeTimeout, err := resource.DurationOption("CloseTimeout", opts.CloseTimeout, DefaultCloseTimeout, true, false)
	if err != nil {
		return nil, fmt.Errorf("wsfc: Options: %w", err)
	}
	h := &Host{opts: opts, clk: opts.Clock, log: opts.Logger, close: closeTimeout, handles: map[ResID]*entry{}}
	if h.clk == nil {
		h.clk = clock.New()
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// Register adds a resource type the DLL serves. Type names compare without
// regard to case, as Windows compares them; a second type of the same name,
// a nil type and a bad policy are refused.
func (h *Host) Register(t *resource.Type, opts TypeOptions) error {
	if t == nil {
		return fmt.Errorf("wsfc: Register: nil type: %w", resource.ErrInvalidOption)
	}
	policy := h.opts.Policy
	if opts.Policy != nil {
		policy = *opts.Policy
		if _, err := policy.Resolve(); err != nil {
			return fmt.Errorf("wsfc: type %q: TypeOptions.Policy: %w", t.Name(), err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ht := range h.types {
		if strings.EqualFold(ht.t.Name(), t.Name()) {
			return fmt.Errorf("wsfc: type %q is already registered (as %q): %w", t.Name(), ht.t.Name(), resource.ErrInvalidOption)
		}
	}
	ht := &hostedType{host: h, index: len(h.types), t: t, policy: policy, bound: callBound(policy)}
	ht.table = &Table{ht: ht}
	h.types = append(h.types, ht)
	return nil
}

// Types returns the names of the registered types, in registration order.
func (h *Host) Types() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	names := make([]string, len(h.types))
	for i, ht := range h.types {
		names[i] = ht.t.Name()
	}
	return names
}

func (h *Host) lookupType(name string) *hostedType {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, ht := range h.types {
		if strings.EqualFold(ht.t.Name(), name) {
			return ht
		}
	}
	return nil
}

// Startup is the DLL's Startup entry point (PSTARTUP_ROUTINE) for one
// resource type: it returns ERROR_REVISION_MISMATCH unless version 1 (0x100)
// lies within [minVersion, maxVersion], ERROR_MOD_NOT_FOUND for a type the
// host does not serve, and otherwise the type's function table. mon is the
// Resource Monitor's callbacks, kept for the resources the type opens from
// now on. Startup may be called again for the same type; it returns the same
// table.
func (h *Host) Startup(typeName string, minVersion, maxVersion uint32, mon Monitor) (table *Table, code Errno) {
	defer func() {
		if v := recover(); v != nil {
			table, code = nil, h.panicked(nil, "Startup", v)
		}
	}()
	if minVersion > Version || maxVersion < Version {
		h.log.Warn("Startup: no common Resource API version", "type", typeName,
			"min", fmt.Sprintf("%#x", minVersion), "max", fmt.Sprintf("%#x", maxVersion), "supported", fmt.Sprintf("%#x", Version))
		return nil, ErrorRevisionMismatch
	}
	ht := h.lookupType(typeName)
	if ht == nil {
		h.log.Warn("Startup: type not served by this DLL", "type", typeName, "served", h.Types())
		return nil, ErrorModNotFound
	}
	if mon == nil {
		h.log.Error("Startup: no Resource Monitor callbacks", "type", typeName)
		return nil, ErrorInvalidParameter
	}
	ht.mu.Lock()
	ht.mon = mon
	ht.mu.Unlock()
	h.log.Info("Startup", "type", ht.t.Name())
	return ht.table, ErrorSuccess
}

// Table is the function table (CLRES_V1_FUNCTIONS) of one resource type,
// which Startup returns. Open is the type's own, because the Resource API's
// Open is not told the type; the other entry points receive a RESID, which
// names its resource, so they are the Host's methods, shared by every
// table.
type Table struct{ ht *hostedType }

// Index is the type's position in registration order, from 0: the Windows
// layer keeps one C function table per index.
func (t *Table) Index() int { return t.ht.index }

// TypeName returns the name of the table's type.
func (t *Table) TypeName() string { return t.ht.t.Name() }

// Host returns the host the table belongs to.
func (t *Table) Host() *Host { return t.ht.host }

// Open is the Open entry point (POPEN_ROUTINE): it opens the resource name of
// the table's type (R40) with the property values stored under its key (the
// schema's defaults filling in the rest), wraps it, and returns its RESID.
// h is the Resource Monitor's handle, for the resource's status reports and
// log lines. On failure it returns 0 and the code (the Windows layer sets it
// as the thread's last error); nothing of the resource remains. The failure
// is logged to the cluster log (through LogEvent for h), with the stack when
// something panicked, and to Options.Logger.
//
// Open waits for the store and the type's factory at most the type's
// PendingTimeout (see [Host]): then it answers ERROR_TIMEOUT and cancels
// their context; what they open after that is closed when they return.
func (t *Table) Open(name string, key Key, h ResourceHandle) (id ResID, code Errno) {
	host := t.ht.host
	var (
		clusterLog *slog.Logger // the resource's cluster log, for this call, once the Resource Monitor is known
		rlog       *slog.Logger // the same for the resource, diverted to the host's log (to) if Open fails
		to         *divertable
	)
	defer func() {
		if v := recover(); v != nil {
			id, code = 0, host.panickedTo(clusterLog, "Open "+name, v, debug.Stack())
		}
		if code != ErrorSuccess && to != nil {
			// The Resource Monitor may forget h once Open has failed:
			// what a call given up on logs later goes to the host's log.
			to.Divert()
		}
	}()
	var abandon func()
	mon := t.ht.monitor()
	if mon != nil {
		lh := NewLogHandler(mon, h, host.opts.LogLevel)
		clusterLog = slog.New(lh)
		to = newDivertable(lh, host.log.Handler())
		rlog, abandon = slog.New(to), to.Divert
	}
	id, err := host.open(t.ht, name, key, h, mon, rlog, abandon)
	if err != nil {
		host.openFailed(clusterLog, t.ht, name, err)
		return 0, Code(err)
	}
	return id, ErrorSuccess
}

// openFailed logs a failed Open to the resource's cluster log (rlog, nil
// when unknown) and to the host's, with the stack of a panic: one of the
// host's path (a *panicError) or of the type's factory (a
// *resource.PanicError).
func (h *Host) openFailed(rlog *slog.Logger, ht *hostedType, name string, err error) {
	var hp *panicError
	if errors.As(err, &hp) {
		h.panickedTo(rlog, "Open "+name, hp.value, hp.stack)
		return
	}
	args := []any{"type", ht.t.Name(), "resource", name, "err", err}
	var pe *resource.PanicError
	if errors.As(err, &pe) {
		args = append(args, "stack", string(pe.Stack))
	}
	logTo(h.log, slog.LevelError, "Open failed", args...)
	logTo(rlog, slog.LevelError, "Open failed", args...)
}

// open opens and wraps the resource in a goroutine of the host, waiting for
// it at most ht.bound, and enters it in the handle table. abandon (nil for
// none) is called if the bound passes first, before anything the goroutine
// then does is disposed of.
func (h *Host) open(ht *hostedType, name string, key Key, rh ResourceHandle, mon Monitor, logger *slog.Logger, abandon func()) (ResID, error) {
	if err := properties.CheckResourceName(name); err != nil {
		return 0, err
	}
	if mon == nil {
		return 0, fmt.Errorf("wsfc: Open of %q before Startup of its type: %w", name, ErrorInvalidState)
	}
	e, err := within(h, &h.bg, context.Background(), "Open "+name, ht.bound,
		func(ctx context.Context) (*entry, error) { return h.newEntry(ctx, ht, name, key, rh, mon, logger) },
		abandon,
		func(e *entry, err error) { h.lateOpen(logger, ht, name, e, err) })
	if err != nil {
		return 0, err
	}
	h.hmu.Lock()
	h.next++
	e.id = h.next
	h.handles[e.id] = e
	h.hmu.Unlock()
	logger.Info("opened", "type", ht.t.Name(), "resource", name)
	return e.id, nil
}

// lateOpen disposes of what an Open that outlived its bound opened: the
// Resource Monitor was told it failed (ERROR_TIMEOUT), so nothing of it may
// remain (R40).
func (h *Host) lateOpen(logger *slog.Logger, ht *hostedType, name string, e *entry, err error) {
	if err != nil {
		logTo(logger, slog.LevelWarn, "an Open given up on returned, failed", "type", ht.t.Name(), "resource", name, "err", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if h.close != resource.Never {
		t := h.clk.AfterFunc(h.close, cancel)
		defer t.Stop()
	}
	logTo(logger, slog.LevelWarn, "an Open given up on returned at last; closing what it opened", "type", ht.t.Name(), "resource", name)
	if cerr := e.close(ctx); cerr != nil {
		logTo(logger, slog.LevelWarn, "closing a resource opened too late", "resource", name, "err", cerr)
	}
}

// newEntry opens the resource (its failure event, the store, the property
// values, the type's factory) and wraps it; the entry is not in the handle
// table yet. On failure, and on a panic, nothing of it remains.
func (h *Host) newEntry(ctx context.Context, ht *hostedType, name string, key Key, rh ResourceHandle, mon Monitor, logger *slog.Logger) (*entry, error) {
	var ev FailureEvent
	done := false
	defer func() {
		if !done && ev != nil { // deferred, so a panic below closes it too
			if cerr := ev.Close(); cerr != nil {
				logger.Warn("closing the failure event", "err", cerr)
			}
		}
	}()
	if h.opts.Events != nil {
		var err error
		if ev, err = h.opts.Events.NewEvent(); err != nil {
			logger.Warn("no failure event handle: the Resource Monitor will poll LooksAlive", "err", err)
			ev = nil
		}
	}
	store, err := h.store(name, key)
	if err != nil {
		return nil, err
	}
	mgr, err := properties.NewManager(properties.Options{Store: store, Schema: ht.t.Schema(), Hook: ht.t.SyncHook(), Logger: logger})
	if err != nil {
		return nil, err
	}
	vals, err := mgr.Effective(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("wsfc: reading the properties of %q: %w", name, err)
	}
	res, release, err := ht.t.Open(ctx, name, vals)
	if err != nil {
		return nil, err
	}
	e := &entry{host: h, ht: ht, name: name, mon: mon, rh: rh, log: logger, mgr: mgr, event: ev}
	sink := e.sink
	if h.sinkHook != nil {
		sink = h.sinkHook(sink)
	}
	w, err := wrapper.New(newShim(res, e.progressOf), wrapper.Options{
		Name: name, Clock: h.clk, Logger: logger, Sink: sink, Policy: ht.policy, Gate: gate{e},
		Schema: ht.t.Schema(), Properties: vals, Release: release,
	})
	if err != nil {
		if c, ok := res.(io.Closer); ok {
			err = errors.Join(err, c.Close())
		}
		return nil, errors.Join(err, release())
	}
	e.w = w
	e.ctx, e.cancel = context.WithCancel(context.Background())
	done = true
	return e, nil
}

func (h *Host) store(name string, key Key) (properties.Store, error) {
	if h.opts.Store != nil {
		s, err := h.opts.Store(name, key)
		if err == nil && s == nil {
			err = fmt.Errorf("wsfc: Options.Store returned no store for %q: %w", name, ErrorInvalidParameter)
		}
		return s, err
	}
	if key == nil {
		return nil, fmt.Errorf("wsfc: %q was opened without a key in the cluster database, and Options.Store is not set: %w", name, ErrorInvalidParameter)
	}
	return NewKeyStore(name, key), nil
}

// lookup returns the open resource id names, or nil.
func (h *Host) lookup(id ResID) *entry {
	h.hmu.RLock()
	defer h.hmu.RUnlock()
	return h.handles[id]
}

// unknown logs a call with a RESID the host does not know.
func (h *Host) unknown(op string, id ResID) {
	h.log.Warn(op+": unknown or closed RESID", "resid", uint64(id))
}

// panicked logs a panic recovered at an entry point, with its stack, to the
// resource's cluster log when the resource is known and to the host's, and
// returns the code the entry point answers with. Call it from the deferred
// function that recovered.
func (h *Host) panicked(e *entry, op string, v any) Errno {
	var rlog *slog.Logger
	if e != nil {
		rlog = e.log
	}
	return h.panickedTo(rlog, op, v, debug.Stack())
}

// panickedTo logs a recovered panic and its stack to rlog (a resource's
// cluster log; nil for none) and to the host's log, and returns
// ERROR_GEN_FAILURE. A log handler that panics in turn is ignored: nothing
// crosses into C.
func (h *Host) panickedTo(rlog *slog.Logger, op string, v any, stack []byte) Errno {
	args := []any{"op", op, "panic", fmt.Sprint(v), "stack", string(stack)}
	logTo(h.log, slog.LevelError, "panic recovered at an entry point", args...)
	logTo(rlog, slog.LevelError+4, "panic recovered at an entry point", args...)
	return ErrorGenFailure
}

// Resources returns the number of open resources (RESIDs not yet closed).
func (h *Host) Resources() int {
	h.hmu.RLock()
	defer h.hmu.RUnlock()
	return len(h.handles)
}

// Shutdown closes every open resource, as the Resource Monitor does before
// it stops; for programs and tests that host a Host outside a DLL. It
// returns once every Close returned and every Open given up on (see
// [Table.Open]) has returned and been undone, or with ctx's error.
func (h *Host) Shutdown(ctx context.Context) error {
	h.hmu.RLock()
	ids := make([]ResID, 0, len(h.handles))
	for id := range h.handles {
		ids = append(ids, id)
	}
	h.hmu.RUnlock()
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e := h.remove(id); e != nil {
			errs = append(errs, e.close(ctx))
		}
	}
	if err := h.bg.Wait(ctx); err != nil {
		errs = append(errs, fmt.Errorf("wsfc: an Open given up on still runs: %w", err))
	}
	return errors.Join(errs...)
}

// remove takes id out of the handle table and returns its entry, or nil.
func (h *Host) remove(id ResID) *entry {
	h.hmu.Lock()
	defer h.hmu.Unlock()
	e := h.handles[id]
	delete(h.handles, id)
	return e
}
