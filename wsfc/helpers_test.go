package wsfc

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// guard bounds a wait for something the host does in its own goroutines; it
// is a guard against a hung test, never the means of synchronisation.
const guard = 10 * time.Second

// report is one SetResourceStatus call.
type report struct {
	h  ResourceHandle
	st Status
}

// logLine is one LogEvent call.
type logLine struct {
	h     ResourceHandle
	level LogLevel
	msg   string
}

// fakeMonitor records the host's calls of the Resource Monitor's callbacks.
type fakeMonitor struct {
	reports chan report // buffered; a test reads them in order
	panicOn bool        // SetResourceStatus panics
	// exit, when set, is what SetResourceStatus returns for a report;
	// ResourceExitStateContinue otherwise. Set before the host runs.
	exit func(Status) ExitState

	mu   sync.Mutex
	logs []logLine
}

func newMonitor() *fakeMonitor { return &fakeMonitor{reports: make(chan report, 64)} }

func (m *fakeMonitor) SetResourceStatus(h ResourceHandle, st Status) ExitState {
	if m.panicOn {
		panic("fake monitor: SetResourceStatus told to panic")
	}
	m.reports <- report{h, st}
	if m.exit != nil {
		return m.exit(st)
	}
	return ResourceExitStateContinue
}

func (m *fakeMonitor) LogEvent(h ResourceHandle, level LogLevel, msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.logs = append(m.logs, logLine{h, level, msg})
}

func (m *fakeMonitor) logged() []logLine {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]logLine(nil), m.logs...)
}

// next returns the next report, failing t if none comes.
func (m *fakeMonitor) next(t *testing.T) report {
	t.Helper()
	select {
	case r := <-m.reports:
		return r
	case <-time.After(guard):
		t.Fatal("no SetResourceStatus")
		return report{}
	}
}

// none fails t if a report is waiting.
func (m *fakeMonitor) none(t *testing.T, why string) {
	t.Helper()
	select {
	case r := <-m.reports:
		t.Errorf("unexpected SetResourceStatus %+v: %s", r.st, why)
	default:
	}
}

// fakeEvents makes fakeEvents with handles 0x100, 0x101, …
type fakeEvents struct {
	mu     sync.Mutex
	events []*fakeEvent
	fail   error
}

func (f *fakeEvents) NewEvent() (FailureEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	e := &fakeEvent{h: uintptr(0x100 + len(f.events)), signalled: make(chan struct{}, 16)}
	f.events = append(f.events, e)
	return e, nil
}

// fakeEvent is a failure event that counts what is done to it.
type fakeEvent struct {
	h         uintptr
	signalled chan struct{} // one send per Set

	mu                sync.Mutex
	set               bool
	sets, resets      int
	closed, afterShut int // Close calls; calls after Close
}

func (e *fakeEvent) Handle() uintptr { return e.h }

func (e *fakeEvent) Set() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed > 0 {
		e.afterShut++
	}
	e.set = true
	e.sets++
	e.signalled <- struct{}{}
	return nil
}

func (e *fakeEvent) Reset() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed > 0 {
		e.afterShut++
	}
	e.set = false
	e.resets++
	return nil
}

func (e *fakeEvent) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed++
	return nil
}

func (e *fakeEvent) isSet() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set
}

// testSchema is the private-property schema of the test type.
var testSchema = properties.MustSchema(
	properties.Property{Name: "Port", Kind: properties.Uint32, Default: uint32(80), Min: uint32(1), Max: uint32(65535)},
	properties.Property{Name: "Comment", Kind: properties.String, Default: "", Reloadable: true},
	properties.Property{Name: "Build", Kind: properties.String, Default: "b1", ReadOnly: true},
)

// world is a host with one type, "Fake", whose resources are the fakes of
// the fakes field, in order of Open; a Startup has been done.
type world struct {
	t      *testing.T
	clk    *clock.Mock
	host   *Host
	table  *Table
	mon    *fakeMonitor
	events *fakeEvents
	fakes  chan *resourcetest.Fake // the next Open takes the next one
	store  *properties.MemStore
}

type worldOptions struct {
	policy wrapper.Policy
	opts   func(*Options)
}

func newWorld(t *testing.T, wo worldOptions) *world {
	t.Helper()
	w := &world{t: t, clk: clock.NewMock(), mon: newMonitor(), events: &fakeEvents{},
		fakes: make(chan *resourcetest.Fake, 8), store: properties.NewMemStore()}
	opts := Options{Clock: w.clk, Policy: wo.policy, Events: w.events,
		Store: func(string, Key) (properties.Store, error) { return w.store, nil }}
	if wo.opts != nil {
		wo.opts(&opts)
	}
	h, err := NewHost(opts)
	if err != nil {
		t.Fatal(err)
	}
	typ, err := resource.NewType("Fake", testSchema, func(context.Context, string, properties.Values) (resource.Resource, error) {
		select {
		case f := <-w.fakes:
			return f.Resource(), nil
		default:
			return resourcetest.NewFake(w.clk, resourcetest.Caps{}).Resource(), nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Register(typ, TypeOptions{}); err != nil {
		t.Fatal(err)
	}
	table, code := h.Startup("Fake", Version, Version, w.mon)
	if code != ErrorSuccess {
		t.Fatalf("Startup = %v", code)
	}
	w.host, w.table = h, table
	t.Cleanup(func() {
		if err := h.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return w
}

// open opens a resource backed by f (a fresh fake when nil), with handle h.
func (w *world) open(f *resourcetest.Fake, h ResourceHandle) ResID {
	w.t.Helper()
	if f != nil {
		w.fakes <- f
	}
	id, code := w.table.Open("r"+string(rune('0'+h)), nil, h)
	if code != ErrorSuccess || id == 0 {
		w.t.Fatalf("Open = %v, %v", id, code)
	}
	return id
}

// event returns the failure event made for the i-th opened resource.
func (w *world) event(i int) *fakeEvent {
	w.events.mu.Lock()
	defer w.events.mu.Unlock()
	return w.events.events[i]
}

// online brings id online, accepting either a direct answer or a pending
// one followed by its report.
func (w *world) online(id ResID) {
	w.t.Helper()
	_, code := w.host.Online(id)
	switch code {
	case ErrorSuccess:
	case ErrorIOPending:
		if r := w.mon.next(w.t); r.st.State != StateOnline {
			w.t.Fatalf("report %+v, want Online", r.st)
		}
	default:
		w.t.Fatalf("Online = %v", code)
	}
}

// gated is a resource whose Online takes one step per value sent on steps,
// reporting progress after each (R13), and then returns what is sent on
// done.
type gated struct {
	steps chan struct{}
	done  chan error
	// returned, when not nil, has a value sent each time an Online or
	// Offline returns: a test that sends on done after a call was
	// abandoned waits for that call to return first, or both calls could
	// receive it.
	returned chan struct{}
}

func newGated() *gated { return &gated{steps: make(chan struct{}), done: make(chan error)} }

func (g *gated) Online(ctx context.Context) error {
	if g.returned != nil {
		defer func() { g.returned <- struct{}{} }()
	}
	for {
		select {
		case <-g.steps:
			resource.Progress(ctx)
		case err := <-g.done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
func (g *gated) Offline(ctx context.Context) error { return g.Online(ctx) }
func (g *gated) IsAlive(context.Context) error     { return nil }

// gatedWorld is a host with one type, "Gated", whose every resource is g.
func gatedWorld(t *testing.T, g *gated) (*Host, *Table, *fakeMonitor, *fakeEvents) {
	t.Helper()
	mon, evs := newMonitor(), &fakeEvents{}
	h, err := NewHost(Options{Clock: clock.NewMock(), Events: evs,
		Store: func(string, Key) (properties.Store, error) { return properties.NewMemStore(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	typ, _ := resource.NewType("Gated", nil, func(context.Context, string, properties.Values) (resource.Resource, error) { return g, nil })
	if err := h.Register(typ, TypeOptions{}); err != nil {
		t.Fatal(err)
	}
	table, code := h.Startup("Gated", 0, 0xFFFF, mon)
	if code != ErrorSuccess {
		t.Fatalf("Startup = %v", code)
	}
	t.Cleanup(func() {
		if err := h.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return h, table, mon, evs
}
