package healthcheck

import (
	"testing"
	"time"
	"unsafe"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/resource"
)

// Issue 10: a node keeps a registration per Online resource. It fills the
// 80-byte size class; one more word takes it to 96. What a check reports
// comes back through Done, which names the registration, so it keeps no
// function per kind; and an alarm's interval is its policy's.
func TestRegistrationSize(t *testing.T) {
	if got := unsafe.Sizeof(registration{}); got > 80 {
		t.Errorf("registration is %d bytes, over its 80-byte size class", got)
	}
}

// SetPolicy keeps each schedule's phase: the next tick is due one new
// interval after the last tick was due, by the old interval; a time already
// past is due at once.
func TestSetPolicyKeepsPhase(t *testing.T) {
	clk := clock.NewMock()
	s := New(Options{Clock: clk})
	tg := &funcTarget{check: func() {}}
	reg := s.Register(tg, Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never, FailureThreshold: 1})
	defer reg.Unregister()
	r := reg.(*registration)
	dueAt := func() time.Duration {
		t.Helper()
		s.tmu.Lock()
		defer s.tmu.Unlock()
		if r.isAlive.index < 0 {
			t.Fatal("IsAlive is not armed")
		}
		return time.Duration(s.due(&r.isAlive))
	}
	clk.Add(21 * time.Second) // ticks at 10 s and 20 s; the next due at 30 s
	if got := dueAt(); got != 30*time.Second {
		t.Fatalf("due at %v, want 30s", got)
	}
	reg.SetPolicy(Policy{IsAliveInterval: 4 * time.Second, LooksAliveInterval: resource.Never, FailureThreshold: 1})
	if got := dueAt(); got != 24*time.Second {
		t.Errorf("after SetPolicy at 21 s: due at %v, want 24s (the last tick at 20 s + 4 s)", got)
	}
	clk.Add(9 * time.Second) // 30 s: ticks at 24 s and 28 s
	reg.SetPolicy(Policy{IsAliveInterval: time.Second, LooksAliveInterval: resource.Never, FailureThreshold: 1})
	if got := dueAt(); got != 30*time.Second {
		t.Errorf("after SetPolicy at 30 s: due at %v, want 30s (the last tick at 28 s + 1 s is past: at once)", got)
	}
}
