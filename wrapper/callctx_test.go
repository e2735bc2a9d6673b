package wrapper

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/resdll/resdll/resource"
)

// TestCallCtx: a call's context is live until cancelled, then Done is
// closed (whether asked for before or after) and Err is context.Canceled;
// it has no deadline and no values.
func TestCallCtx(t *testing.T) {
	var before, after callCtx
	early := before.Done()
	select {
	case <-early:
		t.Fatal("Done closed before cancel")
	default:
	}
	if before.Err() != nil {
		t.Fatalf("Err %v before cancel", before.Err())
	}
	if _, ok := before.Deadline(); ok {
		t.Fatal("a call's context has a deadline")
	}
	if before.Value("k") != nil {
		t.Fatal("a call's context has a value")
	}
	before.cancel()
	after.cancel()
	before.cancel() // a second cancel does nothing
	for name, c := range map[string]*callCtx{"asked before": &before, "asked after": &after} {
		select {
		case <-c.Done():
		default:
			t.Fatalf("%s: Done not closed after cancel", name)
		}
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("%s: Err %v, want context.Canceled", name, c.Err())
		}
	}
	<-early
}

// TestCallCtxDerived: contexts a resource derives from its call's context
// are cancelled with it through AfterFunc, without a goroutine of the
// context package waiting; a stopped AfterFunc never runs, one registered
// after cancel runs at once.
func TestCallCtxDerived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c callCtx
		child, cancelChild := context.WithCancel(&c)
		defer cancelChild()
		timed, cancelTimed := context.WithTimeout(&c, time.Hour)
		defer cancelTimed()
		if n := c.afterCount(); n != 2 {
			t.Fatalf("%d AfterFuncs registered by two derived contexts, want 2 (else the context package waits in a goroutine)", n)
		}
		stoppedRan, ran := false, false
		stop := context.AfterFunc(&c, func() { stoppedRan = true })
		context.AfterFunc(&c, func() { ran = true })
		if !stop() {
			t.Fatal("stop before cancel reported false")
		}
		if stop() {
			t.Fatal("a second stop reported true")
		}
		cancelChild() // a child cancelled first unregisters itself
		<-child.Done()
		if n := c.afterCount(); n != 2 {
			t.Fatalf("%d AfterFuncs after the child's cancel and a stop, want 2", n)
		}
		c.cancel()
		<-timed.Done()
		if !errors.Is(timed.Err(), context.Canceled) {
			t.Fatalf("derived Err %v, want context.Canceled", timed.Err())
		}
		synctest.Wait()
		if !ran || stoppedRan {
			t.Fatalf("AfterFunc ran %v, the stopped one ran %v", ran, stoppedRan)
		}
		late := false
		stopLate := context.AfterFunc(&c, func() { late = true })
		synctest.Wait()
		if !late || stopLate() {
			t.Fatalf("AfterFunc after cancel: ran %v", late)
		}
	})
}

// afterCount returns how many AfterFuncs c holds.
func (c *callCtx) afterCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for a := c.afters; a != nil; a = a.next {
		n++
	}
	return n
}

// TestWorkerContextDerived: an Online's context carries the worker hooks
// around the call's context; contexts derived from it still register with
// the call's context (no goroutine of the context package), and are
// cancelled with it.
func TestWorkerContextDerived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c callCtx
		ctx := resource.WithWorkerHooks(&c, nopHooks{})
		timed, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		if n := c.afterCount(); n != 1 {
			t.Fatalf("%d AfterFuncs on the call's context after WithTimeout of the worker's, want 1", n)
		}
		if !resource.Progress(ctx) {
			t.Fatal("the worker's context lost its hooks")
		}
		c.cancel()
		<-timed.Done()
		if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(timed.Err(), context.Canceled) {
			t.Fatalf("Err %v, derived %v", ctx.Err(), timed.Err())
		}
	})
}

type nopHooks struct{}

func (nopHooks) Progress()           {}
func (nopHooks) WaitWithoutTimeout() {}
