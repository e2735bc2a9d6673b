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

// A scheduled check's record (running) is in a size class of its own, not
// the Wrapper's: sharing it, a check cost 20 % more CPU at 100 000 resources
// (issue 10; the scale program, running padded from 280 to 320 bytes: 1.55
// → 1.29 µs per check; the cause was not established).
func TestRunningSizeClassNotTheWrapper(t *testing.T) {
	r, w := unsafe.Sizeof(running{}), unsafe.Sizeof(Wrapper{})
	cr, okr := sizeClass(r)
	cw, okw := sizeClass(w)
	if !okr || !okw {
		t.Fatalf("running is %d bytes and Wrapper %d: outside 129–512, where sizeClass knows Go's classes", r, w)
	}
	if cr == cw {
		t.Errorf("running is %d bytes and Wrapper %d: both in the %d-byte size class", r, w, cr)
	}
}

// sizeClass returns the size class Go's allocator puts an object of n
// bytes in, for 128 < n ≤ 512: the classes are 16 bytes apart up to 256
// and 32 apart up to 512.
func sizeClass(n uintptr) (uintptr, bool) {
	switch {
	case n <= 128 || n > 512:
		return 0, false
	case n <= 256:
		return (n + 15) &^ 15, true
	}
	return (n + 31) &^ 31, true
}
