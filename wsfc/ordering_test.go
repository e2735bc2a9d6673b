package wsfc

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/resource/resourcetest"
)

// The events of two Onlines with a Terminate between them (R4, R17):
// operation 1's pending transition and its end by the Terminate, then
// operation 2's pending transition and its outcome.
var (
	pending1 = resource.Event{Seq: 1, Kind: resource.StateChanged, From: resource.Offline, To: resource.OnlinePending, Op: resource.OpOnline}
	ended1   = resource.Event{Seq: 2, Kind: resource.StateChanged, From: resource.OnlinePending, To: resource.Offline, Op: resource.OpTerminate, Forced: true}
	pending2 = resource.Event{Seq: 3, Kind: resource.StateChanged, From: resource.Offline, To: resource.OnlinePending, Op: resource.OpOnline}
	online2  = resource.Event{Seq: 4, Kind: resource.StateChanged, From: resource.OnlinePending, To: resource.Online, Op: resource.OpOnline}
)

// An outcome is the answer, or the report, of the operation it ends, never
// of a later one: the end of a terminated Online, delivered late, is not
// the outcome of the next Online, whenever its delivery comes. The entry
// is driven by hand, step by step: "begin" is the wrapper beginning the
// second Online (its gate's Enter), "end" the entry point's answer.
func TestLateOutcomeOfAnEarlierOperation(t *testing.T) {
	for _, c := range []struct {
		name    string
		steps   []any // a resource.Event delivered, or "begin", or "end"
		answer  Errno
		reports []ResourceState
	}{
		{"the earlier outcome delivered during the call", []any{ended1, "begin", pending2, "end", online2}, ErrorIOPending, []ResourceState{StateOnline}},
		{"the earlier outcome delivered during the call, this one's pending transition after it", []any{ended1, "begin", "end", pending2, online2}, ErrorIOPending, []ResourceState{StateOnline}},
		{"every event delivered after the call", []any{"begin", "end", ended1, pending2, online2}, ErrorIOPending, []ResourceState{StateOnline}},
		{"this one's outcome delivered during the call too", []any{ended1, "begin", pending2, online2, "end"}, ErrorSuccess, nil},
		{"the earlier outcome delivered during the call, after this one began", []any{"begin", ended1, pending2, "end", online2}, ErrorIOPending, []ResourceState{StateOnline}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mon := newMonitor()
			e := &entry{mon: mon, rh: 1, log: slog.New(slog.DiscardHandler)}
			// Online 1: pending, reported later; then Terminate.
			e.inCall = true
			gate{e}.Enter(func() {})
			e.sink(pending1)
			if _, code := e.callEnded(resource.OpOnline, resource.OnlinePending, nil); code != ErrorIOPending {
				t.Fatalf("Online 1 = %v", code)
			}
			e.op = resource.OpNone // what the Terminate entry point does
			// Online 2.
			e.inCall = true
			var answer Errno
			for _, s := range c.steps {
				switch s := s.(type) {
				case resource.Event:
					e.sink(s)
				case string:
					if s == "begin" {
						gate{e}.Enter(func() {})
					} else {
						_, answer = e.callEnded(resource.OpOnline, resource.OnlinePending, nil)
					}
				}
			}
			if answer != c.answer {
				t.Errorf("Online 2 = %v, want %v", answer, c.answer)
			}
			var got []ResourceState
			for len(mon.reports) > 0 {
				got = append(got, (<-mon.reports).st.State)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.reports) {
				t.Errorf("reports %v, want %v", got, c.reports)
			}
		})
	}
}

// delayed stands between a wrapper and the entry's sink and holds the
// events while hold is set, as a goroutine stalled in the sink would: the
// events queue behind it, in order, and come out later.
type delayed struct {
	mu   sync.Mutex // held while an event is delivered: one at a time, in order
	next func(resource.Event)
	hold bool
	held []resource.Event
	late int // events delivered late, once held
	// flushOn, when set while holding, releases what is held, then the
	// event itself, when an event it matches arrives.
	flushOn func(resource.Event) bool
}

func (d *delayed) sink(ev resource.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hold && d.flushOn != nil && d.flushOn(ev) {
		d.flushLocked()
	}
	if d.hold {
		d.held = append(d.held, ev)
		return
	}
	d.next(ev)
}

func (d *delayed) set(hold bool, flushOn func(resource.Event) bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hold, d.flushOn = hold, flushOn
}

func (d *delayed) release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.flushLocked()
}

func (d *delayed) flushLocked() {
	d.hold, d.flushOn = false, nil
	for _, ev := range d.held {
		d.next(ev)
	}
	d.late += len(d.held)
	d.held = nil
}

// The same through a real wrapper and the entry points: the
// OnlinePending→Offline of a Terminate, delivered late, during the next
// Online call or after it, is not taken for that Online's outcome (R4).
func TestTerminatedOutcomeDeliveredLate(t *testing.T) {
	for _, c := range []struct {
		name   string
		during bool // the held events come out during the next Online call, else after it
	}{
		{"during the next Online", true},
		{"after the next Online returned", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			d := &delayed{}
			w.host.sinkHook = func(next func(resource.Event)) func(resource.Event) {
				d.next = next
				return d.sink
			}
			second := resourcetest.NewGate()
			defer second.Open()
			f := resourcetest.NewFake(w.clk, resourcetest.Caps{}).
				Script(resource.OpOnline, resourcetest.HangUntilCancelled(), resourcetest.Hang(second, nil))
			id := w.open(f, 1)
			if _, code := w.host.Online(id); code != ErrorIOPending {
				t.Fatalf("Online 1 = %v", code)
			}
			var flushOn func(resource.Event) bool
			if c.during {
				// When Online 2's pending transition is delivered, inside
				// its call, the held events come out first.
				flushOn = func(ev resource.Event) bool {
					return ev.Kind == resource.StateChanged && ev.To == resource.OnlinePending
				}
			}
			d.set(true, flushOn)
			w.host.Terminate(id)
			_, code := w.host.Online(id)
			d.release()
			if d.late < 2 {
				t.Fatalf("%d events were delivered late; the Terminate's should have been: the test proves nothing", d.late)
			}
			if code != ErrorIOPending {
				t.Fatalf("Online 2 = %v, want ERROR_IO_PENDING: it hangs", code)
			}
			w.mon.none(t, "Online 2 hangs; Online 1 was terminated")
			second.Open()
			if r := w.mon.next(t); r.st.State != StateOnline {
				t.Fatalf("report %+v, want Online: Online 2's outcome", r.st)
			}
			w.mon.none(t, "one report for one operation")
			for _, l := range w.mon.logged() {
				if strings.Contains(l.msg, "refused") {
					t.Errorf("unexpected log line %q", l.msg)
				}
			}
		})
	}
}
