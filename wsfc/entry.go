package wsfc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// entry is one open resource: its wrapper, and the state of its status
// reports to the Resource Monitor.
type entry struct {
	host *Host
	ht   *hostedType
	id   ResID
	name string
	mon  Monitor        // the Resource Monitor's callbacks, from the type's Startup
	rh   ResourceHandle // the Resource Monitor's handle of the resource
	log  *slog.Logger   // to LogEvent
	mgr  *properties.Manager
	w    *wrapper.Wrapper // set once, before the entry is in the handle table

	// ctx is cancelled by close; the goroutines the entry starts (bg: the
	// control calls ResourceControl runs, the terminations a
	// ResourceExitStateTerminate asks for) run under it, and close waits
	// for them before it returns.
	ctx    context.Context
	cancel context.CancelFunc
	bg     goroutines

	// callMu serialises what begins or cuts short a wrapper operation for
	// the Resource Monitor: the Online and Offline entry points around the
	// wrapper's Online and Offline (which return at once), and each
	// termination a ResourceExitStateTerminate asks for (within the
	// policy's TerminateTimeout). So operations begin in the order the
	// gate numbers them, and such a termination never cuts short an
	// operation begun after the report it answers. The Terminate and Close
	// entry points do not take it.
	callMu sync.Mutex

	// reportMu serialises status reports (from the sink and from progress
	// reports) so the Resource Monitor receives them in order; it is held
	// while SetResourceStatus runs. Entry points never take it.
	reportMu sync.Mutex

	mu sync.Mutex // guards what follows; never held while calling the Resource Monitor
	// Operations are numbered from 1 in the order the wrapper begins them
	// (the gate's Enter, on the calling entry point's goroutine). The
	// wrapper emits one pending transition per operation and delivers its
	// events in order, so the n-th pending transition delivered is
	// operation n's, and an outcome (a pending state ending) belongs to the
	// operation whose pending transition was delivered last. That tells
	// the outcome of this Online from the late one of an earlier operation
	// (the OnlinePending→Offline of a Terminate, delivered while the next
	// Online runs).
	begun     uint64 // operations begun
	delivered uint64 // pending transitions delivered to the sink
	// outcome is the last outcome delivered, and outcomeOf the number of
	// its operation (0: none yet).
	outcome   resource.Event
	outcomeOf uint64
	// inCall is true while Online or Offline runs; callOp is the number of
	// the operation it began, 0 while it has begun none (or when it joins
	// one that was there).
	inCall bool
	callOp uint64
	// op is the pending operation whose outcome the Resource Monitor waits
	// for through SetResourceStatus (OpOnline or OpOffline, after the entry
	// point returned ERROR_IO_PENDING), and opNum its number; OpNone when
	// it waits for none.
	op    resource.Op
	opNum uint64
	// checkpoint is the CheckPoint of the last status report; it grows
	// with every report.
	checkpoint uint32
	// closed is set by close: the entry starts no goroutine after it.
	closed bool
	// event is the failure event handle; nil when the host has none, and
	// once the resource is closed.
	event FailureEvent
}

// gate is the wrapper.Gate of an entry's wrapper. It bounds nothing: it
// admits every operation at once (so the deadline starts as the operation
// begins, R11). The wrapper calls Enter, on the goroutine of the Online or
// Offline that begins an operation, before that call returns, once per
// operation begun and never for a join or a refusal; Enter numbers the
// operation.
type gate struct{ e *entry }

// Enter numbers the operation and admits it.
func (g gate) Enter(admit func()) {
	g.e.mu.Lock()
	g.e.begun++
	if g.e.inCall {
		g.e.callOp = g.e.begun
	}
	g.e.mu.Unlock()
	admit()
}

// Leave does nothing: the gate keeps no slots.
func (gate) Leave() {}

// eventHandle returns the failure event's HANDLE, or 0. Call with e.mu held.
func (e *entry) eventHandle() uintptr {
	if e.event == nil {
		return 0
	}
	return e.event.Handle()
}

// Online is the Online entry point (PONLINE_ROUTINE). It starts the
// resource's Online in the wrapper and returns ERROR_IO_PENDING while it runs
// (R10); its outcome then reaches the Resource Monitor through
// SetResourceStatus (Online, with the event handle, or Failed), after a
// status report with a growing checkpoint for each progress report (R13).
// An Online that completes before the entry point returns is answered
// directly: ERROR_SUCCESS, or the failure's code. event is the failure event
// handle, reset at each Online and signalled when a failure latches while
// Online (R23), or 0 when the host has none. An Online the wrapper refuses
// (while OfflinePending, R3) returns the error's code. While a termination
// the Resource Monitor asked for runs (ResourceExitStateTerminate), Online
// first waits for it, within the policy's TerminateTimeout.
func (h *Host) Online(id ResID) (event uintptr, code Errno) {
	e := h.lookup(id)
	defer func() {
		if v := recover(); v != nil {
			event, code = 0, h.panicked(e, "Online", v)
		}
	}()
	if e == nil {
		h.unknown("Online", id)
		return 0, ErrorInvalidHandle
	}
	e.callMu.Lock()
	defer e.callMu.Unlock()
	e.mu.Lock()
	e.inCall, e.callOp = true, 0
	if e.event != nil {
		if err := e.event.Reset(); err != nil {
			e.log.Warn("resetting the failure event", "err", err)
		}
	}
	e.mu.Unlock()
	st, err := e.w.Online()
	return e.callEnded(resource.OpOnline, st, err)
}

// Offline is the Offline entry point (POFFLINE_ROUTINE): as Online, with
// the outcome Offline or Failed. A graceful Offline that does not return
// within the pending timeout escalates to the resource's Terminator (R16);
// the outcome is reported either way.
func (h *Host) Offline(id ResID) (code Errno) {
	e := h.lookup(id)
	defer func() {
		if v := recover(); v != nil {
			code = h.panicked(e, "Offline", v)
		}
	}()
	if e == nil {
		h.unknown("Offline", id)
		return ErrorInvalidHandle
	}
	e.callMu.Lock()
	defer e.callMu.Unlock()
	e.mu.Lock()
	e.inCall, e.callOp = true, 0
	e.mu.Unlock()
	st, err := e.w.Offline()
	_, code = e.callEnded(resource.OpOffline, st, err)
	return code
}

// callEnded decides what an Online or Offline entry point returns, once the
// wrapper has answered: the refusal's code; the outcome of the operation
// the call began (or joined), when it was delivered during the call;
// ERROR_SUCCESS when nothing was to be done; or ERROR_IO_PENDING, after
// which that operation's outcome is reported.
func (e *entry) callEnded(op resource.Op, st resource.State, err error) (uintptr, Errno) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := e.callOp
	e.inCall, e.callOp = false, 0
	if err != nil {
		e.log.Warn(op.String()+" refused", "state", st.String(), "err", err)
		return 0, Code(err)
	}
	if n == 0 && st.Pending() {
		n = e.begun // it joined the pending operation, the last one begun (R3)
	}
	switch {
	case n != 0 && e.outcomeOf == n:
		// The outcome came while the entry point ran: it is the answer,
		// and the Resource Monitor, never told the operation pends, waits
		// for no report.
		e.op = resource.OpNone
		return e.answer(op, e.outcome)
	case n != 0:
		e.op, e.opNum = op, n
		return e.eventHandle(), ErrorIOPending
	case st == resource.Failed:
		return 0, failedCode(e.w.Status().LastErr)
	}
	return e.eventHandle(), ErrorSuccess
}

// answer is an entry point's answer for an outcome of op: ERROR_SUCCESS
// (with the event handle) when the resource reached op's state without an
// error, and the failure's code otherwise. Call with e.mu held.
func (e *entry) answer(op resource.Op, ev resource.Event) (uintptr, Errno) {
	want := resource.Online
	if op == resource.OpOffline {
		want = resource.Offline
	}
	if ev.Err != nil || ev.To != want {
		return 0, failedCode(ev.Err)
	}
	return e.eventHandle(), ErrorSuccess
}

// failedCode is the code of an operation that failed, never ERROR_SUCCESS.
func failedCode(err error) Errno {
	if c := Code(err); c != ErrorSuccess {
		return c
	}
	return ErrorResourceFailed
}

// sink receives the wrapper's events (R4): it numbers the pending
// transitions, reports the outcome of the pending operation the Resource
// Monitor waits for, and signals the failure event when a failure latches
// while Online (R23). It runs on the wrapper's goroutines and lets no panic
// out.
func (e *entry) sink(ev resource.Event) {
	defer func() {
		if v := recover(); v != nil {
			e.host.panicked(e, "event "+ev.String(), v)
		}
	}()
	if ev.Kind != resource.StateChanged {
		if ev.Kind == resource.Terminated && ev.Err != nil {
			e.log.Warn("the Terminator failed", "err", ev.Err)
		}
		return
	}
	switch {
	case ev.From == resource.Online && ev.To == resource.Failed:
		e.log.Error("resource failed", "op", ev.Op.String(), "err", ev.Err)
		e.mu.Lock()
		if e.event != nil {
			if err := e.event.Set(); err != nil {
				e.log.Error("signalling the failure event", "err", err)
			}
		}
		e.mu.Unlock()
		return
	case ev.To.Pending() && !ev.From.Pending():
		// A pending transition: the next operation's (see begun).
		e.mu.Lock()
		e.delivered++
		e.mu.Unlock()
		return
	case !ev.From.Pending() || ev.To.Pending():
		return
	}
	// An outcome: the pending state of the operation whose pending
	// transition was delivered last ended.
	if ev.To == resource.Failed {
		op := resource.OpOnline
		if ev.From == resource.OfflinePending {
			op = resource.OpOffline
		}
		e.log.Error(op.String()+" failed", "err", ev.Err)
	}
	e.reportMu.Lock()
	defer e.reportMu.Unlock()
	e.mu.Lock()
	n := e.delivered
	e.outcome, e.outcomeOf = ev, n
	if e.op == resource.OpNone || e.opNum != n {
		// Nobody waits for it: the entry point that began it answers it
		// (it runs still), or it was terminated, closed, answered already,
		// or it is an earlier operation's, delivered late.
		e.mu.Unlock()
		return
	}
	e.op = resource.OpNone
	e.checkpoint++
	st := Status{State: stateOf(ev.To), CheckPoint: e.checkpoint}
	if ev.To == resource.Online {
		st.EventHandle = e.eventHandle()
	}
	e.mu.Unlock()
	e.report(n, st)
}

// progressOf returns the progress callback of the operation whose worker
// starts now (the last one begun): the shim calls it after each progress
// report of that worker (R13).
func (e *entry) progressOf() func() {
	e.mu.Lock()
	n := e.begun
	e.mu.Unlock()
	return func() { e.progress(n) }
}

// progress is called after each progress report of operation n (R13): while
// the Resource Monitor waits for n, it gets a pending status with the next
// checkpoint. The checkpoint only flags the report as new: it does not
// extend the cluster's PendingTimeout. It runs on the resource's worker
// goroutine and lets no panic out.
func (e *entry) progress(n uint64) {
	defer func() {
		if v := recover(); v != nil {
			e.host.panicked(e, "progress", v)
		}
	}()
	e.reportMu.Lock()
	defer e.reportMu.Unlock()
	e.mu.Lock()
	var st Status
	switch {
	case e.opNum != n:
		e.mu.Unlock()
		return // an abandoned worker's, or an earlier operation's
	case e.op == resource.OpOnline:
		st.State = StateOnlinePending
	case e.op == resource.OpOffline:
		st.State = StateOfflinePending
	default:
		e.mu.Unlock()
		return // the entry point has not returned ERROR_IO_PENDING yet, or the outcome is reported
	}
	e.checkpoint++
	st.CheckPoint = e.checkpoint
	e.mu.Unlock()
	e.report(n, st)
}

// report calls SetResourceStatus with a report of operation n; call with
// reportMu held. It runs on the goroutine delivering the wrapper's events
// (or a worker reporting progress) and counts on the Resource Monitor's
// callback to return promptly, as it does: a slow one delays this
// resource's later reports, never its entry points, which take neither
// lock. When the Resource Monitor answers ResourceExitStateTerminate, the
// operation ends (see terminated).
func (e *entry) report(n uint64, st Status) {
	switch rc := e.mon.SetResourceStatus(e.rh, st); rc {
	case ResourceExitStateContinue:
	case ResourceExitStateTerminate:
		e.log.Info("the Resource Monitor terminated the resource: the operation ends",
			"state", st.State.String(), "checkpoint", st.CheckPoint, "exit", rc.String())
		e.terminated(n)
	default:
		e.log.Warn("SetResourceStatus returned an unknown RESOURCE_EXIT_STATE; going on",
			"state", st.State.String(), "checkpoint", st.CheckPoint, "exit", rc.String())
	}
}

// terminated ends operation n, which the Resource Monitor says it
// terminated (ResourceExitStateTerminate): nothing more of it is reported,
// and, unless another operation began since, the wrapper's operation is
// terminated (R17: the worker's context is cancelled, the Terminator
// runs). That happens in a goroutine of the entry, because the caller is
// the wrapper's event delivery or the worker itself, which must not wait
// for it; close waits for it.
func (e *entry) terminated(n uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.opNum == n {
		e.op = resource.OpNone
	}
	if e.closed || e.begun != n {
		return
	}
	e.bg.Go(func() {
		defer func() {
			if v := recover(); v != nil {
				e.host.panicked(e, "Terminate (ResourceExitStateTerminate)", v)
			}
		}()
		e.callMu.Lock()
		defer e.callMu.Unlock()
		e.mu.Lock()
		current := e.begun == n && !e.closed
		e.mu.Unlock()
		if !current {
			return // a new operation began, or the resource is closed
		}
		if err := e.w.Terminate(e.ctx); err != nil {
			e.log.Warn("Terminate (ResourceExitStateTerminate)", "err", err)
		}
	})
}

// Terminate is the Terminate entry point (PTERMINATE_ROUTINE): it stops the
// resource by force (R17) and returns when the wrapper has, within its
// TerminateTimeout. The pending operation it cuts short is not reported:
// the Resource Monitor stopped waiting for it.
func (h *Host) Terminate(id ResID) {
	e := h.lookup(id)
	defer func() {
		if v := recover(); v != nil {
			h.panicked(e, "Terminate", v)
		}
	}()
	if e == nil {
		h.unknown("Terminate", id)
		return
	}
	e.mu.Lock()
	e.op = resource.OpNone
	e.mu.Unlock()
	if err := e.w.Terminate(context.Background()); err != nil {
		e.log.Warn("Terminate", "err", err)
	}
}

// LooksAlive is the LooksAlive entry point (PLOOKS_ALIVE_ROUTINE): the
// cached result of the last check, at once; it never calls into the
// resource (R22). FALSE for an unknown RESID.
func (h *Host) LooksAlive(id ResID) (alive bool) {
	return h.alive("LooksAlive", id, (*wrapper.Wrapper).LooksAlive)
}

// IsAlive is the IsAlive entry point (PIS_ALIVE_ROUTINE): the cached result
// of the last IsAlive check, at once (R22). FALSE for an unknown RESID.
func (h *Host) IsAlive(id ResID) (alive bool) {
	return h.alive("IsAlive", id, (*wrapper.Wrapper).IsAlive)
}

func (h *Host) alive(op string, id ResID, check func(*wrapper.Wrapper) error) (alive bool) {
	e := h.lookup(id)
	defer func() {
		if v := recover(); v != nil {
			h.panicked(e, op, v)
			alive = false
		}
	}()
	if e == nil {
		h.unknown(op, id)
		return false
	}
	return check(e.w) == nil
}

// Close is the Close entry point (PCLOSE_ROUTINE): it closes the resource
// (R18), waiting at most Options.CloseTimeout for its calls to return (and
// for the control calls and terminations the host runs for it, which it
// cancels), and releases its RESID and failure event. A second Close of the same RESID,
// and a Close of an unknown one, is logged and does nothing.
func (h *Host) Close(id ResID) {
	var e *entry
	defer func() {
		if v := recover(); v != nil {
			h.panicked(e, "Close", v)
		}
	}()
	e = h.remove(id)
	if e == nil {
		h.unknown("Close", id)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if h.close != resource.Never {
		t := h.clk.AfterFunc(h.close, cancel)
		defer t.Stop()
	}
	if err := e.close(ctx); err != nil {
		e.log.Warn("Close", "err", err)
	}
}

// close ends the entry's goroutines, closes the wrapper and then the
// failure event; e is out of the handle table already. It returns once the
// goroutines have ended and the wrapper is closed, or with ctx's error.
func (e *entry) close(ctx context.Context) error {
	e.mu.Lock()
	e.op = resource.OpNone
	e.closed = true
	ev := e.event
	e.event = nil
	e.mu.Unlock()
	e.cancel() // a termination or control call still waiting gives up
	err := e.w.Close(ctx)
	if err != nil {
		err = fmt.Errorf("wsfc: closing %q: %w", e.name, err)
	}
	if berr := e.bg.Wait(ctx); berr != nil {
		err = errors.Join(err, fmt.Errorf("wsfc: closing %q: a control call or termination still runs: %w", e.name, berr))
	}
	if ev != nil {
		if cerr := ev.Close(); cerr != nil {
			e.log.Warn("closing the failure event", "err", cerr)
		}
	}
	e.log.Info("closed", "resource", e.name)
	return err
}
