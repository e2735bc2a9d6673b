package wsfc

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/benbjohnson/clock"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/resource/resourcetest"
)

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// panicKey is a Key that panics on every call.
type panicKey struct{}

func (panicKey) ReadSubkey(string) ([]KeyValue, error) { panic("panicKey: ReadSubkey") }
func (panicKey) Commit([]KeyChange) error              { panic("panicKey: Commit") }

// panicEvents panics when asked for an event.
type panicEvents struct{}

func (panicEvents) NewEvent() (FailureEvent, error) { panic("panicEvents: NewEvent") }

// No panic crosses an entry point: panics in what the host calls are
// recovered, logged with their stack, and answered with ERROR_GEN_FAILURE;
// the host goes on serving.
func TestPanicsAtEntryPoints(t *testing.T) {
	var log syncBuffer
	mon := newMonitor()
	var storePanics bool
	h, _ := NewHost(Options{Clock: clock.NewMock(), Logger: slog.New(slog.NewTextHandler(&log, nil)),
		Store: func(name string, key Key) (properties.Store, error) {
			if storePanics {
				panic("Options.Store told to panic")
			}
			if key != nil {
				return NewKeyStore(name, key), nil
			}
			return properties.NewMemStore(), nil
		}})
	typ, _ := resource.NewType("T", testSchema, func(_ context.Context, name string, _ properties.Values) (resource.Resource, error) {
		if name == "factory panics" {
			panic("factory told to panic")
		}
		return resourcetest.NewFake(nil, resourcetest.Caps{}).Resource(), nil
	})
	_ = h.Register(typ, TypeOptions{})
	table, _ := h.Startup("T", Version, Version, mon)
	defer func() { _ = h.Shutdown(context.Background()) }()

	// The factory's panic is the type's: an error (resource.ErrPanic), and
	// nothing of the resource remains (R40).
	if id, code := table.Open("factory panics", nil, 1); id != 0 || code != ErrorResourceFailed {
		t.Errorf("Open with a panicking factory = %d, %v; want 0, ERROR_RESOURCE_FAILED", id, code)
	}
	// A panic in the host's own path.
	storePanics = true
	if id, code := table.Open("store panics", nil, 1); id != 0 || code != ErrorGenFailure {
		t.Errorf("Open with a panicking store = %d, %v; want 0, ERROR_GEN_FAILURE", id, code)
	}
	storePanics = false
	if id, code := table.Open("key panics", panicKey{}, 1); id != 0 || code != ErrorGenFailure {
		t.Errorf("Open with a panicking key = %d, %v; want 0, ERROR_GEN_FAILURE", id, code)
	}
	if h.Resources() != 0 || typ.Refs() != 0 {
		t.Errorf("after the panics: %d resources, %d references", h.Resources(), typ.Refs())
	}
	if !strings.Contains(log.String(), "panic recovered") || !strings.Contains(log.String(), "goroutine") {
		t.Errorf("the host's log lacks the panic and its stack:\n%s", log.String())
	}
	// The host still serves.
	id, code := table.Open("fine", nil, 2)
	if code != ErrorSuccess {
		t.Fatalf("Open after the panics = %v", code)
	}
	h.Close(id)
}

// A panic while answering a control code is ERROR_GEN_FAILURE.
func TestPanicInResourceControl(t *testing.T) {
	h, _ := NewHost(Options{Clock: clock.NewMock()})
	typ, _ := resource.NewType("T", testSchema, func(context.Context, string, properties.Values) (resource.Resource, error) {
		return resourcetest.NewFake(nil, resourcetest.Caps{}).Resource(), nil
	})
	_ = h.Register(typ, TypeOptions{})
	table, _ := h.Startup("T", Version, Version, newMonitor())
	key := &toggleKey{memKey: newMemKey()}
	id, code := table.Open("r", key, 1)
	if code != ErrorSuccess {
		t.Fatalf("Open = %v", code)
	}
	defer h.Close(id)
	key.panics = true
	if _, code := h.ResourceControl(id, CtlResourceGetPrivateProperties, nil, make([]byte, 512)); code != ErrorGenFailure {
		t.Errorf("GET with a panicking key = %v, want ERROR_GEN_FAILURE", code)
	}
	key.panics = false
	if _, code := h.ResourceControl(id, CtlResourceGetPrivateProperties, nil, make([]byte, 512)); code != ErrorSuccess {
		t.Errorf("GET afterwards = %v", code)
	}
}

// toggleKey panics on reads while panics is set.
type toggleKey struct {
	*memKey
	panics bool
}

func (k *toggleKey) ReadSubkey(s string) ([]KeyValue, error) {
	if k.panics {
		panic("toggleKey: ReadSubkey")
	}
	return k.memKey.ReadSubkey(s)
}

// Panics in the resource's entry points are the wrapper's (R6): an Online
// that panics is reported Failed, a Control that panics answers
// ERROR_RESOURCE_FAILED, and the process goes on.
func TestResourcePanics(t *testing.T) {
	w := newWorld(t, worldOptions{})
	f := resourcetest.NewFake(w.clk, resourcetest.Caps{}).
		Script(resource.OpOnline, resourcetest.Panic("Online told to panic")).
		Script(resource.OpControl, resourcetest.Panic("Control told to panic"))
	id := w.open(f, 1)
	code := userCode(t, resource.FirstResourceControlCode)
	if _, rc := w.host.ResourceControl(id, code, nil, nil); rc != ErrorResourceFailed {
		t.Errorf("a panicking Control = %v, want ERROR_RESOURCE_FAILED", rc)
	}
	_, rc := w.host.Online(id)
	switch rc {
	case ErrorIOPending:
		if r := w.mon.next(t); r.st.State != StateFailed {
			t.Errorf("report %+v, want Failed", r.st)
		}
	case ErrorResourceFailed:
	default:
		t.Errorf("Online that panics = %v", rc)
	}
}

func userCode(t *testing.T, c resource.ControlCode) uint32 {
	t.Helper()
	code, err := UserControlCode(c)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// Panics in the Resource Monitor's callbacks, and in the event source, do
// not escape the host's goroutines or entry points.
func TestPanickingCallbacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log syncBuffer
		mon := newMonitor()
		mon.panicOn = true
		gate := resourcetest.NewGate()
		f := resourcetest.NewFake(nil, resourcetest.Caps{}).Script(resource.OpOnline, resourcetest.Hang(gate, nil))
		h := hostFor(t, f, Options{Logger: slog.New(slog.NewTextHandler(&log, nil))}, panicLogMonitor{mon})
		id, _ := h.tables[0].Open("r", nil, 1)
		if _, code := h.Host.Online(id); code != ErrorIOPending {
			t.Fatalf("Online = %v", code)
		}
		gate.Open()
		synctest.Wait()
		if !strings.Contains(log.String(), "panic recovered") {
			t.Errorf("the host's log lacks the recovered panic of SetResourceStatus:\n%s", log.String())
		}
		if !h.Host.IsAlive(id) {
			t.Error("the resource is not Online after its report panicked")
		}
		h.Host.Close(id)
		if code := h.Host.Offline(id); code != ErrorInvalidHandle {
			t.Errorf("Offline after Close = %v", code)
		}
	})
	h, _ := NewHost(Options{Clock: clock.NewMock(), Events: panicEvents{},
		Store: func(string, Key) (properties.Store, error) { return properties.NewMemStore(), nil }})
	typ, _ := resource.NewType("T", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
		return resourcetest.NewFake(nil, resourcetest.Caps{}).Resource(), nil
	})
	_ = h.Register(typ, TypeOptions{})
	table, _ := h.Startup("T", Version, Version, newMonitor())
	if id, code := table.Open("r", nil, 1); id != 0 || code != ErrorGenFailure {
		t.Errorf("Open with a panicking event source = %d, %v", id, code)
	}
	evs := &fakeEvents{fail: errors.New("no events today")}
	h2, _ := NewHost(Options{Clock: clock.NewMock(), Events: evs,
		Store: func(string, Key) (properties.Store, error) { return properties.NewMemStore(), nil }})
	_ = h2.Register(typ, TypeOptions{})
	table2, _ := h2.Startup("T", Version, Version, newMonitor())
	id, code := table2.Open("r", nil, 1)
	if code != ErrorSuccess {
		t.Fatalf("Open without an event = %v, want success (the Resource Monitor polls)", code)
	}
	if ev, _ := h2.Online(id); ev != 0 {
		t.Errorf("Online handed back event %#x without one", ev)
	}
	_ = h2.Shutdown(context.Background())
}

// panicLogMonitor panics in LogEvent too.
type panicLogMonitor struct{ *fakeMonitor }

func (panicLogMonitor) LogEvent(ResourceHandle, LogLevel, string) { panic("LogEvent told to panic") }

// An Open that fails reaches the cluster log through LogEvent for the
// resource's handle, not only Options.Logger: a factory's error, a
// factory's panic with its stack (R6), and a panic of the host's own path
// with its stack.
func TestOpenFailuresReachTheClusterLog(t *testing.T) {
	mon := newMonitor()
	var storePanics bool
	h, _ := NewHost(Options{Clock: clock.NewMock(),
		Store: func(string, Key) (properties.Store, error) {
			if storePanics {
				panic("Options.Store told to panic")
			}
			return properties.NewMemStore(), nil
		}})
	typ, _ := resource.NewType("T", nil, func(_ context.Context, name string, _ properties.Values) (resource.Resource, error) {
		if name == "panics" {
			panic("factory told to panic")
		}
		return nil, errors.New("the configuration file is missing")
	})
	_ = h.Register(typ, TypeOptions{})
	table, _ := h.Startup("T", Version, Version, mon)
	defer func() { _ = h.Shutdown(context.Background()) }()

	for _, c := range []struct {
		name   string
		rh     ResourceHandle
		store  bool
		level  LogLevel
		want   []string
		answer Errno
	}{
		{"fails", 1, false, LogError, []string{"Open failed", "the configuration file is missing"}, ErrorResourceFailed},
		{"panics", 2, false, LogError, []string{"Open failed", "factory told to panic", "stack=", "goroutine "}, ErrorResourceFailed},
		{"store", 3, true, LogSevere, []string{"panic recovered", "Options.Store told to panic", "stack=", "goroutine "}, ErrorGenFailure},
	} {
		storePanics = c.store
		if id, code := table.Open(c.name, nil, c.rh); id != 0 || code != c.answer {
			t.Errorf("Open(%q) = %d, %v; want 0, %v", c.name, id, code, c.answer)
		}
		found := false
		for _, l := range mon.logged() {
			if l.h != c.rh || l.level != c.level {
				continue
			}
			all := true
			for _, w := range c.want {
				all = all && strings.Contains(l.msg, w)
			}
			found = found || all
		}
		if !found {
			t.Errorf("Open(%q): no %v line for handle %d holding %q in %v", c.name, c.level, c.rh, c.want, mon.logged())
		}
	}
}

// panicHandler is a slog.Handler that panics on every record at Warn and
// above.
type panicHandler struct{}

func (panicHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (panicHandler) Handle(context.Context, slog.Record) error {
	panic("the log handler told to panic")
}
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicHandler) WithGroup(string) slog.Handler      { return h }

// A logger that panics while the host logs, even while it logs a recovered
// panic, does not take the entry point down with it: nothing crosses into
// C.
func TestPanickingLogger(t *testing.T) {
	mon := newMonitor()
	h, _ := NewHost(Options{Clock: clock.NewMock(), Logger: slog.New(panicHandler{}),
		Store: func(string, Key) (properties.Store, error) { panic("Options.Store told to panic") }})
	_ = h.Register(newType(t, "T"), TypeOptions{})
	defer func() { _ = h.Shutdown(context.Background()) }()
	table, code := h.Startup("T", Version, Version, mon)
	if code != ErrorSuccess {
		t.Fatalf("Startup = %v", code)
	}
	// The store panics; the host logs the panic through the panicking
	// logger.
	if id, code := table.Open("r", nil, 1); id != 0 || code != ErrorGenFailure {
		t.Errorf("Open = %d, %v; want 0, ERROR_GEN_FAILURE", id, code)
	}
	// The host's warnings panic; the recovery logs through it again.
	if _, code := h.Startup("Nope", Version, Version, mon); code != ErrorGenFailure {
		t.Errorf("Startup of an unknown type, logging through a panicking logger = %v, want ERROR_GEN_FAILURE", code)
	}
	if _, code := h.ResourceTypeControl("Nope", CtlResourceTypeUnknown, nil, nil); code != ErrorGenFailure {
		t.Errorf("ResourceTypeControl logging through a panicking logger = %v, want ERROR_GEN_FAILURE", code)
	}
	h.Terminate(42) // logs the unknown RESID: must return
	if h.IsAlive(42) {
		t.Error("IsAlive of an unknown RESID TRUE")
	}
}
