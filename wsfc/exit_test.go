package wsfc

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/resource/resourcetest"
)

// settle waits, within the guard, until the wrapper of id has nothing
// pending and no Terminate running.
func settle(t *testing.T, h *Host, id ResID) {
	t.Helper()
	e := h.lookup(id)
	if e == nil {
		t.Fatalf("RESID %d is not open", id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := e.w.Wait(ctx); err != nil && ctx.Err() != nil {
		t.Fatalf("the wrapper did not settle: %v", err)
	}
}

// loggedInfo reports whether a LOG_INFORMATION line for h holds want.
func loggedInfo(mon *fakeMonitor, h ResourceHandle, want string) bool {
	for _, l := range mon.logged() {
		if l.h == h && l.level == LogInformation && strings.Contains(l.msg, want) {
			return true
		}
	}
	return false
}

// SetResourceStatus answering ResourceExitStateTerminate to a progress
// report ends the operation: nothing more of it is reported, its worker's
// context is cancelled and the wrapper's operation terminated (R17), and a
// later Online works as before.
func TestExitStateTerminateOnProgress(t *testing.T) {
	g := newGated()
	g.returned = make(chan struct{}, 2)
	h, table, mon, _ := gatedWorld(t, g)
	mon.exit = func(st Status) ExitState {
		if st.State == StateOnlinePending {
			return ResourceExitStateTerminate
		}
		return ResourceExitStateContinue
	}
	id, code := table.Open("g", nil, 9)
	if code != ErrorSuccess {
		t.Fatalf("Open = %v", code)
	}
	if _, code := h.Online(id); code != ErrorIOPending {
		t.Fatalf("Online = %v, want ERROR_IO_PENDING", code)
	}
	g.steps <- struct{}{}
	if r := mon.next(t); r.st.State != StateOnlinePending {
		t.Fatalf("report %+v, want OnlinePending", r.st)
	}
	// The Online hangs until its context is cancelled: it settles only if
	// the exit state terminated it.
	settle(t, h, id)
	e := h.lookup(id)
	if st := e.w.State(); st != resource.Offline {
		t.Errorf("the wrapper is %v after ResourceExitStateTerminate, want Offline (terminated)", st)
	}
	mon.none(t, "the terminated Online is not reported")
	if !loggedInfo(mon, 9, "ResourceExitStateTerminate") {
		t.Errorf("no LOG_INFORMATION line naming ResourceExitStateTerminate in %v", mon.logged())
	}

	// The terminated Online's worker returns once it sees its context
	// cancelled; until it has, the gate's done could reach it instead of
	// the next Online.
	select {
	case <-g.returned:
	case <-time.After(guard):
		t.Fatal("the terminated Online did not return after its context was cancelled")
	}

	// The resource comes back: the next Online is pending and reported.
	mon.exit = nil
	if _, code := h.Online(id); code != ErrorIOPending {
		t.Fatalf("Online after the termination = %v", code)
	}
	g.done <- nil
	if r := mon.next(t); r.st.State != StateOnline {
		t.Fatalf("report %+v, want Online", r.st)
	}
}

// ResourceExitStateTerminate in answer to an outcome terminates the
// resource too: the Resource Monitor holds it terminated.
func TestExitStateTerminateOnOutcome(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.mon.exit = func(st Status) ExitState {
		if st.State == StateOnline {
			return ResourceExitStateTerminate
		}
		return ResourceExitStateContinue
	}
	gate := resourcetest.NewGate()
	f := resourcetest.NewFake(w.clk, resourcetest.Caps{}).Script(resource.OpOnline, resourcetest.Hang(gate, nil))
	id := w.open(f, 4)
	if _, code := w.host.Online(id); code != ErrorIOPending {
		t.Fatalf("Online = %v", code)
	}
	gate.Open()
	if r := w.mon.next(t); r.st.State != StateOnline {
		t.Fatalf("report %+v, want Online", r.st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := f.WaitCount(ctx, resource.OpTerminate, 1); err != nil {
		t.Fatalf("the Terminator did not run: %v", err)
	}
	settle(t, w.host, id)
	if st := w.host.lookup(id).w.State(); st != resource.Offline {
		t.Errorf("the wrapper is %v, want Offline", st)
	}
	if f.Count(resource.OpTerminate) != 1 {
		t.Errorf("the Terminator ran %d times, want once", f.Count(resource.OpTerminate))
	}
	w.mon.none(t, "nothing more is reported")
}

// An exit state for an operation that is no longer the last one begun
// ends nothing: a new operation began since the report.
func TestExitStateTerminateStale(t *testing.T) {
	e := &entry{log: slog.New(slog.DiscardHandler), begun: 2, op: resource.OpOnline, opNum: 2}
	e.terminated(1)
	if e.op != resource.OpOnline {
		t.Errorf("the Resource Monitor's wait for operation 2 ended by operation 1's exit state")
	}
	if e.bg.n != 0 {
		t.Error("a termination started for an operation that is over")
	}
}

// An exit state the Resource Monitor does not define is logged and taken
// as ResourceExitStateContinue.
func TestExitStateUnknown(t *testing.T) {
	g := newGated()
	h, table, mon, _ := gatedWorld(t, g)
	mon.exit = func(Status) ExitState { return 7 }
	id, _ := table.Open("g", nil, 3)
	if _, code := h.Online(id); code != ErrorIOPending {
		t.Fatalf("Online = %v", code)
	}
	g.steps <- struct{}{}
	mon.next(t)
	g.steps <- struct{}{}
	if r := mon.next(t); r.st.State != StateOnlinePending {
		t.Fatalf("report %+v: the operation should go on", r.st)
	}
	g.done <- nil
	if r := mon.next(t); r.st.State != StateOnline {
		t.Fatalf("report %+v, want Online", r.st)
	}
	found := false
	for _, l := range mon.logged() {
		if l.level == LogWarning && strings.Contains(l.msg, "ExitState(7)") {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning naming ExitState(7) in %v", mon.logged())
	}
	if got := ResourceExitStateTerminate.String(); got != "ResourceExitStateTerminate" {
		t.Errorf("String() = %q", got)
	}
}
