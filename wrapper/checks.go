package wrapper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/resdll/resdll/healthcheck"
	"github.com/resdll/resdll/resource"
)

// checkTarget is the wrapper as a health-check target: the wrapper itself,
// so that registering costs nothing beyond the checker's registration
// (issue 10). A check or a failure comes with the registration it is of;
// one of a registration other than the wrapper's current one (Wrapper.reg)
// is of an online period that has ended, and is refused, so a late tick or
// result never touches the next period (R21).
type checkTarget Wrapper

func (t *checkTarget) wrapper() *Wrapper { return (*Wrapper)(t) }

// HasLooksAlive reports whether the resource implements
// resource.LooksAliver.
func (t *checkTarget) HasLooksAlive() bool { return t.wrapper().looks() != nil }

// Check starts one check for the scheduler (R20, R21). A tick that finds a
// fresh check (CheckNow) of the same kind running shares its result once
// (R25); a later one counts as a tick that found the check running.
func (t *checkTarget) Check(done healthcheck.Done) healthcheck.Start {
	return t.wrapper().startCheck(done)
}

// Fail latches a failure of the scheduler's (R21, R24).
func (t *checkTarget) Fail(reg healthcheck.Registration, op resource.Op, err error) {
	w := t.wrapper()
	w.input(func(now time.Time) acts {
		if !w.checksWith(reg) {
			return nil // an ended period's
		}
		return w.core.latch(op, err, 0, now)
	})
}

// checksWith reports whether reg is the registration the wrapper checks
// with now: the one it made when the current online period began. Called
// with w.mu held.
func (w *Wrapper) checksWith(reg healthcheck.Registration) bool {
	return reg != nil && reg == w.reg
}

// startCheck starts the check done is for, when its registration is the
// current one, and hands done its result.
func (w *Wrapper) startCheck(done healthcheck.Done) healthcheck.Start {
	op := done.Op()
	switch {
	case op == resource.OpLooksAlive && w.looks() == nil:
		op = resource.OpIsAlive
	case op != resource.OpIsAlive && op != resource.OpLooksAlive:
		return healthcheck.Skipped // only checks are checks
	}
	r := getRunning() // its call is the core's record too
	w.mu.Lock()
	started := healthcheck.Skipped // a tick of an ended period's registration
	var now time.Time
	if w.checksWith(done.Registration()) {
		now = w.clock().Now()
		_, started = w.core.startCheck(op, 0, now, &r.call)
	}
	if started != healthcheck.Started {
		runnings.Put(r) // untouched
	}
	if started == healthcheck.StillRunning && w.checkNotEntered(op) {
		// The previous check's goroutine has not run yet: the process is
		// behind (overloaded), and the resource is not the one hanging.
		// The tick is neither a pass nor a failure (R21 counts a check
		// that runs, or that outlives CheckTimeout).
		w.mu.Unlock()
		return healthcheck.Skipped
	}
	if started != healthcheck.Started {
		if r := w.freshCheck(op); r != nil && !r.shared && started == healthcheck.StillRunning {
			r.shared = true
			r.done = done // a fresh check has no other
			w.mu.Unlock()
			return healthcheck.Started
		}
		w.mu.Unlock()
		return started
	}
	// A started check's one action is its call's start (core.startCheck),
	// which exec would turn into a goroutine start for after; this
	// goroutine runs it instead, so nothing is deferred but the delivery.
	// (checkNow does the same with a goroutine of its own.)
	w.track(r)
	r.done = done
	w.armCallTimeout(r, now, w.policy.CheckTimeout)
	idle := w.outbox == nil // after would only take the lock to find no event
	w.mu.Unlock()
	if !idle {
		w.after(nil)
	}
	// The check runs on the scheduler's worker, which no other tick
	// waits for: a second goroutine per check would cost its start and
	// its stack's growth (issue 10), and buy nothing.
	w.run(r)
	return healthcheck.Started
}

// checkNotEntered reports whether the running check of kind op has not yet
// called into the resource. Called with w.mu held.
func (w *Wrapper) checkNotEntered(op resource.Op) bool {
	for r := range w.running.all() {
		if r.call.lane == laneCheck && r.call.op == op {
			return !r.entered.Load()
		}
	}
	return false
}

// freshCheck returns the running, unresolved check CheckNow started for
// op, or nil. Called with w.mu held.
func (w *Wrapper) freshCheck(op resource.Op) *running {
	for r := range w.running.all() {
		if r.fresh && r.call.op == op && r.pending {
			return r
		}
	}
	return nil
}

// Fail latches a failure while Online, once per online period (R21): the
// method a health checker of its own calls. In maintenance it is recorded
// and nothing latches (R74); outside Online it is ignored.
func (w *Wrapper) Fail(err error) {
	if err == nil {
		err = errors.New("a failure was reported")
	}
	w.input(func(now time.Time) acts { return w.core.latch(resource.OpIsAlive, err, 0, now) })
}

// CheckNow runs a fresh IsAlive check and returns its result (R25):
// concurrent callers share one run, and a scheduled IsAlive already running
// serves them too; a running LooksAlive is waited for first (R5). It does
// not latch a failure. It returns an error wrapping resource.ErrNotOnline
// when the resource is not Online, and one wrapping resource.ErrCheckTimeout
// when an abandoned check still runs, so none can start (R21).
func (w *Wrapper) CheckNow(ctx context.Context) error {
	_, err := w.checkNow(ctx)
	return err
}

// checkNow is CheckNow, also returning the online period the check ran in
// (0 when the resource was not Online). A check that cannot start because
// an abandoned one still runs counts as failed in the period (R21).
func (w *Wrapper) checkNow(ctx context.Context) (uint64, error) {
	type result struct {
		period uint64
		err    error
	}
	w.mu.Lock()
	fresh := &w.rareLocked().fresh
	w.mu.Unlock()
	val, err := fresh.Do(ctx, func() (any, error) {
		for {
			w.mu.Lock()
			period := w.core.period
			if w.core.state != resource.Online {
				state := w.core.state
				w.mu.Unlock()
				return result{}, fmt.Errorf("%s is %v: %w", w.core.name, state, resource.ErrNotOnline)
			}
			var wait *running // a running check that is not abandoned
			for r := range w.running.all() {
				if r.call.lane == laneCheck && !w.core.calls.get(r.call.id).abandoned {
					wait = r
				}
			}
			if wait != nil && wait.call.op == resource.OpIsAlive {
				done := lazyChan(&wait.resolved, 0)
				w.mu.Unlock()
				<-done // bounded by CheckTimeout
				return result{period, wait.result}, nil
			}
			if wait != nil { // a LooksAlive: R5, one check at a time
				done := lazyChan(&wait.resolved, 0)
				w.mu.Unlock()
				<-done
				continue
			}
			r := w.startFresh(period)
			if r == nil {
				w.mu.Unlock()
				return result{period, fmt.Errorf("%s: no check can start while an abandoned call still runs or an operation is pending: %w", w.core.name, resource.ErrCheckTimeout)}, nil
			}
			w.armCallTimeout(r, time.Time{}, w.policy.CheckTimeout) // here, not in startFresh: a shallower stack when the runtime's timer code runs
			done := lazyChan(&r.resolved, 0)
			w.mu.Unlock()
			w.after(nil)
			go w.run(r)
			<-done // bounded by CheckTimeout
			return result{period, r.result}, nil
		}
	})
	switch {
	case ctx.Err() != nil && err == ctx.Err():
		return 0, fmt.Errorf("%s: check: %w", w.core.name, err)
	case err != nil:
		return 0, err
	}
	r := val.(result)
	return r.period, r.err
}

// startFresh starts CheckNow's IsAlive for online period period, or
// returns nil when none can start (R21). Its time-out and goroutine are
// the caller's to start. Called with w.mu held. Not inlined: CheckNow's
// goroutine starts with a small stack, which a larger frame made grow on
// every check (issue 10).
//
//go:noinline
func (w *Wrapper) startFresh(period uint64) *running {
	r := new(running)
	if _, started := w.core.startCheck(resource.OpIsAlive, period, w.clock().Now(), &r.call); started != healthcheck.Started {
		return nil
	}
	w.track(r) // a started check's one action, as in startCheck
	r.fresh = true
	return r
}

// SetMaintenance puts the resource in maintenance or takes it out (R74).
// In maintenance checks still run and their failures are recorded in the
// cached result and in Status, but nothing latches and the state stays
// Online. Ending maintenance while Online runs one fresh check (R25); if
// it fails, the failure latches at once (it is one deliberate check, so
// FailureThreshold and StartupGrace do not apply to it), and SetMaintenance
// returns it. If ctx ends before the check does, nothing latches.
func (w *Wrapper) SetMaintenance(ctx context.Context, on bool) error {
	w.mu.Lock()
	if w.core.state == resource.Unknown {
		w.mu.Unlock()
		return fmt.Errorf("%s: maintenance: %w", w.core.name, resource.ErrClosed)
	}
	was := w.core.maintenance
	w.core.maintenance = on
	if on && !was {
		w.core.setMaintErr(nil)
	}
	online := w.core.state == resource.Online
	w.mu.Unlock()
	if on || !was || !online {
		return nil
	}
	period, err := w.checkNow(ctx)
	if err != nil && period != 0 {
		w.input(func(now time.Time) acts { return w.core.latch(resource.OpIsAlive, err, period, now) })
	}
	return err
}

// IsAlive returns the result of the last IsAlive check at once, without
// calling the resource (R22). A successful Online counts as a pass until
// the first check. Outside Online it returns an error wrapping
// resource.ErrNotOnline.
func (w *Wrapper) IsAlive() error { return w.cached(resource.OpIsAlive) }

// LooksAlive returns the result of the last LooksAlive check at once (R22),
// or of the last IsAlive for a resource without LooksAlive; otherwise as
// IsAlive.
func (w *Wrapper) LooksAlive() error {
	if w.looks() == nil {
		return w.cached(resource.OpIsAlive)
	}
	return w.cached(resource.OpLooksAlive)
}

func (w *Wrapper) cached(op resource.Op) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.core.state != resource.Online {
		return fmt.Errorf("%s is %v: %w", w.core.name, w.core.state, resource.ErrNotOnline)
	}
	return w.core.results.get(op).err
}
