package wsfc

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// Online: ERROR_IO_PENDING while the wrapper is pending (R10), a pending
// report with a growing checkpoint for each progress report (R13), then
// Online with the event handle.
func TestOnlinePendingCheckpointOnline(t *testing.T) {
	g := newGated()
	h, table, mon, evs := gatedWorld(t, g)
	id, code := table.Open("g", nil, 42)
	if code != ErrorSuccess {
		t.Fatalf("Open = %v", code)
	}
	event, code := h.Online(id)
	if code != ErrorIOPending {
		t.Fatalf("Online = %v, want ERROR_IO_PENDING", code)
	}
	ev := evs.events[0]
	if event != ev.h {
		t.Errorf("Online handed back event %#x, want %#x", event, ev.h)
	}
	var last uint32
	for i := range 3 {
		g.steps <- struct{}{}
		r := mon.next(t)
		if r.h != 42 || r.st.State != StateOnlinePending || r.st.CheckPoint <= last || r.st.EventHandle != 0 {
			t.Fatalf("report %d: %+v for %d; want OnlinePending, checkpoint above %d, for 42", i, r.st, r.h, last)
		}
		last = r.st.CheckPoint
	}
	g.done <- nil
	r := mon.next(t)
	if r.st.State != StateOnline || r.st.CheckPoint <= last || r.st.EventHandle != ev.h {
		t.Fatalf("final report %+v; want Online, checkpoint above %d, event %#x", r.st, last, ev.h)
	}
	if !h.IsAlive(id) || !h.LooksAlive(id) {
		t.Error("IsAlive or LooksAlive FALSE after a successful Online (R22)")
	}
	if ev.resets != 1 {
		t.Errorf("the event was reset %d times, want once, at Online", ev.resets)
	}
	// A second Online joins (R3): ERROR_SUCCESS at once, no report.
	if _, code := h.Online(id); code != ErrorSuccess {
		t.Errorf("Online of an Online resource = %v, want ERROR_SUCCESS", code)
	}
	// Offline: pending, progress, then Offline.
	if code := h.Offline(id); code != ErrorIOPending {
		t.Fatalf("Offline = %v", code)
	}
	g.steps <- struct{}{}
	if r := mon.next(t); r.st.State != StateOfflinePending || r.st.CheckPoint <= last {
		t.Fatalf("report %+v, want OfflinePending", r.st)
	}
	g.done <- nil
	if r := mon.next(t); r.st.State != StateOffline || r.st.EventHandle != 0 {
		t.Fatalf("report %+v, want Offline without the event", r.st)
	}
	if h.IsAlive(id) {
		t.Error("IsAlive TRUE once Offline")
	}
	mon.none(t, "nothing more was pending")
}

// A failed Online is reported as Failed; the failure is logged through
// LogEvent; IsAlive is FALSE.
func TestOnlineFailed(t *testing.T) {
	g := newGated()
	h, table, mon, _ := gatedWorld(t, g)
	id, _ := table.Open("g", nil, 7)
	if _, code := h.Online(id); code != ErrorIOPending {
		t.Fatalf("Online = %v", code)
	}
	g.done <- errors.New("port in use")
	if r := mon.next(t); r.st.State != StateFailed || r.st.EventHandle != 0 {
		t.Fatalf("report %+v, want Failed", r.st)
	}
	if h.IsAlive(id) {
		t.Error("IsAlive TRUE after a failed Online")
	}
	found := false
	for _, l := range mon.logged() {
		if l.h == 7 && l.level == LogError && strings.Contains(l.msg, "port in use") {
			found = true
		}
	}
	if !found {
		t.Errorf("no LOG_ERROR line with the failure for handle 7 in %v", mon.logged())
	}
}

// An outcome that arrives while the entry point still runs is its answer,
// and is not reported (the Resource Monitor has not been told the operation
// pends).
func TestOutcomeDuringTheCall(t *testing.T) {
	for _, c := range []struct {
		name  string
		op    resource.Op
		ev    resource.Event
		want  Errno
		event bool
	}{
		{"Online succeeded", resource.OpOnline, resource.Event{From: resource.OnlinePending, To: resource.Online}, ErrorSuccess, true},
		{"Online failed", resource.OpOnline, resource.Event{From: resource.OnlinePending, To: resource.Failed, Err: resource.ErrPendingTimeout}, ErrorTimeout, false},
		{"Online failed without an error", resource.OpOnline, resource.Event{From: resource.OnlinePending, To: resource.Failed}, ErrorResourceFailed, false},
		{"Offline succeeded", resource.OpOffline, resource.Event{From: resource.OfflinePending, To: resource.Offline}, ErrorSuccess, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			mon := newMonitor()
			e := &entry{mon: mon, rh: 1, event: &fakeEvent{h: 0x99, signalled: make(chan struct{}, 1)}}
			e.log = slog.New(slog.DiscardHandler)
			e.inCall = true
			gate{e}.Enter(func() {}) // the call begins operation 1
			from := resource.Offline
			if c.op == resource.OpOffline {
				from = resource.Online
			}
			e.sink(resource.Event{Seq: 1, From: from, To: c.ev.From})
			c.ev.Seq = 2
			e.sink(c.ev)
			ev, code := e.callEnded(c.op, c.ev.From, nil)
			if code != c.want {
				t.Errorf("answer %v, want %v", code, c.want)
			}
			if (ev == 0x99) != c.event {
				t.Errorf("event handle %#x", ev)
			}
			if e.op != resource.OpNone {
				t.Errorf("still waiting for %v", e.op)
			}
			mon.none(t, "the answer was direct")
		})
	}
}

// Either way an immediate Online is answered once: directly, or pending
// with exactly one report.
func TestImmediateOnlineAnsweredOnce(t *testing.T) {
	w := newWorld(t, worldOptions{})
	for i := range 20 {
		id := w.open(nil, ResourceHandle(i+1))
		_, code := w.host.Online(id)
		switch code {
		case ErrorSuccess:
			w.mon.none(t, "the Online was answered directly")
		case ErrorIOPending:
			if r := w.mon.next(t); r.st.State != StateOnline {
				t.Fatalf("report %+v", r.st)
			}
		default:
			t.Fatalf("Online = %v", code)
		}
		w.host.Close(id)
		w.mon.none(t, "Close reports nothing")
	}
}

// The failure event: signalled when a failure latches while Online (R23),
// not a status report; reset by the next Online; closed with the resource.
func TestFailureEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mon, evs := newMonitor(), &fakeEvents{}
		f := resourcetest.NewFake(nil, resourcetest.Caps{})
		h := hostFor(t, f, Options{Events: evs}, mon)
		id, _ := h.tables[0].Open("r", nil, 3)
		ev, code := h.Host.Online(id)
		synctest.Wait()
		if code == ErrorIOPending {
			if r := <-mon.reports; r.st.State != StateOnline {
				t.Fatalf("report %+v", r.st)
			}
		}
		e := evs.events[0]
		if ev != e.h || e.isSet() {
			t.Fatalf("event %#x set=%v, want %#x not set", ev, e.isSet(), e.h)
		}
		f.ReportFailure(errors.New("service died"))
		synctest.Wait()
		if !e.isSet() {
			t.Fatal("the failure event is not signalled after the failure report")
		}
		if h.Host.IsAlive(id) || h.Host.LooksAlive(id) {
			t.Error("IsAlive or LooksAlive TRUE after the failure")
		}
		mon.none(t, "a failure while Online is signalled, not reported")
		// The Resource Monitor reacts: Terminate, then Online again.
		h.Host.Terminate(id)
		if _, code := h.Host.Online(id); code != ErrorSuccess && code != ErrorIOPending {
			t.Fatalf("Online after the failure = %v", code)
		}
		synctest.Wait()
		if e.isSet() {
			t.Error("the event is still signalled after a new Online")
		}
		h.Host.Close(id)
		if e.closed != 1 {
			t.Errorf("the event was closed %d times", e.closed)
		}
		f.ReportFailure(errors.New("late"))
		synctest.Wait()
		if e.afterShut != 0 {
			t.Error("the event was used after it was closed")
		}
	})
}

// testHost is a Host with one type whose resource is a given fake.
type testHost struct {
	*Host
	tables []*Table
}

// hostFor returns a host (real clock: for synctest bubbles) serving type
// "T" whose resources are f.
func hostFor(t *testing.T, f *resourcetest.Fake, opts Options, mon Monitor) testHost {
	t.Helper()
	opts.Store = func(string, Key) (properties.Store, error) { return properties.NewMemStore(), nil }
	h, err := NewHost(opts)
	if err != nil {
		t.Fatal(err)
	}
	typ, _ := resource.NewType("T", testSchema, func(context.Context, string, properties.Values) (resource.Resource, error) { return f.Resource(), nil })
	_ = h.Register(typ, TypeOptions{})
	table, code := h.Startup("T", Version, Version, mon)
	if code != ErrorSuccess {
		t.Fatalf("Startup = %v", code)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	return testHost{h, []*Table{table}}
}

// Terminate during a hung Offline returns, leaves the resource Offline, and
// the cut-short Offline is never reported (R17).
func TestTerminateHungOffline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mon := newMonitor()
		f := resourcetest.NewFake(nil, resourcetest.Caps{}).Script(resource.OpOffline, resourcetest.HangUntilCancelled())
		h := hostFor(t, f, Options{}, mon)
		id, _ := h.tables[0].Open("r", nil, 5)
		if _, code := h.Host.Online(id); code == ErrorIOPending {
			synctest.Wait()
			<-mon.reports
		}
		if code := h.Host.Offline(id); code != ErrorIOPending {
			t.Fatalf("Offline = %v, want ERROR_IO_PENDING", code)
		}
		synctest.Wait()
		mon.none(t, "Offline hangs")
		h.Host.Terminate(id)
		synctest.Wait()
		mon.none(t, "the Offline Terminate cut short is not reported")
		if h.Host.IsAlive(id) {
			t.Error("IsAlive TRUE after Terminate")
		}
		if f.Count(resource.OpTerminate) != 1 {
			t.Errorf("the Terminator ran %d times, want once", f.Count(resource.OpTerminate))
		}
		// The resource can come back.
		if _, code := h.Host.Online(id); code != ErrorSuccess && code != ErrorIOPending {
			t.Fatalf("Online after Terminate = %v", code)
		}
	})
}

// A hung Offline escalates to the Terminator when the pending timeout
// passes (R16), and the outcome, Offline, is reported.
func TestOfflineEscalates(t *testing.T) {
	w := newWorld(t, worldOptions{policy: wrapper.Policy{PendingTimeout: 10 * time.Second, IsAliveInterval: resource.Never, LooksAliveInterval: resource.Never}})
	f := resourcetest.NewFake(w.clk, resourcetest.Caps{}).Script(resource.OpOffline, resourcetest.HangUntilCancelled())
	id := w.open(f, 1)
	w.online(id)
	if code := w.host.Offline(id); code != ErrorIOPending {
		t.Fatalf("Offline = %v", code)
	}
	// The deadline is armed before Offline returns (R11).
	w.clk.Add(10 * time.Second)
	r := w.mon.next(t)
	if r.st.State != StateOffline {
		t.Fatalf("report %+v, want Offline (forced)", r.st)
	}
	if f.Count(resource.OpTerminate) != 1 {
		t.Errorf("the Terminator ran %d times, want once", f.Count(resource.OpTerminate))
	}
}

// Without a Terminator the escalation cannot force the resource down: the
// outcome is Failed (R16).
func TestOfflineEscalationFails(t *testing.T) {
	w := newWorld(t, worldOptions{policy: wrapper.Policy{PendingTimeout: 10 * time.Second, IsAliveInterval: resource.Never, LooksAliveInterval: resource.Never}})
	f := resourcetest.NewFake(w.clk, resourcetest.Caps{NoTerminator: true}).Script(resource.OpOffline, resourcetest.HangUntilCancelled())
	id := w.open(f, 1)
	w.online(id)
	if code := w.host.Offline(id); code != ErrorIOPending {
		t.Fatalf("Offline = %v", code)
	}
	w.clk.Add(10 * time.Second)
	if r := w.mon.next(t); r.st.State != StateFailed {
		t.Fatalf("report %+v, want Failed", r.st)
	}
}

// A hung Online fails when the pending timeout passes (R11): reported
// Failed.
func TestOnlinePendingTimeout(t *testing.T) {
	w := newWorld(t, worldOptions{policy: wrapper.Policy{PendingTimeout: 30 * time.Second}})
	f := resourcetest.NewFake(w.clk, resourcetest.Caps{}).Script(resource.OpOnline, resourcetest.HangUntilCancelled())
	id := w.open(f, 1)
	if _, code := w.host.Online(id); code != ErrorIOPending {
		t.Fatalf("Online = %v", code)
	}
	w.clk.Add(30 * time.Second)
	if r := w.mon.next(t); r.st.State != StateFailed {
		t.Fatalf("report %+v, want Failed", r.st)
	}
}

// IsAlive and LooksAlive answer from the cache at once, from many
// goroutines, while the resource's own check hangs (R22).
func TestAliveNeverBlocks(t *testing.T) {
	w := newWorld(t, worldOptions{policy: wrapper.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never}})
	gate := resourcetest.NewGate()
	f := resourcetest.NewFake(w.clk, resourcetest.Caps{NoLooksAlive: true}).Script(resource.OpIsAlive, resourcetest.Hang(gate, nil))
	defer gate.Open()
	id := w.open(f, 1)
	w.online(id)
	w.clk.Add(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := f.WaitRunning(ctx, resource.OpIsAlive, 1); err != nil {
		t.Fatalf("the IsAlive check did not start: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	falses := 0
	for range 16 {
		wg.Go(func() {
			for i := range 500 {
				a := w.host.IsAlive(id)
				if i%2 == 1 {
					a = w.host.LooksAlive(id)
				}
				if !a {
					mu.Lock()
					falses++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait() // every call returned while the check still hangs
	if f.Running(resource.OpIsAlive) != 1 {
		t.Fatal("the check stopped hanging before the calls returned; the test proves nothing")
	}
	if falses != 0 {
		t.Errorf("%d calls answered FALSE; the cached result is a pass", falses)
	}
}
