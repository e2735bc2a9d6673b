package wsfc

import (
	"context"
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

	// reportMu serialises status reports (from the sink and from progress
	// reports) so the Resource Monitor receives them in order; it is held
	// while SetResourceStatus runs. Entry points never take it.
	reportMu sync.Mutex

	mu sync.Mutex // guards what follows; never held while calling the Resource Monitor
	// op is the pending operation whose outcome the Resource Monitor waits
	// for through SetResourceStatus (OpOnline or OpOffline, after the entry
	// point returned ERROR_IO_PENDING); OpNone when it waits for none.
	op resource.Op
	// inCall is true while Online or Offline runs: an outcome that arrives
	// then is kept in early and returned by the entry point itself.
	inCall bool
	early  *resource.Event
	// checkpoint is the CheckPoint of the last status report; it grows
	// with every report (R13).
	checkpoint uint32
	// event is the failure event handle; nil when the host has none, and
	// once the resource is closed.
	event FailureEvent
}

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
// (while OfflinePending, R3) returns the error's code.
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
	e.mu.Lock()
	e.inCall, e.early = true, nil
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
	e.mu.Lock()
	e.inCall, e.early = true, nil
	e.mu.Unlock()
	st, err := e.w.Offline()
	_, code = e.callEnded(resource.OpOffline, st, err)
	return code
}

// callEnded decides what an Online or Offline entry point returns, once the
// wrapper has answered: the refusal's code, the outcome that came during the
// call, ERROR_SUCCESS when nothing was to be done, or ERROR_IO_PENDING, after
// which the outcome is reported.
func (e *entry) callEnded(op resource.Op, st resource.State, err error) (uintptr, Errno) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inCall = false
	early := e.early
	e.early = nil
	switch {
	case err != nil:
		e.log.Warn(op.String()+" refused", "state", st.String(), "err", err)
		return 0, Code(err)
	case early != nil:
		e.op = resource.OpNone
		if early.Err != nil || early.To == resource.Failed {
			return 0, failedCode(early.Err)
		}
		return e.eventHandle(), ErrorSuccess
	case st.Pending():
		e.op = op
		return e.eventHandle(), ErrorIOPending
	case st == resource.Failed:
		return 0, failedCode(e.w.Status().LastErr)
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

// sink receives the wrapper's events (R4): it reports the outcome of the
// pending operation the Resource Monitor waits for, and signals the failure
// event when a failure latches while Online (R23). It runs on the
// wrapper's goroutines and lets no panic out.
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
	if ev.From == resource.Online && ev.To == resource.Failed {
		e.log.Error("resource failed", "op", ev.Op.String(), "err", ev.Err)
		e.mu.Lock()
		if e.event != nil {
			if err := e.event.Set(); err != nil {
				e.log.Error("signalling the failure event", "err", err)
			}
		}
		e.mu.Unlock()
		return
	}
	if !ev.From.Pending() || ev.To.Pending() {
		return
	}
	// An outcome: OnlinePending or OfflinePending ended.
	op := resource.OpOnline
	if ev.From == resource.OfflinePending {
		op = resource.OpOffline
	}
	if ev.To == resource.Failed {
		e.log.Error(op.String()+" failed", "err", ev.Err)
	}
	e.reportMu.Lock()
	defer e.reportMu.Unlock()
	e.mu.Lock()
	if e.inCall {
		e.early = &ev
		e.mu.Unlock()
		return
	}
	if e.op != op {
		e.mu.Unlock()
		return // nobody waits for it: terminated, closed, or answered already
	}
	e.op = resource.OpNone
	e.checkpoint++
	st := Status{State: stateOf(ev.To), CheckPoint: e.checkpoint}
	if ev.To == resource.Online {
		st.EventHandle = e.eventHandle()
	}
	e.mu.Unlock()
	e.report(st)
}

// progress is called after each progress report of the running Online or
// Offline (R13): the Resource Monitor gets a pending status with the next
// checkpoint, which pushes its own pending time-out out. It runs on the
// resource's worker goroutine and lets no panic out.
func (e *entry) progress() {
	defer func() {
		if v := recover(); v != nil {
			e.host.panicked(e, "progress", v)
		}
	}()
	e.reportMu.Lock()
	defer e.reportMu.Unlock()
	e.mu.Lock()
	var st Status
	switch e.op {
	case resource.OpOnline:
		st.State = StateOnlinePending
	case resource.OpOffline:
		st.State = StateOfflinePending
	default:
		e.mu.Unlock()
		return // the entry point has not returned ERROR_IO_PENDING yet, or the outcome is reported
	}
	e.checkpoint++
	st.CheckPoint = e.checkpoint
	e.mu.Unlock()
	e.report(st)
}

// report calls SetResourceStatus; call with reportMu held. It runs on the
// goroutine delivering the wrapper's events (or a worker reporting progress)
// and counts on the Resource Monitor's callback to return promptly, as it
// does: a slow one delays this resource's later reports, never its entry
// points, which take neither lock.
func (e *entry) report(st Status) {
	if rc := e.mon.SetResourceStatus(e.rh, st); rc != 0 {
		e.log.Warn("SetResourceStatus failed", "state", st.State.String(), "checkpoint", st.CheckPoint, "err", Errno(rc))
	}
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
// (R18), waiting at most Options.CloseTimeout for its calls to return, and
// releases its RESID and failure event. A second Close of the same RESID,
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

// close closes the wrapper and then the failure event; e is out of the
// handle table already.
func (e *entry) close(ctx context.Context) error {
	e.mu.Lock()
	e.op = resource.OpNone
	ev := e.event
	e.event = nil
	e.mu.Unlock()
	err := e.w.Close(ctx)
	if err != nil {
		err = fmt.Errorf("wsfc: closing %q: %w", e.name, err)
	}
	if ev != nil {
		if cerr := ev.Close(); cerr != nil {
			e.log.Warn("closing the failure event", "err", cerr)
		}
	}
	e.log.Info("closed", "resource", e.name)
	return err
}
