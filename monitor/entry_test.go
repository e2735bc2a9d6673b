package monitor

import (
	"context"
	"testing"
	"unsafe"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// Issue 10: a host keeps 100 000 idle resources, and each costs its entry.
// The entry fills a 64-byte size class; one more field takes it to 80.
func TestEntrySize(t *testing.T) {
	if got := unsafe.Sizeof(entry{}); got > 48 {
		t.Errorf("entry is %d bytes, over its 48-byte size class: move what an idle resource does not need to extra, or what resources share to class", got)
	}
}

type idle struct{}

func (idle) Online(context.Context) error  { return nil }
func (idle) Offline(context.Context) error { return nil }
func (idle) IsAlive(context.Context) error { return nil }

// Issue 10: what an operator does to a resource that never failed, hung or
// had dependencies leaves it without extra state; a group of another name
// needs it from the start (R71).
func TestIdleEntryHasNoExtra(t *testing.T) {
	ctx := t.Context()
	m, err := New(Options{Clock: clock.NewMock()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	typ, err := resource.NewType("idle", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
		return idle{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterType(typ); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []Spec{{Name: "a", Type: "idle"}, {Name: "b", Type: "idle", Group: "b"}, {Name: "c", Type: "idle", Group: "g"}} {
		if err := m.Add(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"Online", func() error { _, err := m.Online("a"); return err }},
		{"Wait", func() error { return m.Wait(ctx, "a") }},
		{"Status", func() error { _, err := m.Status("a"); return err }},
		{"Offline", func() error { _, err := m.Offline("a"); return err }},
		{"Wait", func() error { return m.Wait(ctx, "a") }},
		{"Terminate", func() error { return m.Terminate(ctx, "a") }},
		{"OfflineGroup", func() error { return m.OfflineGroup(ctx, "b") }},
		{"Groups", func() error { m.Groups(); return nil }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		m.mu.Lock()
		a, b := m.entries.get("a").x, m.entries.get("b").x
		m.mu.Unlock()
		if a != nil || b != nil {
			t.Fatalf("after %s: extra state of a %v, of b (its group is its name) %v: want none", s.name, a, b)
		}
	}
	m.mu.Lock()
	c := m.entries.get("c").x
	m.mu.Unlock()
	if c == nil || c.group != "g" {
		t.Errorf("extra state of c (group g) is %+v: want the group", c)
	}
	if st, err := m.Status("c"); err != nil || st.Group != "g" {
		t.Errorf("Status(c) = group %q, %v: want g", st.Group, err)
	}
	if st, err := m.Status("b"); err != nil || st.Group != "b" {
		t.Errorf("Status(b) = group %q, %v: want b", st.Group, err)
	}
}
