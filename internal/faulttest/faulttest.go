// Package faulttest holds what the fault-injection property tests of
// package wrapper and package monitor share: how many schedules a suite
// runs, weighted draws, and the checks both make (R2, R14). It is for the
// module's own tests.
package faulttest

import (
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

// LegalMove reports whether some input moves from to to (R2).
func LegalMove(from, to resource.State) bool {
	if from == to {
		return false
	}
	for _, in := range resource.Inputs() {
		if got, err := resource.Next(from, in); err == nil && got == to {
			return true
		}
	}
	return false
}

// StuckCall reports whether a call of f other than Control started by
// from and still ran at at: what ErrWorkerStuck says (R14).
func StuckCall(f *rt.Fake, from, at time.Time) bool {
	return slices.ContainsFunc(f.Calls(), func(c rt.Call) bool {
		return c.Op != resource.OpControl && !c.Start.After(from) && (c.End.IsZero() || !c.End.Before(at))
	})
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
