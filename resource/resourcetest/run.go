package resourcetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/resource"
)

// T is the part of *testing.T the conformance suite uses, so its own tests
// can watch it fail.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// DefaultGrace is how long Run waits, in real time, for an entry point to
// return once its context is cancelled, and for goroutines to end.
const DefaultGrace = 5 * time.Second

// RunOptions adjust Run.
type RunOptions struct {
	// Grace bounds, in real time, "promptly": how long an entry point may
	// take to return once its context is cancelled, and how long Run waits
	// for the resource's goroutines to end after Close. It is the one place
	// the kit uses real time: a resource's own I/O (a process, a socket)
	// cannot run on a fake clock. Default DefaultGrace.
	Grace time.Duration

	// Timeout bounds, in real time, each entry point that should succeed
	// (Online, Offline, IsAlive, Terminate). Default 30 s.
	Timeout time.Duration

	// Clock measures Grace and Timeout; nil means the real clock, which is
	// what a resource doing real I/O needs.
	Clock clock.Clock
}

// Run is the conformance suite a resource author calls from a test (the way
// testing/fstest.TestFS checks a file system): it checks the author's side
// of the contract on resources made by open, a fresh one per duty:
//
//   - R10, R20: Online succeeds, then IsAlive (and LooksAlive) pass;
//   - R3, R10: Offline succeeds, and a second Offline does too;
//   - R7: IsAlive after Offline says resource.ErrNotRunning;
//   - R11: every entry point returns promptly once its context is
//     cancelled;
//   - R17: Terminate works after Online, and while an Offline still runs
//     (the engine calls it when Offline hangs, R16);
//   - R42: Close releases, and a second Close is a no-op;
//   - no goroutine the resource started is left once it is closed.
//
// Optional interfaces are probed by type assertion and checked only when
// present. Each failure names the rule and says what to fix. open must
// return a resource that is Offline and owns nothing yet; Run closes every
// resource it opens.
func Run(t T, open func(t T) resource.Resource, opts RunOptions) {
	t.Helper()
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.New()
	}
	k := &kit{t: t, open: open, o: opts}
	for _, d := range []struct {
		name string
		f    func(r resource.Resource)
	}{
		{"R10 R20 Online then IsAlive", k.onlineHealthy},
		{"R3 R10 Offline twice", k.offlineTwice},
		{"R7 IsAlive after Offline", k.stoppedNotRunning},
		{"R11 cancellation", k.cancellation},
		{"R17 Terminate after Online", k.terminateOnline},
		{"R16 R17 Terminate during Offline", k.terminateDuringOffline},
		{"R42 Close twice", k.closeTwice},
	} {
		k.duty = d.name
		before := goroutineIDs()
		r := open(t)
		if r == nil {
			k.fail("open returned a nil resource", "return the resource, Offline")
			return
		}
		d.f(r)
		k.close(r)
		k.noLeaks(before)
	}
}

type kit struct {
	t    T
	open func(T) resource.Resource
	o    RunOptions
	duty string
}

func (k *kit) fail(what, fix string) {
	k.t.Helper()
	k.t.Errorf("resourcetest: %s: %s; fix: %s", k.duty, what, fix)
}

// call runs f under a context that ends after the timeout and reports
// whether it returned in time, and its error.
func (k *kit) call(name string, f func(context.Context) error) (error, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), k.o.Timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- resource.Recover(resource.OpNone, func() error { return f(ctx) }) }()
	select {
	case err := <-done:
		return err, true
	case <-k.o.Clock.After(k.o.Timeout + k.o.Grace):
		k.fail(name+" did not return within "+k.o.Timeout.String()+" and did not give up when its context ended",
			name+" must return once its work is done, or soon after its context is cancelled")
		return nil, false
	}
}

func (k *kit) must(name string, f func(context.Context) error) bool {
	k.t.Helper()
	err, ok := k.call(name, f)
	if ok && err != nil {
		k.fail(fmt.Sprintf("%s returned %v", name, err), name+" must return nil when it succeeds")
		return false
	}
	return ok
}

func (k *kit) onlineHealthy(r resource.Resource) {
	if !k.must("Online", r.Online) {
		return
	}
	if !k.must("IsAlive after Online", r.IsAlive) {
		k.t.Logf("resourcetest: %s: a successful Online counts as healthy (R22): IsAlive must pass right after it", k.duty)
	}
	if l, ok := r.(resource.LooksAliver); ok {
		k.must("LooksAlive after Online", l.LooksAlive)
	}
	k.must("Offline", r.Offline)
}

func (k *kit) offlineTwice(r resource.Resource) {
	if k.must("Online", r.Online) && k.must("Offline", r.Offline) {
		k.must("a second Offline", r.Offline)
	}
}

func (k *kit) stoppedNotRunning(r resource.Resource) {
	if !k.must("Online", r.Online) || !k.must("Offline", r.Offline) {
		return
	}
	err, ok := k.call("IsAlive after Offline", r.IsAlive)
	if ok && !errors.Is(err, resource.ErrNotRunning) {
		k.fail(fmt.Sprintf("IsAlive after Offline returned %v", err),
			"return an error wrapping resource.ErrNotRunning when the resource is cleanly stopped (R7: Probe tells stopped from failed by it)")
	}
}

// cancellation calls each entry point with a context cancelled right after
// the call starts: each must return within the grace.
func (k *kit) cancellation(r resource.Resource) {
	eps := []struct {
		name string
		f    func(context.Context) error
	}{{"Online", r.Online}, {"IsAlive", r.IsAlive}, {"Offline", r.Offline}}
	if l, ok := r.(resource.LooksAliver); ok {
		eps = append(eps, struct {
			name string
			f    func(context.Context) error
		}{"LooksAlive", l.LooksAlive})
	}
	if tm, ok := r.(resource.Terminator); ok {
		eps = append(eps, struct {
			name string
			f    func(context.Context) error
		}{"Terminate", tm.Terminate})
	}
	for _, ep := range eps {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = resource.Recover(resource.OpNone, func() error { return ep.f(ctx) })
		}()
		cancel()
		select {
		case <-done:
		case <-k.o.Clock.After(k.o.Grace):
			k.fail(fmt.Sprintf("%s did not return within %v of its context being cancelled", ep.name, k.o.Grace),
				"watch ctx.Done() in every wait: the engine cancels the context when it gives up (R11) and counts the call as running until it returns (R14)")
			return // the call still runs; the other entry points would overlap it (R5)
		}
	}
}

func (k *kit) terminator(r resource.Resource) (resource.Terminator, bool) {
	tm, ok := r.(resource.Terminator)
	if !ok {
		k.t.Logf("resourcetest: %s: skipped: the resource has no Terminator", k.duty)
	}
	return tm, ok
}

func (k *kit) terminateOnline(r resource.Resource) {
	tm, ok := k.terminator(r)
	if !ok || !k.must("Online", r.Online) {
		return
	}
	if !k.must("Terminate after Online", tm.Terminate) {
		return
	}
	err, ok := k.call("IsAlive after Terminate", r.IsAlive)
	if ok && !errors.Is(err, resource.ErrNotRunning) {
		k.fail(fmt.Sprintf("IsAlive after Terminate returned %v", err),
			"Terminate must stop the resource by force; afterwards IsAlive wraps resource.ErrNotRunning")
	}
}

// terminateDuringOffline calls Terminate while an Offline whose context was
// cancelled may still run, as the engine does when Offline hangs (R16).
func (k *kit) terminateDuringOffline(r resource.Resource) {
	tm, ok := k.terminator(r)
	if !ok || !k.must("Online", r.Online) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	offDone := make(chan struct{})
	go func() {
		defer close(offDone)
		_ = resource.Recover(resource.OpOffline, func() error { return r.Offline(ctx) })
	}()
	cancel()
	k.must("Terminate while Offline runs", tm.Terminate)
	select {
	case <-offDone:
	case <-k.o.Clock.After(k.o.Grace):
		k.fail("Offline did not return after Terminate", "Terminate must make a hung Offline return (kill what it waits for)")
	}
}

func (k *kit) closeTwice(r resource.Resource) {
	c, ok := r.(io.Closer)
	if !ok {
		k.t.Logf("resourcetest: %s: skipped: the resource has no Close", k.duty)
		return
	}
	k.must("Online", r.Online)
	k.must("Offline", r.Offline)
	if err := c.Close(); err != nil {
		k.fail(fmt.Sprintf("Close returned %v", err), "Close releases what Open allocated and returns nil")
	}
	if err := c.Close(); err != nil {
		k.fail(fmt.Sprintf("a second Close returned %v", err), "make Close idempotent: a second Close is a no-op returning nil (R42)")
	}
}

// close ends a duty: Terminate (when there is one) and Close, so nothing the
// duty started keeps running. Errors here were reported by the duty.
func (k *kit) close(r resource.Resource) {
	if tm, ok := r.(resource.Terminator); ok {
		_, _ = k.call("Terminate (clean-up)", tm.Terminate)
	}
	if c, ok := r.(io.Closer); ok && k.duty != "R42 Close twice" {
		_ = c.Close()
	}
}

// noLeaks waits up to the grace for the goroutines started since before to
// end, and reports those that do not.
func (k *kit) noLeaks(before map[uint64]bool) {
	deadline := k.o.Clock.Now().Add(k.o.Grace)
	for {
		left := newGoroutines(before)
		if len(left) == 0 {
			return
		}
		if k.o.Clock.Now().After(deadline) {
			k.fail(fmt.Sprintf("%d goroutine(s) still running after Close:\n%s", len(left), strings.Join(left, "\n\n")),
				"stop every goroutine the resource starts by the time Offline, Terminate or Close returns")
			return
		}
		k.o.Clock.Sleep(time.Millisecond)
	}
}

// goroutineIDs returns the ids of the goroutines that exist now.
func goroutineIDs() map[uint64]bool {
	ids := map[uint64]bool{}
	for _, g := range allStacks() {
		if id, ok := stackID(g); ok {
			ids[id] = true
		}
	}
	return ids
}

// newGoroutines returns the stacks of the goroutines not in before, other
// than the kit's own (its helpers end with the calls they run).
func newGoroutines(before map[uint64]bool) []string {
	var out []string
	for i, g := range allStacks() {
		id, ok := stackID(g)
		if !ok || before[id] || i == 0 || strings.Contains(g, "resourcetest.(*kit)") || strings.Contains(g, "testing.tRunner") {
			continue
		}
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

func allStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func stackID(g string) (uint64, bool) {
	var id uint64
	_, err := fmt.Sscanf(g, "goroutine %d ", &id)
	return id, err == nil
}
