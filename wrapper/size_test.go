package wrapper

import (
	"context"
	"testing"
	"unsafe"

	"github.com/benbjohnson/clock"
)

// Issue 10: a host keeps 100 000 idle resources, and each costs its
// Wrapper (the core inside it) toward the target of 512 bytes per idle
// resource. The Wrapper fills the 288-byte size class; one more word takes
// it to 320. Keep instants as stamps, and move what an idle resource does
// not need out of line (coreErrs, rare).
func TestWrapperSize(t *testing.T) {
	if got := unsafe.Sizeof(Wrapper{}); got > 288 {
		t.Errorf("Wrapper is %d bytes, over its 288-byte size class (issue 10: bytes per idle resource)", got)
	}
}

// Issue 10: a resource whose operations and checks succeed keeps none of
// the out-of-line records: no errors, and no LooksAlive result when it has
// no LooksAlive.
func TestIdleWrapperHasNoErrs(t *testing.T) {
	ctx := t.Context()
	w, err := New(healthy{}, Options{Clock: clock.NewMock()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := w.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	steps := []struct {
		name string
		do   func() error
	}{
		{"Online", func() error { _, err := w.Online(); return err }},
		{"Wait", func() error { return w.Wait(ctx) }},
		{"CheckNow", func() error { return w.CheckNow(ctx) }},
		{"CheckNow", func() error { return w.CheckNow(ctx) }},
		{"Status", func() error { w.Status(); return nil }},
		{"Offline", func() error { _, err := w.Offline(); return err }},
		{"Wait", func() error { return w.Wait(ctx) }},
		{"Online", func() error { _, err := w.Online(); return err }},
		{"Wait", func() error { return w.Wait(ctx) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		w.mu.Lock()
		errs, looks := w.core.errs, w.core.results.looks
		w.mu.Unlock()
		if errs != nil || looks != nil {
			t.Fatalf("after %s: errors %+v, LooksAlive result %+v: want none", s.name, errs, looks)
		}
	}
}
