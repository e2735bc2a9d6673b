package wrapper

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/resource"
)

// gatedCheck's IsAlive waits for release when hold is set.
type gatedCheck struct {
	hold    atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (*gatedCheck) Online(context.Context) error  { return nil }
func (*gatedCheck) Offline(context.Context) error { return nil }
func (g *gatedCheck) IsAlive(context.Context) error {
	if g.hold.Load() {
		g.entered <- struct{}{}
		<-g.release
	}
	return nil
}

// TestCheckRecordRecycledOnlyWhenUnreachable: a scheduled check's record is
// used again only when nothing can reach it any more (issue 10): not when
// its time-out fired and abandoned it, not when CheckNow waited on it, and
// never a CheckNow's own.
func TestCheckRecordRecycledOnlyWhenUnreachable(t *testing.T) {
	for _, tc := range []struct {
		name string
		// act runs from the first tick (at 10 s, the check held in the
		// resource when hold) and leaves the check returned.
		act       func(t *testing.T, w *Wrapper, g *gatedCheck)
		hold      bool
		recycled  int
		afterNext int // recycled after the next tick's plain check
	}{
		{"a scheduled check that returned", func(*testing.T, *Wrapper, *gatedCheck) {}, false, 1, 2},
		{"a check its time-out abandoned", func(t *testing.T, w *Wrapper, g *gatedCheck) {
			time.Sleep(3 * time.Second) // CheckTimeout 2 s
			synctest.Wait()
			close(g.release)
		}, true, 0, 1},
		{"a check CheckNow waited on", func(t *testing.T, w *Wrapper, g *gatedCheck) {
			errc := make(chan error, 1)
			go func() { errc <- w.CheckNow(t.Context()) }()
			synctest.Wait() // CheckNow waits on the running check
			close(g.release)
			if err := <-errc; err != nil {
				t.Errorf("CheckNow: %v", err)
			}
		}, true, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var recycled atomic.Int32
				testHookRecycle = func(*running) { recycled.Add(1) }
				defer func() { testHookRecycle = nil }()
				g := &gatedCheck{entered: make(chan struct{}, 1), release: make(chan struct{})}
				g.hold.Store(tc.hold)
				w, err := New(g, Options{Clock: clock.New(), Policy: Policy{
					IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never,
					CheckTimeout: 2 * time.Second, FailureThreshold: 100,
				}})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Online(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(10 * time.Second) // the first tick
				synctest.Wait()
				if tc.hold {
					<-g.entered
					g.hold.Store(false)
				}
				tc.act(t, w, g)
				synctest.Wait()
				if n := recycled.Load(); int(n) != tc.recycled {
					t.Errorf("%d records recycled after the first check, want %d", n, tc.recycled)
				}
				time.Sleep(10 * time.Second) // the next tick: a plain check
				synctest.Wait()
				if n := recycled.Load(); int(n) != tc.afterNext {
					t.Errorf("%d records recycled after the next check, want %d", n, tc.afterNext)
				}
				if err := w.Close(t.Context()); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestFreshCheckRecordNotRecycled: CheckNow's own check is waited on by
// CheckNow, so its record is never used again.
func TestFreshCheckRecordNotRecycled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var recycled atomic.Int32
		testHookRecycle = func(*running) { recycled.Add(1) }
		defer func() { testHookRecycle = nil }()
		w, err := New(&gatedCheck{}, Options{Clock: clock.New(), Policy: Policy{
			IsAliveInterval: time.Hour, LooksAliveInterval: resource.Never,
		}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Online(); err != nil {
			t.Fatal(err)
		}
		if err := w.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := w.CheckNow(t.Context()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := recycled.Load(); n != 0 {
			t.Fatalf("%d records recycled after a CheckNow, want 0", n)
		}
		if err := w.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
