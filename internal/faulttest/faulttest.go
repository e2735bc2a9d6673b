// Package faulttest holds what the fault-injection property tests of
// package wrapper and package monitor share: how many schedules a suite
// runs, weighted draws, and the checks both make (R2, R14, R16, R17, R21).
// It is for the module's own tests.
package faulttest

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// LongSchedules is how many schedules a suite runs with RESDLL_LONG=1.
const LongSchedules = 10_000

// ErrNotRunning is what a scripted IsAlive returns for "cleanly stopped"
// (R7).
var ErrNotRunning = fmt.Errorf("stopped: %w", resource.ErrNotRunning)

// SetSchedules makes rapid.Check run n schedules (LongSchedules with
// RESDLL_LONG=1) for the rest of t, unless -rapid.checks or RAPID_CHECKS
// says otherwise. A failure prints the seed and the shrunk schedule; no
// fail file is written into the source tree unless -rapid.nofailfile=false
// is given.
func SetSchedules(t *testing.T, n int) {
	if f := flag.Lookup("rapid.nofailfile"); f != nil && f.Value.String() == f.DefValue && f.DefValue == "false" {
		_ = f.Value.Set("true")
		t.Cleanup(func() { _ = f.Value.Set(f.DefValue) })
	}
	f := flag.Lookup("rapid.checks")
	if f == nil || f.Value.String() != f.DefValue || os.Getenv("RAPID_CHECKS") != "" {
		return // -rapid.checks or RAPID_CHECKS given: the caller chose
	}
	if v := os.Getenv("RESDLL_LONG"); v != "" && v != "0" {
		n = LongSchedules
	}
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(f.DefValue) })
}

// Dump writes a failing schedule's details to standard error at once when
// RESDLL_FAULT_VERBOSE is set. rapid logs the details of the run it
// replays last, the shrunk one; a failure that depends on the order of
// goroutines at one instant of fake time may not replay ("flaky test, can
// not reproduce a failure"), and then only this shows what happened.
func Dump(details string) {
	if v := os.Getenv("RESDLL_FAULT_VERBOSE"); v != "" && v != "0" {
		fmt.Fprintf(os.Stderr, "--- failing schedule:\n%s\n", details)
	}
}

// DrawWeighted draws an index by weight; it shrinks towards index 0.
func DrawWeighted(t *rapid.T, weights []int, label string) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rapid.IntRange(0, total-1).Draw(t, label)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// legalMoves are R2's transitions as CONTRACT.md lists them, written out
// here rather than taken from resource.Next, so that the fault suites'
// oracle is not the table the wrapper runs on (a wrong entry there shows as
// an R2 violation). Any state may also go to Unknown (Close, R18).
var legalMoves = map[[2]resource.State]bool{
	{resource.Unknown, resource.Offline}:        true, // Open
	{resource.Offline, resource.OnlinePending}:  true, // Online
	{resource.OnlinePending, resource.Online}:   true,
	{resource.OnlinePending, resource.Failed}:   true,
	{resource.Online, resource.OfflinePending}:  true, // Offline
	{resource.Online, resource.Failed}:          true, // a health failure, a failure report
	{resource.OfflinePending, resource.Offline}: true, // its Offline returned; or Terminate (R17)
	{resource.OfflinePending, resource.Failed}:  true,
	{resource.Failed, resource.OnlinePending}:   true, // Online: a restart
	{resource.Failed, resource.OfflinePending}:  true, // Offline: clean up
	{resource.Offline, resource.Online}:         true, // Probe (R7)
	{resource.Offline, resource.Failed}:         true, // Probe (R7)
	{resource.Online, resource.Offline}:         true, // Terminate (R17)
	{resource.OnlinePending, resource.Offline}:  true, // Terminate (R17)
}

// LegalMove reports whether from → to is one of R2's transitions.
func LegalMove(from, to resource.State) bool {
	if from == to {
		return false
	}
	return to == resource.Unknown || legalMoves[[2]resource.State{from, to}]
}

// StuckCall reports whether a call of f other than Control started by
// from and still ran at at: what ErrWorkerStuck says (R14).
func StuckCall(f *rt.Fake, from, at time.Time) bool {
	return slices.ContainsFunc(f.Calls(), func(c rt.Call) bool {
		return c.Op != resource.OpControl && !c.Start.After(from) && (c.End.IsZero() || !c.End.Before(at))
	})
}

// WaitEnded returns when an operation that began at from and failed with
// ErrWorkerStuck, in an event at at, stopped waiting for the abandoned
// call (R14): at its own pending timeout, unless the event came first. An
// Offline escalates to Terminate then (R16), so its event can come a
// TerminateTimeout later, after the call returned; the wait ended before.
func WaitEnded(from, at time.Time, pending time.Duration) time.Time {
	if pending == resource.Never {
		return at
	}
	if end := from.Add(pending); end.Before(at) {
		return end
	}
	return at
}

// HungLatchBy returns when a resource Online since onlineAt, whose IsAlive
// or LooksAlive hangs, must have latched (R21, R24): the hung check counts
// as failed once CheckTimeout passes, and every tick of its kind that finds
// it still running counts as one more, so FailureThreshold of them latch; a
// tick of the other kind is skipped meanwhile (R5), so twice the threshold
// is allowed. p is the resolved policy in force since since (its check
// settings, the end of a maintenance). checkTimeout, when not nil, gives
// the CheckTimeout a check that began at a given instant runs under — a new
// policy leaves a running check the time-out it began with (R30) — and nil
// means p's. ok is false when no check hangs or nothing obliges a latch.
func HungLatchBy(f *rt.Fake, p wrapper.Policy, st wrapper.Status, onlineAt, since time.Time, checkTimeout func(began time.Time) time.Duration) (time.Time, bool) {
	if st.State != resource.Online || st.Maintenance || st.Terminating || st.Pending != resource.OpNone {
		return time.Time{}, false
	}
	var hung time.Time
	for _, c := range f.Calls() {
		if (c.Op == resource.OpIsAlive || c.Op == resource.OpLooksAlive) && c.End.IsZero() && (hung.IsZero() || c.Start.Before(hung)) {
			hung = c.Start
		}
	}
	every := p.IsAliveInterval
	if p.LooksAliveInterval > 0 {
		every = max(every, p.LooksAliveInterval)
	}
	if hung.IsZero() || every <= 0 {
		return time.Time{}, false
	}
	from := hung
	for _, t := range []time.Time{onlineAt.Add(p.StartupGrace), since} {
		if t.After(from) {
			from = t
		}
	}
	if p.CheckTimeout > 0 {
		from = from.Add(p.CheckTimeout)
	}
	if checkTimeout != nil {
		if own := hung.Add(checkTimeout(hung)); own.After(from) {
			from = own // the hung check times out under the policy it began with
		}
	}
	return from.Add(time.Duration(2*p.FailureThreshold+1) * every), true
}

// CheckTerminateTimeout checks a terminated event of f that says the
// Terminator timed out (R16, R17): some Terminate call still running at
// the event began timeout or more before it (another may begin at that
// very instant).
func (l *Log) CheckTerminateTimeout(f *rt.Fake, e resource.Event, timeout time.Duration) {
	if !errors.Is(e.Err, resource.ErrPendingTimeout) {
		return
	}
	if !slices.ContainsFunc(f.Calls(), func(c rt.Call) bool {
		return c.Op == resource.OpTerminate && !c.Start.After(e.Time.Add(-timeout)) && (c.End.IsZero() || !c.End.Before(e.Time))
	}) {
		l.Violate("R16, R17: %v: no Terminate that ran then began %v or more before", e, timeout)
	}
}

// Log is what a schedule's harness records: what ran, at which fake time,
// and the rules broken. A harness embeds it. Violate may be called from any
// goroutine; the rest from the schedule's own.
type Log struct {
	Start time.Time // the fake time the schedule began
	Step  int       // the step running

	trace []string // what ran, with the fake time

	mu         sync.Mutex // guards violations and rules: callers add to them
	violations []string
	rules      []string // the rules broken: each violation's format, the same whatever the schedule
}

// Now returns the fake time since the start, as "+1m30s".
func (l *Log) Now() string { return "+" + time.Since(l.Start).String() }

// Logf records what a step did.
func (l *Log) Logf(format string, args ...any) {
	l.trace = append(l.trace, fmt.Sprintf("%-9s %s", l.Now(), fmt.Sprintf(format, args...)))
}

// Violate records a broken rule, once per rule; the schedule stops after
// the step. format names the rule: it is what a failure is recognised by
// while rapid shrinks the schedule.
func (l *Log) Violate(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if slices.Contains(l.rules, format) {
		return
	}
	l.rules = append(l.rules, format)
	l.violations = append(l.violations, fmt.Sprintf("step %d at %s: ", l.Step, l.Now())+fmt.Sprintf(format, args...))
}

// Failed reports whether a rule was broken.
func (l *Log) Failed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.violations) > 0
}

// Report returns the first rule broken and the failure message: the
// violations, then what ran, then more (the scenario, the events, the
// calls); "" when nothing broke.
func (l *Log) Report(more string) (rule, details string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.violations) == 0 {
		return "", ""
	}
	return l.rules[0], strings.Join(l.violations, "\n") + "\nexecuted:\n  " + strings.Join(l.trace, "\n  ") + more
}
