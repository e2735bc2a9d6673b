package wsfc

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

func newType(t *testing.T, name string) *resource.Type {
	t.Helper()
	typ, err := resource.NewType(name, nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
		return resourcetest.NewFake(nil, resourcetest.Caps{}).Resource(), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

// Startup checks the version range, then the type, and hands each type a
// table of its own.
func TestStartup(t *testing.T) {
	h, err := NewHost(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Alpha", "Beta"} {
		if err := h.Register(newType(t, name), TypeOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mon := newMonitor()
	for _, c := range []struct {
		name     string
		typ      string
		min, max uint32
		mon      Monitor
		want     Errno
	}{
		{"V1 only", "Alpha", 0x100, 0x100, mon, ErrorSuccess},
		{"a range holding V1", "Alpha", 0x001, 0x200, mon, ErrorSuccess},
		{"versions above V1", "Alpha", 0x200, 0x300, mon, ErrorRevisionMismatch},
		{"versions below V1", "Alpha", 0x000, 0x0FF, mon, ErrorRevisionMismatch},
		{"an empty range", "Alpha", 0x200, 0x100, mon, ErrorRevisionMismatch},
		{"the version is checked before the type", "Gamma", 0x200, 0x300, mon, ErrorRevisionMismatch},
		{"an unknown type", "Gamma", 0x100, 0x100, mon, ErrorModNotFound},
		{"the name without regard to case", "bETA", 0x100, 0x100, mon, ErrorSuccess},
		{"no callbacks", "Beta", 0x100, 0x100, nil, ErrorInvalidParameter},
	} {
		t.Run(c.name, func(t *testing.T) {
			table, code := h.Startup(c.typ, c.min, c.max, c.mon)
			if code != c.want {
				t.Fatalf("Startup(%q, %#x, %#x) = %v, want %v", c.typ, c.min, c.max, code, c.want)
			}
			if (table != nil) != (c.want == ErrorSuccess) {
				t.Errorf("table = %v with %v", table, code)
			}
		})
	}
	a1, _ := h.Startup("Alpha", Version, Version, mon)
	a2, _ := h.Startup("ALPHA", Version, Version, mon)
	b, _ := h.Startup("Beta", Version, Version, mon)
	if a1 != a2 {
		t.Error("a second Startup of a type gave another table")
	}
	if a1 == b || a1.Index() != 0 || b.Index() != 1 || a1.TypeName() != "Alpha" || b.TypeName() != "Beta" || a1.Host() != h {
		t.Errorf("tables: Alpha #%d %q, Beta #%d %q; want a table per type, in registration order", a1.Index(), a1.TypeName(), b.Index(), b.TypeName())
	}
}

func TestRegister(t *testing.T) {
	h, _ := NewHost(Options{})
	if err := h.Register(newType(t, "Web"), TypeOptions{}); err != nil {
		t.Fatal(err)
	}
	bad := wrapper.Policy{PendingTimeout: -5 * time.Second}
	for name, err := range map[string]error{
		"nil type":                      h.Register(nil, TypeOptions{}),
		"a name taken, in another case": h.Register(newType(t, "WEB"), TypeOptions{}),
		"a bad policy":                  h.Register(newType(t, "Other"), TypeOptions{Policy: &bad}),
	} {
		if !errors.Is(err, resource.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
	}
	if got := h.Types(); len(got) != 1 || got[0] != "Web" {
		t.Errorf("Types() = %q", got)
	}
}

func TestNewHostOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"negative CloseTimeout": {CloseTimeout: -3 * time.Second},
		"bad Policy":            {Policy: wrapper.Policy{CheckTimeout: -time.Second}},
	} {
		if _, err := NewHost(opts); !errors.Is(err, resource.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
	}
	if _, err := NewHost(Options{CloseTimeout: resource.Never}); err != nil {
		t.Errorf("CloseTimeout Never: %v", err)
	}
}

// The handle table: distinct RESIDs, never reused; unknown and closed ones
// answered without harm; Close once.
func TestHandleTable(t *testing.T) {
	w := newWorld(t, worldOptions{})
	f1 := resourcetest.NewFake(w.clk, resourcetest.Caps{})
	a := w.open(f1, 1)
	b := w.open(nil, 2)
	if a == 0 || b == 0 || a == b {
		t.Fatalf("RESIDs %d and %d", a, b)
	}
	if n := w.host.Resources(); n != 2 {
		t.Errorf("Resources() = %d, want 2", n)
	}
	w.host.Close(a)
	if f1.Closes() != 1 {
		t.Errorf("the resource's Close ran %d times, want 1 (R18)", f1.Closes())
	}
	w.host.Close(a) // a second Close is a no-op
	if f1.Closes() != 1 {
		t.Errorf("after a second Close the resource's Close ran %d times, want 1", f1.Closes())
	}
	if ev := w.event(0); ev.closed != 1 {
		t.Errorf("the failure event was closed %d times, want 1", ev.closed)
	}
	c := w.open(nil, 3)
	if c == a || c == b {
		t.Errorf("RESID %d reused", c)
	}
	for _, id := range []ResID{a, 0, 999} {
		if _, code := w.host.Online(id); code != ErrorInvalidHandle {
			t.Errorf("Online(%d) = %v, want ERROR_INVALID_HANDLE", id, code)
		}
		if code := w.host.Offline(id); code != ErrorInvalidHandle {
			t.Errorf("Offline(%d) = %v", id, code)
		}
		if w.host.IsAlive(id) || w.host.LooksAlive(id) {
			t.Errorf("IsAlive or LooksAlive(%d) TRUE", id)
		}
		if _, code := w.host.ResourceControl(id, CtlResourceUnknown, nil, nil); code != ErrorInvalidHandle {
			t.Errorf("ResourceControl(%d) = %v", id, code)
		}
		w.host.Terminate(id)
		w.host.Close(id)
	}
	if n := w.host.Resources(); n != 2 {
		t.Errorf("Resources() = %d, want 2", n)
	}
	if err := w.host.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := w.host.Resources(); n != 0 {
		t.Errorf("Resources() after Shutdown = %d", n)
	}
}

// An Open that fails leaves nothing behind (R40) and says why.
func TestOpenFails(t *testing.T) {
	boom := errors.New("boom")
	var refs *resource.Type
	h, _ := NewHost(Options{Clock: clock.NewMock(), Events: &fakeEvents{}})
	typ, _ := resource.NewSharedType("Shared", nil,
		resource.Shared[int]{Load: func(context.Context) (int, error) { return 1, nil }},
		func(_ context.Context, _ int, name string, _ properties.Values) (resource.Resource, error) {
			if name == "bad" {
				return nil, resource.ErrNotConfigured
			}
			return nil, boom
		})
	refs = typ
	_ = h.Register(typ, TypeOptions{})
	table, _ := h.Startup("Shared", Version, Version, newMonitor())
	for _, c := range []struct {
		name string
		key  Key
		want Errno
	}{
		{"bad", newMemKey(), ErrorBadConfiguration},
		{"other", newMemKey(), ErrorResourceFailed},
		{"", newMemKey(), ErrorInvalidParameter},         // R59: no name
		{"no key", nil, ErrorInvalidParameter},           // no key and no Options.Store
		{" spaced ", newMemKey(), ErrorInvalidParameter}, // R59
	} {
		id, code := table.Open(c.name, c.key, 1)
		if id != 0 || code != c.want {
			t.Errorf("Open(%q) = %d, %v; want 0, %v", c.name, id, code, c.want)
		}
	}
	if h.Resources() != 0 || refs.Refs() != 0 {
		t.Errorf("after failed Opens: %d resources, %d type references", h.Resources(), refs.Refs())
	}
}

// Without Options.Store, a resource's properties live under its key.
func TestOpenWithKey(t *testing.T) {
	h, _ := NewHost(Options{Clock: clock.NewMock()})
	typ, _ := resource.NewType("T", testSchema, func(_ context.Context, _ string, vals properties.Values) (resource.Resource, error) {
		if p, _ := vals.GetUint32("Port"); p != 8443 {
			return nil, errors.New("the stored Port was not handed to the factory")
		}
		return resourcetest.NewFake(nil, resourcetest.Caps{}).Resource(), nil
	})
	_ = h.Register(typ, TypeOptions{})
	table, _ := h.Startup("T", Version, Version, newMonitor())
	key := newMemKey()
	ks := NewKeyStore("res", key)
	mgr, _ := properties.NewManager(properties.Options{Store: ks, Schema: testSchema})
	if _, err := mgr.Set(context.Background(), "res", mustValues(t, map[string]any{"Port": uint32(8443)}), properties.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	id, code := table.Open("res", key, 1)
	if code != ErrorSuccess {
		t.Fatalf("Open = %v", code)
	}
	out := make([]byte, 1024)
	in, _ := EncodePropertyList(testSchema, mustValues(t, map[string]any{"Comment": "via the key"}))
	if _, code := h.ResourceControl(id, CtlResourceSetPrivateProperties, in, out); code != ErrorSuccess {
		t.Fatalf("set = %v", code)
	}
	if kvs, _ := key.ReadSubkey("Parameters"); len(kvs) != 2 {
		t.Errorf("Parameters holds %d values, want Port and Comment", len(kvs))
	}
	h.Close(id)
}

func mustValues(t *testing.T, m map[string]any) properties.Values {
	t.Helper()
	v, err := properties.NewValues(m)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Close waits at most CloseTimeout for a call that hangs, then returns; the
// resource's Close runs when the call ends (R18). In a synctest bubble, so
// the clock moves when everything waits, and the test knows when the host's
// goroutines have settled.
func TestCloseTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := NewHost(Options{CloseTimeout: 5 * time.Second,
			Store: func(string, Key) (properties.Store, error) { return properties.NewMemStore(), nil }})
		if err != nil {
			t.Fatal(err)
		}
		gate := resourcetest.NewGate()
		f := resourcetest.NewFake(nil, resourcetest.Caps{NoTerminator: true}).Script(resource.OpOnline, resourcetest.Hang(gate, nil))
		typ, _ := resource.NewType("T", nil, func(context.Context, string, properties.Values) (resource.Resource, error) { return f.Resource(), nil })
		_ = h.Register(typ, TypeOptions{})
		table, _ := h.Startup("T", Version, Version, newMonitor())
		id, _ := table.Open("r", nil, 1)
		if _, code := h.Online(id); code != ErrorIOPending {
			t.Fatalf("Online = %v", code)
		}
		start := time.Now()
		h.Close(id) // returns once its 5 s have passed on the bubble's clock
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Close returned after %v, want the CloseTimeout, 5s", d)
		}
		if f.Closes() != 0 {
			t.Error("the resource's Close ran while its Online still runs")
		}
		gate.Open()
		synctest.Wait()
		if f.Closes() != 1 {
			t.Errorf("the resource's Close ran %d times once the Online returned, want 1", f.Closes())
		}
	})
}
