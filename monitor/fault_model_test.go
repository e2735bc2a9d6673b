package monitor_test

// The model TestFaultMonitor checks a monitor against, resource by
// resource: the restart policy (R31–R34) as each failure decides it, the
// deadlines of pending operations (R11–R13) and the latching of a failing
// health check (R20, R21) by the policy in force (R30).

import (
	"slices"
	"time"

	"github.com/resdll/resdll/internal/faulttest"
	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/resource"
)

// model applies a state change to the model of the restart policy.
func (h *mHarness) model(r *mRes, e resource.Event) {
	switch {
	case e.To == resource.Failed && (e.From == resource.Online || e.From == resource.OnlinePending):
		h.failure(r, e)
		h.dependencyFailed(r, e) // R72
	case e.To == resource.OnlinePending && h.mine[r.idx]:
		delete(h.mine, r.idx) // the operator's
	case e.To == resource.OnlinePending && r.token:
		r.reset() // an orchestration the operator started (R70, R73): resetLocked
	case e.To == resource.OnlinePending:
		h.monitorStart(r, e)
	}
}

// failure decides a failure as the policy says (R31–R34), as the monitor
// must: in maintenance nothing (R74); with a dependency down it is not the
// resource's own failure (R72); otherwise by the failures and restarts in
// the window.
func (h *mHarness) failure(r *mRes, e resource.Event) {
	p := r.pol
	r.cancel()
	r.failTime, r.decPol = e.Time, p
	if r.maint == maintOn {
		return // R74: no restart, Terminate or failover
	}
	if r.maint == maintEnding {
		r.loose = true
	}
	if r.loose {
		switch down, sure := h.depsDownAt(r, e.Time); {
		case down && sure:
			r.waitDeps = true // R72: not its own failure; back with its dependencies
		case p.RestartAction == monitor.NoRestart && !down:
		default:
			r.pending, r.due = pendAny, e.Time.Add(p.RestartDelay)
			r.waitDeps = r.waitDeps || down // it may be either; one already waiting still waits (R72)
		}
		return
	}
	r.failures = append(window(r.failures, e.Time, p.RestartPeriod), e.Time)
	switch {
	case p.RestartAction == monitor.NoRestart:
	case len(r.failures) <= p.RestartThreshold && len(window(r.restarts, e.Time, p.RestartPeriod)) < p.RestartThreshold:
		// Restarts that waited for a slow clean-up count in the window they
		// happened in.
		r.pending, r.due = pendRestart, e.Time.Add(p.RestartDelay)
	case p.RestartAction == monitor.RestartAndFailover:
		r.expectFailover = true
	case p.RetryPeriodOnFailure != resource.Never:
		r.pending, r.due, r.retried = pendRetry, e.Time.Add(p.RetryPeriodOnFailure), false
	}
}

// monitorStart checks a change into OnlinePending that nobody asked for: a
// restart or retry of the policy (R31–R34), or a dependent brought back
// (R72).
func (h *mHarness) monitorStart(r *mRes, e resource.Event) {
	p := r.decPol
	if r.maint == maintOn {
		h.Violate("R74: %v: the monitor started a resource in maintenance", e)
	}
	if r.waitDeps && h.depsOnlineAt(r, e.Time) {
		if r.loose && h.upstreamFailedAt(r, e.Time) && r.downAgainAt(e.Time) {
			// R72: brought back, and taken down again at this instant by
			// a failure upstream, which causal orders before this start
			// though it came after it: it still waits for its
			// dependencies.
			return
		}
		r.waitDeps, r.waitSure = false, false // R72: back with its dependencies
		if r.loose {
			return
		}
	}
	if r.loose && h.depsOnlineAt(r, e.Time) && h.upstreamFailedAt(r, e.Time) {
		// R72: something it depends on, directly or not, failed at this
		// instant: it may have been taken down and brought back with its
		// own dependencies, all at this instant, and which of those events
		// came first is not known across resources (causal).
		return
	}
	switch {
	case e.From != resource.Failed && !r.loose:
		h.Violate("R31: %v: the monitor brought up a resource that had not failed", e)
	case r.pending == pendNone:
		h.Violate("R31–R34, R72: %v: a start nobody asked for (policy %s, failover %v, waits for dependencies %v); failures at %v",
			e, mPolicyText(faultMPolicies[r.polIdx]), r.failover, r.waitDeps, h.times(r.failures))
	case e.Time.Before(r.due):
		h.Violate("R31, R34: %v before it was due at +%v", e, r.due.Sub(h.Start))
	case r.pending == pendRestart && len(window(r.plain, e.Time, p.RestartPeriod)) >= p.RestartThreshold:
		h.Violate("R31: %v: a restart beyond RestartThreshold %d within RestartPeriod %v: restarts at %v",
			e, p.RestartThreshold, p.RestartPeriod, h.times(window(r.plain, e.Time, p.RestartPeriod)))
	}
	switch r.pending {
	case pendRetry:
		r.failures, r.restarts, r.plain, r.failover = nil, nil, nil, monitor.FailoverNone
	case pendRestart:
		r.plain = append(window(r.plain, e.Time, p.RestartPeriod), e.Time)
	}
	r.restarts = append(window(r.restarts, e.Time, r.pol.RestartPeriod), e.Time)
	r.pending = pendNone
}

func (h *mHarness) checkRes(r *mRes, now time.Time) {
	st := h.status(r)
	r.prevTerm = st.Terminating
	if st.State != r.state {
		h.Violate("R4: %s is %v, its events say %v", r.name, st.State, r.state)
	}
	h.countChecks(r, now)

	// R11–R13, R30, R39: deadlines, by the policy in force when the
	// operation began or the one set since.
	if st.Exempt {
		r.exemptSeen = true
	}
	a, b := r.pendPol, r.pol
	if !st.Deadline.IsZero() {
		if !st.Deadline.After(now) {
			h.Violate("R11: %s %v pending (op %v) at its deadline +%v", r.name, st.State, st.Pending, st.Deadline.Sub(h.Start))
		}
		if st.Exempt || st.Queued {
			h.Violate("R12, R39: %s: an exempt or queued operation has a deadline", r.name)
		}
		if limit := max(a.PendingTimeout, a.TerminateTimeout, b.PendingTimeout, b.TerminateTimeout); st.Deadline.Sub(now) > limit {
			h.Violate("R11, R13, R30: %s: the deadline +%v lies more than %v ahead", r.name, st.Deadline.Sub(h.Start), limit)
		}
	}
	if st.State.Pending() && !st.Exempt && !st.Queued && st.Deadline.IsZero() {
		h.Violate("R11: %s %v (op %v, terminating %v) with no deadline armed", r.name, st.State, st.Pending, st.Terminating)
	}
	limit := max(a.MaxPendingTime, b.MaxPendingTime) + max(a.TerminateTimeout, b.TerminateTimeout)
	if h.sc.MaxOps == 0 && st.State.Pending() && !r.exemptSeen && now.After(r.pendStart.Add(limit)) {
		h.Violate("R11, R13, R16: %s %v since +%v, beyond MaxPendingTime and TerminateTimeout", r.name, st.State, r.pendStart.Sub(h.Start))
	}

	// R14, R35: abandoned calls.
	running := 0
	for _, op := range []resource.Op{resource.OpOnline, resource.OpOffline, resource.OpIsAlive, resource.OpLooksAlive, resource.OpTerminate, resource.OpControl, resource.OpClose} {
		running += r.f.Running(op)
	}
	if st.Abandoned > running {
		h.Violate("R14: %s: %d abandoned calls counted, %d running", r.name, st.Abandoned, running)
	}
	if h.sc.Deadlock != resource.Never {
		hung := st.Abandoned > 0 && now.Sub(st.OldestAbandoned) >= h.sc.Deadlock
		if hung != st.Quarantined {
			h.Violate("R35: %s quarantined %v, oldest abandoned call abandoned at +%v", r.name, st.Quarantined, st.OldestAbandoned.Sub(h.Start))
		}
		if hung && !slices.Contains(r.deadlocks, st.OldestAbandoned.Add(h.sc.Deadlock)) {
			h.Violate("R35: %s: a call abandoned at +%v still runs, no deadlock reported at +%v", r.name, st.OldestAbandoned.Sub(h.Start), st.OldestAbandoned.Add(h.sc.Deadlock).Sub(h.Start))
		}
	} else if st.Quarantined {
		h.Violate("R35: %s quarantined with hang detection off", r.name)
	}

	// R20, R21, R30: a failing or hung IsAlive latches in time.
	if at, ok := h.latchBy(r, st); ok && now.After(at) {
		h.Violate("R20, R21, R30: %s is Online, its IsAlive fails since +%v; under IsAliveInterval %v, FailureThreshold %d it should have latched by +%v",
			r.name, r.sickAt.Sub(h.Start), r.pol.IsAliveInterval, r.pol.FailureThreshold, at.Sub(h.Start))
	}
	if r.maint == maintOff {
		if at, ok := faulttest.HungLatchBy(r.f, r.pol.Policy, st.Status, r.onlineAt, latest(r.polAt, r.maintAt), r.checkTimeoutAt); ok && now.After(at) {
			h.Violate("R21, R24, R30: %s is Online with a check hung, and not latched by +%v", r.name, at.Sub(h.Start))
		}
	}
	h.checkMaint(r, st)

	// R31–R34, R36: the restart policy.
	p := r.pol
	if r.pending == pendRetry && !now.Before(r.due) && !r.retried {
		r.failures, r.restarts, r.plain, r.failover, r.retried = nil, nil, nil, monitor.FailoverNone, true // R34: a fresh window
	}
	if r.loose {
		return // what other resources decide for it is not modelled exactly (R72)
	}
	// The lists are trimmed when the monitor trims them (at a failure, at a
	// restart); Status counts them in the window of the policy in force, so
	// a longer RestartPeriod set later counts older ones again (R33, R30).
	if fs := window(r.failures, now, p.RestartPeriod); st.Failures != len(fs) {
		h.Violate("R33, R36: %s: Status counts %d failures in the window, the model %d %v", r.name, st.Failures, len(fs), h.times(fs))
	}
	if rs := window(r.restarts, now, p.RestartPeriod); st.Restarts != len(rs) {
		h.Violate("R36: %s: Status counts %d restarts in the window, the model %d %v", r.name, st.Restarts, len(rs), h.times(rs))
	}
	if st.Failover != r.failover {
		h.Violate("R31, R36: %s: failover %v, the model %v", r.name, st.Failover, r.failover)
	}
	switch {
	case r.pending != pendNone && r.due.After(now) && !st.NextRestart.Equal(r.due):
		h.Violate("R36: %s: next restart +%v, the model +%v", r.name, st.NextRestart.Sub(h.Start), r.due.Sub(h.Start))
	case r.pending == pendNone && !st.NextRestart.IsZero():
		h.Violate("R31–R34: %s: a restart at +%v the policy does not ask for", r.name, st.NextRestart.Sub(h.Start))
	}
	cleaned := r.failTime.Add(r.decPol.TerminateTimeout) // the failure's clean-up Terminate ends by then (R17)
	// R74: a restart that fell due in maintenance is dropped; one that was
	// deferred by a quarantine (R35) runs when the hung call returns,
	// perhaps after maintenance: either may be.
	mayDrop := r.inMaint(r.due, now)
	if r.pending != pendNone && !now.Before(r.due) && !now.Before(cleaned) && !st.Quarantined && !mayDrop {
		h.Violate("R31, R34: %s: the restart due at +%v has not happened (state %v)", r.name, r.due.Sub(h.Start), st.State)
	}
	if r.expectFailover && r.inMaint(r.failTime, now) {
		r.expectFailover, r.mayFailover = false, true // R74: dropped if maintenance began before the clean-up ended
	}
	if r.expectFailover && !now.Before(cleaned) {
		h.Violate("R31: %s: the policy is spent since +%v, and no failover was requested", r.name, r.failTime.Sub(h.Start))
	}
}

// countChecks follows how many scripted IsAlive and LooksAlive behaviours
// are left: each call takes the next one.
func (h *mHarness) countChecks(r *mRes, now time.Time) {
	for _, op := range []resource.Op{resource.OpIsAlive, resource.OpLooksAlive} {
		n := r.f.Count(op)
		if d := n - r.counted[op]; d > 0 && r.queued[op] > 0 {
			r.queued[op] = max(0, r.queued[op]-d)
			if r.queued[op] == 0 {
				r.scriptsOutAt[op] = now
			}
		}
		r.counted[op] = n
	}
}

// latchBy returns when an Online resource whose IsAlive fails must have
// latched (R20, R21, R24, R30): its checks run every IsAliveInterval (and
// LooksAliveInterval) of the policy last set, FailureThreshold failed ones
// in a row latch, and a tick that finds the other kind running is skipped
// (R5), so allow twice the threshold, and a hung one's CheckTimeout. ok is
// false when nothing obliges it.
func (h *mHarness) latchBy(r *mRes, st monitor.Status) (time.Time, bool) {
	p := r.pol
	if st.State != resource.Online || r.state != resource.Online || !r.sick || r.maint != maintOff || r.queued[resource.OpIsAlive] > 0 ||
		r.queued[resource.OpLooksAlive] > 0 || p.IsAliveInterval <= 0 || st.Terminating {
		return time.Time{}, false
	}
	every := p.IsAliveInterval
	if p.LooksAliveInterval > 0 {
		every = max(every, p.LooksAliveInterval)
	}
	from := latest(r.onlineAt.Add(p.StartupGrace), r.sickAt, r.polAt, r.maintAt, r.scriptsOutAt[resource.OpIsAlive], r.scriptsOutAt[resource.OpLooksAlive])
	return from.Add(time.Duration(2*p.FailureThreshold+1)*every + p.CheckTimeout), true
}

// latest returns the latest of ts.
func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// window returns the times less than period before now (R33).
func window(ts []time.Time, now time.Time, period time.Duration) []time.Time {
	return slices.DeleteFunc(slices.Clone(ts), func(t time.Time) bool { return now.Sub(t) >= period })
}

// upstreamFailedAt says whether a resource r depends on, directly or not,
// failed (Online or OnlinePending → Failed) at the instant t.
func (h *mHarness) upstreamFailedAt(r *mRes, t time.Time) bool {
	up := map[string]bool{}
	for _, x := range h.closure(r.idx, true) {
		if x != r {
			up[x.name] = true
		}
	}
	return slices.ContainsFunc(h.rec.Events(), func(e resource.Event) bool {
		return up[e.Resource] && e.Time.Equal(t) && e.Kind == resource.StateChanged && e.To == resource.Failed &&
			(e.From == resource.Online || e.From == resource.OnlinePending)
	})
}

// downAgainAt reports whether r, started at t, went down again at that
// same instant: its history holds, at t, a change into OfflinePending or
// Offline after one into OnlinePending.
func (r *mRes) downAgainAt(t time.Time) bool {
	started := false
	for _, c := range r.hist {
		if !c.at.Equal(t) {
			continue
		}
		switch {
		case c.to == resource.OnlinePending:
			started = true
		case started && (c.to == resource.OfflinePending || c.to == resource.Offline):
			return true
		}
	}
	return false
}
