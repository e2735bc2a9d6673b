package wrapper

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/resource"
)

type healthy struct{}

func (healthy) Online(context.Context) error  { return nil }
func (healthy) Offline(context.Context) error { return nil }
func (healthy) IsAlive(context.Context) error { return nil }

// R21: a tick that finds the previous check "still running" counts as a
// failed check only when that check has called into the resource. Under
// overload a check's goroutine may not have run at all by the next tick
// (the scale program saw 75 596 of 100 000 healthy resources failed that
// way at 100 000 checks/s); the engine being late is not the resource
// hanging, so such a tick is skipped, and the check runs when its goroutine
// does.
func TestOverloadedCheckNotYetRunDoesNotFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := New(healthy{}, Options{Clock: clock.New(), Policy: Policy{
			IsAliveInterval: time.Second, LooksAliveInterval: resource.Never,
			CheckTimeout: time.Minute, FailureThreshold: 1,
		}})
		if err != nil {
			t.Fatal(err)
		}
		held, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		releaseHeld := func() { once.Do(func() { close(release) }) }
		defer releaseHeld() // a failing test must not leave the goroutine held
		testHookBeforeEnter = func(hw *Wrapper, op resource.Op) {
			if hw == w && op == resource.OpIsAlive {
				testHookBeforeEnter = nil // only the first check is held
				close(held)
				<-release
			}
		}
		defer func() { testHookBeforeEnter = nil }()
		if _, err := w.Online(); err != nil {
			t.Fatal(err)
		}
		if err := w.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the first tick: its check's goroutine is held before the resource
		<-held
		time.Sleep(3 * time.Second) // three more ticks find it not yet run
		synctest.Wait()
		if s := w.State(); s != resource.Online {
			t.Fatalf("R21: state %v after ticks that found a check not yet run; want Online", s)
		}
		releaseHeld()
		synctest.Wait()
		if err := w.IsAlive(); err != nil || w.State() != resource.Online {
			t.Fatalf("after the held check ran: IsAlive %v, state %v", err, w.State())
		}
		time.Sleep(time.Second) // checks go on as before
		synctest.Wait()
		if st := w.Status(); st.State != resource.Online || st.IsAlive.Err != nil {
			t.Fatalf("status %+v", st)
		}
		if err := w.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
