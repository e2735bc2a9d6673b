package main

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/benbjohnson/clock"
	"github.com/resdll/resdll/wsfc"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestUsage(t *testing.T) {
	var b strings.Builder
	usage(&b)
	for _, want := range []string{WebType, ScriptedType, "-buildmode=c-shared"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, b.String())
		}
	}
}

// monitor records what the host tells the Resource Monitor.
type monitor struct {
	statuses chan wsfc.Status
	mu       sync.Mutex
	logs     []string
}

func (m *monitor) SetResourceStatus(_ wsfc.ResourceHandle, st wsfc.Status) wsfc.ExitState {
	m.statuses <- st
	return wsfc.ResourceExitStateContinue
}

func (m *monitor) LogEvent(_ wsfc.ResourceHandle, level wsfc.LogLevel, msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.logs = append(m.logs, level.String()+" "+msg)
}

func (m *monitor) next(t *testing.T) wsfc.Status {
	t.Helper()
	select {
	case st := <-m.statuses:
		return st
	case <-time.After(10 * time.Second): // a guard against a hang, not a wait for the host
		t.Fatal("no status report within 10 s")
		return wsfc.Status{}
	}
}

// events makes counting failure events.
type events struct{}

type event struct {
	mu  sync.Mutex
	set bool
}

func (events) NewEvent() (wsfc.FailureEvent, error) { return &event{}, nil }
func (e *event) Handle() uintptr                    { return 0xE1 }
func (e *event) Set() error                         { e.mu.Lock(); e.set = true; e.mu.Unlock(); return nil }
func (e *event) Reset() error                       { e.mu.Lock(); e.set = false; e.mu.Unlock(); return nil }
func (e *event) Close() error                       { return nil }

func control(t *testing.T, h *wsfc.Host, id wsfc.ResID, code uint32, in []byte) wsfc.Errno {
	t.Helper()
	_, rc := h.ResourceControl(id, code, in, nil)
	return rc
}

// dword writes a one-property list with a DWORD value.
func dword(name string, v uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 1)
	n := utf16.Encode([]rune(name + "\x00"))
	b = binary.LittleEndian.AppendUint32(b, 0x00040003)
	b = binary.LittleEndian.AppendUint32(b, uint32(2*len(n)))
	for _, c := range n {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint32(b, 0x00010002)
	b = binary.LittleEndian.AppendUint32(b, 4)
	b = binary.LittleEndian.AppendUint32(b, v)
	return binary.LittleEndian.AppendUint32(b, 0)
}

// The scripted type on Linux, through the same Host the DLL serves: the
// steps report progress, a failure signals the event, and Terminate ends a
// hung Offline (R13, R23, R17).
func TestScriptedOnLinux(t *testing.T) {
	h, err := newHost(wsfc.Options{Clock: clock.NewMock(), Events: events{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Types(); len(got) != 2 || got[0] != WebType || got[1] != ScriptedType {
		t.Fatalf("types = %q", got)
	}
	mon := &monitor{statuses: make(chan wsfc.Status, 16)}
	table, rc := h.Startup(ScriptedType, wsfc.Version, wsfc.Version, mon)
	if rc != wsfc.ErrorSuccess {
		t.Fatalf("Startup = %v", rc)
	}
	id, rc := table.Open("s1", nil, 7)
	if rc != wsfc.ErrorSuccess {
		t.Fatalf("Open = %v", rc)
	}
	defer func() { _ = h.Shutdown(context.Background()) }()
	if rc := control(t, h, id, wsfc.CtlResourceSetPrivateProperties, dword("OnlineSteps", 1)); rc != wsfc.ErrorSuccess {
		t.Fatalf("set OnlineSteps = %v", rc)
	}
	if _, rc := h.Online(id); rc != wsfc.ErrorIOPending {
		t.Fatalf("Online = %v, want ERROR_IO_PENDING", rc)
	}
	step, _ := wsfc.UserControlCode(CtlStep)
	if rc := control(t, h, id, step, nil); rc != wsfc.ErrorSuccess {
		t.Fatalf("step = %v", rc)
	}
	if st := mon.next(t); st.State != wsfc.StateOnlinePending || st.CheckPoint != 1 {
		t.Fatalf("first report %+v, want OnlinePending checkpoint 1", st)
	}
	if st := mon.next(t); st.State != wsfc.StateOnline || st.CheckPoint != 2 || st.EventHandle != 0xE1 {
		t.Fatalf("second report %+v, want Online checkpoint 2 with the event", st)
	}
	fail, _ := wsfc.UserControlCode(CtlFail)
	if rc := control(t, h, id, fail, nil); rc != wsfc.ErrorSuccess {
		t.Fatalf("fail = %v", rc)
	}
	if h.IsAlive(id) {
		t.Error("IsAlive after the failure report")
	}
	h.Terminate(id)
	if rc := control(t, h, id, wsfc.CtlResourceSetPrivateProperties, dword("HangOffline", 1)); rc != wsfc.ErrorSuccess {
		t.Fatalf("set HangOffline = %v", rc)
	}
	if err := setSteps(h, id, 0); err != wsfc.ErrorSuccess {
		t.Fatalf("set OnlineSteps = %v", err)
	}
	if _, rc := h.Online(id); rc == wsfc.ErrorIOPending {
		if st := mon.next(t); st.State != wsfc.StateOnline {
			t.Fatalf("report %+v, want Online", st)
		}
	} else if rc != wsfc.ErrorSuccess {
		t.Fatalf("Online = %v", rc)
	}
	if rc := h.Offline(id); rc != wsfc.ErrorIOPending {
		t.Fatalf("Offline = %v, want ERROR_IO_PENDING (it hangs)", rc)
	}
	h.Terminate(id)
	if h.IsAlive(id) {
		t.Error("IsAlive after Terminate")
	}
	select {
	case st := <-mon.statuses:
		t.Errorf("a report after Terminate: %+v", st)
	default:
	}
	h.Close(id)
	if h.Resources() != 0 {
		t.Errorf("%d resources open after Close", h.Resources())
	}
}

func setSteps(h *wsfc.Host, id wsfc.ResID, n uint32) wsfc.Errno {
	_, rc := h.ResourceControl(id, wsfc.CtlResourceSetPrivateProperties, dword("OnlineSteps", n), nil)
	return rc
}

// The scripted factory panics on cue; the panic is an error, and nothing of
// the resource remains (R40).
func TestScriptedFactoryPanic(t *testing.T) {
	h, err := newHost(wsfc.Options{Clock: clock.NewMock()})
	if err != nil {
		t.Fatal(err)
	}
	table, _ := h.Startup(ScriptedType, wsfc.Version, wsfc.Version, &monitor{statuses: make(chan wsfc.Status, 1)})
	if id, rc := table.Open("panic now", nil, 1); id != 0 || rc != wsfc.ErrorResourceFailed {
		t.Fatalf("Open = %v, %v; want 0, ERROR_RESOURCE_FAILED", id, rc)
	}
	if h.Resources() != 0 {
		t.Errorf("%d resources open", h.Resources())
	}
}

// The schema's defaults are what the DLL's GET answers.
func TestScriptedSchema(t *testing.T) {
	d := scriptedSchema.Defaults()
	if p, _ := d.GetUint32("Port"); p != 8080 {
		t.Errorf("Port default %d", p)
	}
	if _, ok := scriptedSchema.Lookup("version"); !ok {
		t.Error("no Version property")
	}
	if err := scriptedSchema.ValidateValues(d); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}
