package ocf

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/wrapper"
)

// Pacemaker's 20 s time-out (svcEnv) splits into a budget of 13.5 s for
// the operation and 4.5 s for the Terminator, with 2 s kept back.
var plan20 = newBudget(20*time.Second, 0, 30*time.Second)

// drive runs action on a fake clock: each time a hung entry point has been
// entered (every deadline that can end it is armed by then, R11), it moves
// the clock by the next of advance[entry point] (the last one again once
// they are used up); it returns what the action answered.
// (An action that never ends is caught by go test's -timeout, with every
// goroutine's stack.)
func drive(t *testing.T, a *Agent, w *world, mock *clock.Mock, env []string, action string, advance map[string][]time.Duration) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- invoke(t.Context(), a, env, action) }()
	for {
		select {
		case r := <-done:
			return r
		case op := <-w.entered:
			steps := advance[op]
			if len(steps) == 0 {
				t.Fatalf("%s hung in %s, which the test does not expect", action, op)
			}
			mock.Add(steps[0])
			if len(steps) > 1 {
				advance[op] = steps[1:]
			}
		}
	}
}

// A start that cannot finish gives up at the end of its budget, inside
// Pacemaker's time-out (R11), with exit 1 and a reason that says so; what
// it left is terminated (R18).
func TestStartTimesOut(t *testing.T) {
	w := newWorld(t)
	w.hang["Online"] = true
	mock := clock.NewMock()
	a := newAgent(t, w, fakeSchema, Options{Clock: mock})
	start := mock.Now()
	r := drive(t, a, w, mock, svcEnv(), "start", map[string][]time.Duration{"Online": {plan20.op}})
	if r.code != ExitGenericError {
		t.Fatalf("exit %v; stderr:\n%s", r.code, r.stderr)
	}
	if took := mock.Since(start); took != plan20.op {
		t.Errorf("gave up after %v, want %v", took, plan20.op)
	}
	for _, want := range []string{"start: did not finish within 13.5s of its 20s time-out (6.5s kept for clean-up and exit)", "pending timeout"} {
		if !strings.Contains(r.reason(), want) {
			t.Errorf("exit reason %q lacks %q", r.reason(), want)
		}
	}
	if calls := w.called(); count(calls, "Terminate svc") != 1 || count(calls, "Detach svc") != 0 {
		t.Errorf("calls %q: want the failed start terminated, not detached", calls)
	}
	checkClosed(t, w)
}

// Pacemaker's time-out sets the budget; with none, the policy's hint does:
// the time-out that gives the Online its full PendingTimeout (default
// 180 s).
func TestBudgetFromTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout string // OCF_RESKEY_CRM_meta_timeout; "" for none
		pending time.Duration
		op      time.Duration // the budget of the operation
		want    string
	}{
		{"3000", 0, 1500 * time.Millisecond, "1.5s of its 3s time-out (1.5s kept for clean-up and exit)"},
		{"", 40 * time.Second, 40500 * time.Millisecond, "40.5s of its 1m0s time-out (19.5s kept for clean-up and exit)"},
		{"", 0, 180600 * time.Millisecond, "3m0.6s of its 3m54s time-out (53.4s kept for clean-up and exit)"},
	} {
		w := newWorld(t)
		w.hang["Online"] = true
		mock := clock.NewMock()
		a := newAgent(t, w, fakeSchema, Options{Clock: mock, Policy: wrapper.Policy{PendingTimeout: tc.pending}})
		env := []string{"OCF_RESOURCE_INSTANCE=svc", "OCF_RESKEY_Name=web"}
		if tc.timeout != "" {
			env = append(env, "OCF_RESKEY_CRM_meta_timeout="+tc.timeout)
		}
		start := mock.Now()
		r := drive(t, a, w, mock, env, "start", map[string][]time.Duration{"Online": {tc.op}})
		if r.code != ExitGenericError || !strings.Contains(r.reason(), tc.want) {
			t.Errorf("time-out %q: exit %v, reason %q; want %v and %q", tc.timeout, r.code, r.reason(), ExitGenericError, tc.want)
		}
		if took := mock.Since(start); took != tc.op {
			t.Errorf("time-out %q: gave up after %v, want %v", tc.timeout, took, tc.op)
		}
	}
}

// A stop whose Offline hangs escalates to Terminate at the end of the
// operation's budget (R16), and succeeds when the Terminator does.
func TestStopEscalates(t *testing.T) {
	w := newWorld(t)
	w.set("svc", properties.Values{})
	w.hang["Offline"] = true
	mock := clock.NewMock()
	a := newAgent(t, w, fakeSchema, Options{Clock: mock})
	start := mock.Now()
	r := drive(t, a, w, mock, svcEnv(), "stop", map[string][]time.Duration{"Offline": {plan20.op}})
	if r.code != ExitSuccess {
		t.Fatalf("exit %v; stderr:\n%s", r.code, r.stderr)
	}
	if took := mock.Since(start); took != plan20.op {
		t.Errorf("escalated after %v, want %v", took, plan20.op)
	}
	if _, ok := w.runs("svc"); ok {
		t.Error("still running after the stop")
	}
	// Close may run the Terminator once more, when the abandoned Offline
	// has not returned yet (R18): that finds nothing to stop.
	if calls := w.called(); count(calls, "Terminate svc") == 0 {
		t.Errorf("calls %q: want a Terminate", calls)
	}
	checkClosed(t, w)
}

// A stop whose Offline and Terminator both hang fails with exit 1 before
// Pacemaker's time-out: the Terminator has the clean-up share (R16), the
// wrapper's Close half the margin.
func TestStopTerminateHangs(t *testing.T) {
	w := newWorld(t)
	w.set("svc", properties.Values{})
	w.hang["Offline"], w.hang["Terminate"] = true, true
	mock := clock.NewMock()
	a := newAgent(t, w, fakeSchema, Options{Clock: mock})
	start := mock.Now()
	r := drive(t, a, w, mock, svcEnv(), "stop", map[string][]time.Duration{
		"Offline": {plan20.op},
		// The escalation's Terminator hangs to the end of the clean-up share;
		// Close may run it once more, and has half the margin.
		"Terminate": {plan20.cleanup, plan20.margin / 2},
	})
	if r.code != ExitGenericError {
		t.Fatalf("exit %v; stderr:\n%s", r.code, r.stderr)
	}
	if took := mock.Since(start); took >= plan20.total {
		t.Errorf("ended after %v, not before Pacemaker's %v", took, plan20.total)
	}
	if !strings.HasPrefix(r.reason(), "stop: did not finish within 13.5s of its 20s time-out") {
		t.Errorf("exit reason %q", r.reason())
	}
}

// A monitor whose IsAlive hangs answers 1 at the end of its budget (R21's
// time-out, through Probe) and stops nothing.
func TestMonitorTimesOut(t *testing.T) {
	w := newWorld(t)
	w.set("svc", properties.Values{})
	w.hang["IsAlive"] = true
	mock := clock.NewMock()
	a := newAgent(t, w, fakeSchema, Options{Clock: mock})
	r := drive(t, a, w, mock, svcEnv("OCF_RESKEY_CRM_meta_interval=10000"), "monitor", map[string][]time.Duration{"IsAlive": {plan20.op}})
	if r.code != ExitGenericError || !strings.Contains(r.reason(), "health check timed out") {
		t.Fatalf("exit %v, reason %q", r.code, r.reason())
	}
	if _, ok := w.runs("svc"); !ok {
		t.Error("the monitor stopped the resource")
	}
	checkClosed(t, w)
}

// A cancelled context (Main's SIGTERM) ends a hung start as its time-out
// would: exit 1, what it left terminated.
func TestStartCancelled(t *testing.T) {
	w := newWorld(t)
	w.hang["Online"] = true
	a := newAgent(t, w, fakeSchema, Options{Clock: clock.NewMock()})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan result, 1)
	go func() { done <- invoke(ctx, a, svcEnv(), "start") }()
	<-w.entered
	cancel()
	r := <-done
	if r.code != ExitGenericError || !strings.Contains(r.reason(), "context canceled") {
		t.Errorf("exit %v, reason %q", r.code, r.reason())
	}
	if _, ok := w.runs("svc"); ok {
		t.Error("something runs after the cancelled start")
	}
	checkClosed(t, w)
}

// A start or stop whose first Probe does not answer fails: whether the
// resource runs is not known (R7). At the time-out of the probe (R21) or
// when the context ends, the same answer.
func TestProbeHangs(t *testing.T) {
	t.Run("start", func(t *testing.T) {
		w := newWorld(t)
		w.hang["IsAlive"] = true
		mock := clock.NewMock()
		a := newAgent(t, w, fakeSchema, Options{Clock: mock})
		r := drive(t, a, w, mock, svcEnv(), "start", map[string][]time.Duration{"IsAlive": {plan20.op}})
		if r.code != ExitGenericError || !strings.Contains(r.reason(), "probing before the start") {
			t.Errorf("exit %v, reason %q", r.code, r.reason())
		}
		if calls := w.called(); count(calls, "Online svc") != 0 {
			t.Errorf("Online was called: %q", calls)
		}
		checkClosed(t, w)
	})
	t.Run("stop, cancelled", func(t *testing.T) {
		w := newWorld(t)
		w.set("svc", properties.Values{})
		w.hang["IsAlive"] = true
		a := newAgent(t, w, fakeSchema, Options{Clock: clock.NewMock()})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan result, 1)
		go func() { done <- invoke(ctx, a, svcEnv(), "stop") }()
		<-w.entered
		cancel()
		r := <-done
		if r.code != ExitGenericError || !strings.Contains(r.reason(), "the probe before the stop did not answer") {
			t.Errorf("exit %v, reason %q", r.code, r.reason())
		}
		checkClosed(t, w)
	})
}

// The probe that start, stop and reload-agent run before their operation
// has the policy's CheckTimeout, at most a third of the operation's budget
// (R7, R21): an IsAlive that hangs until cancelled leaves the operation the
// rest. A stop's Offline then has the rest of the budget before it
// escalates to Terminate (R16); a start or reload-agent gives up when the
// probe's time-out passes. The test runs in a synctest bubble, so that it
// knows when everything a clock advance set off has settled, and fails,
// rather than waits, when the probe is still running.
func TestProbeTimeoutCapped(t *testing.T) {
	probe := plan20.op / 3 // 4.5 s: the default CheckTimeout is 180 s
	for _, tc := range []struct {
		action string
		reason string // the exit reason of an action that gives up after the probe
	}{
		{"stop", ""},
		{"start", "probing before the start"},
		{"reload-agent", "health check timed out"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				w.set("svc", properties.Values{})
				w.hang["IsAlive"], w.hang["Offline"] = true, true
				mock := clock.NewMock()
				a := newAgent(t, w, fakeSchema, Options{Clock: mock})
				start := mock.Now()
				done := make(chan result, 1)
				go func() { done <- invoke(t.Context(), a, svcEnv(), tc.action) }()
				if op := <-w.entered; op != "IsAlive" {
					t.Fatalf("%s entered %s first, want IsAlive", tc.action, op)
				}
				mock.Add(probe)
				synctest.Wait()

				if tc.action != "stop" {
					var r result
					select {
					case r = <-done:
					default:
						t.Fatalf("%s still runs %v after the probe began: the probe may take the whole budget of %v", tc.action, probe, plan20.op)
					}
					if r.code != ExitGenericError || !strings.Contains(r.reason(), tc.reason) {
						t.Errorf("exit %v, reason %q; want %v and %q", r.code, r.reason(), ExitGenericError, tc.reason)
					}
					if calls := w.called(); count(calls, "Online svc") != 0 || count(calls, "ApplyProperties svc") != 0 {
						t.Errorf("calls %q: the operation ran after a probe that did not answer", calls)
					}
					return
				}

				var op string
				select {
				case op = <-w.entered:
				default:
					t.Fatalf("the stop's Offline has not begun %v after the probe began: the probe may take the whole budget of %v", probe, plan20.op)
				}
				if op != "Offline" {
					t.Fatalf("the stop entered %s after the probe, want Offline", op)
				}
				// The Offline still runs a millisecond before the budget
				// ends…
				mock.Add(plan20.op - probe - time.Millisecond)
				synctest.Wait()
				if calls := w.called(); count(calls, "Terminate svc") != 0 {
					t.Fatalf("calls %q: the stop escalated to Terminate before its budget of %v ended", calls, plan20.op)
				}
				// … and escalates to Terminate when it ends.
				mock.Add(time.Millisecond)
				r := <-done
				if r.code != ExitSuccess {
					t.Fatalf("exit %v; stderr:\n%s", r.code, r.stderr)
				}
				if took := mock.Since(start); took != plan20.op {
					t.Errorf("the stop took %v, want %v", took, plan20.op)
				}
				if calls := w.called(); count(calls, "Terminate svc") == 0 {
					t.Errorf("calls %q: want a Terminate", calls)
				}
				if _, ok := w.runs("svc"); ok {
					t.Error("still running after the stop")
				}
				checkClosed(t, w)
			})
		})
	}
}
