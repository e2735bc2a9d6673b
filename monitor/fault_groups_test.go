package monitor_test

// The steps of TestFaultMonitor's schedules that touch dependencies and
// groups (R70–R73), maintenance (R74), common properties (R30) and Remove,
// and the invariants they imply:
//
//   - R70: a resource is started (a change into OnlinePending, whoever asks)
//     only at an instant where every dependency it has is Online; a
//     dependency is taken offline (a change into OfflinePending, but for
//     Shutdown) only at an instant where none of its dependents is still
//     up; AddDependency refuses a cycle, a dependency in another group or
//     not hosted (ErrDependency), and accepts the rest.
//   - R72: when a dependency fails, each dependent that was running (Online
//     or OnlinePending) and not in maintenance is taken offline — by the
//     time things rest it has left Online — and, once its dependencies are
//     Online again, it is brought back, in order; one that was not running
//     is not brought up by the monitor (it was not taken offline).
//   - R71, R73: GroupReadyToMove only once every member is down;
//     OnlineGroup and OfflineGroup returning nil only when every member was
//     Online (Offline) at some instant of the call; every blocking call
//     returning by its context.
//   - R74: in maintenance nothing latches (no Online → Failed), the monitor
//     starts no restart (no change into OnlinePending nobody asked for),
//     no clean-up Terminate and no failover request; a failing check is
//     recorded in Status; ending it runs a fresh check that latches.
//   - R30: SetPolicy's values are what Policy returns, its time-outs apply to
//     the operations that begin after it, its check interval to the checks
//     after it (latchBy), its restart policy from the next failure (model).
//   - Remove: refused with ErrDependency while something depends on the
//     resource; otherwise the resource goes (Status and every call say
//     ErrNoResource), its change into Unknown is its last event, no restart
//     follows, its Close runs once, and no goroutine is left: at every
//     instant where nothing is pending and no call runs, the engine owns
//     none (R20).
//
// Where two things happen at one instant in different goroutines, which came
// first is not known; the checks take either (statesAt).

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
)

// depEdge is a declared dependency. It is armed once things have rested
// after it was declared: an orchestration begun before works from the
// dependencies it found then (R70).
type depEdge struct{ armed bool }

// takeDown is R72's duty: x must be taken offline because its dependency
// cause failed at at.
type takeDown struct {
	x, cause *mRes
	at       time.Time
}

// callResult is what a blocking call in a caller goroutine returned.
type callResult struct {
	kind    mKind
	r       *mRes   // the resource named
	members []*mRes // a group call's members
	on      bool    // maintenance on
	wasOn   bool    // r was in maintenance before the call
	before  resource.State
	busy    bool // a Terminate ran for r at the call: no check can start, and nothing latches
	ctx     time.Duration
	start   time.Time

	// Written once by the caller under mHarness.resMu.
	done bool
	end  time.Time
	err  error
	seen bool // checked
}

// running says whether a dependent in state s is one a dependency's failure
// takes offline (R72).
func running(s resource.State) bool { return s == resource.Online || s == resource.OnlinePending }

// depsOf returns the dependencies of resource i, by index, sorted.
func (h *mHarness) depsOf(i int) []int {
	var out []int
	for e := range h.deps {
		if e.From == i {
			out = append(out, e.To)
		}
	}
	slices.Sort(out)
	return out
}

// depsDown says whether a dependency of r is not Online now.
func (h *mHarness) depsDown(r *mRes) bool {
	return slices.ContainsFunc(h.depsOf(r.idx), func(d int) bool { return h.res[d].state != resource.Online })
}

// closure returns r and, transitively, what it depends on (up) or what
// depends on it (down), the removed left out.
func (h *mHarness) closure(i int, up bool) []*mRes {
	seen := map[int]bool{}
	var out []*mRes
	var visit func(int)
	visit = func(i int) {
		if seen[i] || h.res[i].removed {
			return
		}
		seen[i] = true
		out = append(out, h.res[i])
		for e := range h.deps {
			switch {
			case up && e.From == i:
				visit(e.To)
			case !up && e.To == i:
				visit(e.From)
			}
		}
	}
	visit(i)
	return out
}

// depsDownAt says whether a dependency of r was down at the instant t, and
// whether that is sure: one with no Online state at t surely was; one with
// Online and another state at t may have been.
func (h *mHarness) depsDownAt(r *mRes, t time.Time) (down, sure bool) {
	sure = true
	for _, d := range h.depsOf(r.idx) {
		states := h.res[d].statesAt(t)
		switch {
		case !slices.Contains(states, resource.Online):
			return true, true
		case slices.ContainsFunc(states, func(s resource.State) bool { return s != resource.Online }):
			down, sure = true, false
		}
	}
	return down, sure
}

// depsOnlineAt says whether every dependency of r was Online at some moment
// of the instant t.
func (h *mHarness) depsOnlineAt(r *mRes, t time.Time) bool {
	for _, d := range h.depsOf(r.idx) {
		if !slices.Contains(h.res[d].statesAt(t), resource.Online) {
			return false
		}
	}
	return true
}

// dependencyFailed feeds the model with R72 when r failed: its dependents,
// transitively, that were running are taken offline and come back with
// their dependencies. A dependent surely ran if it did just before the
// failure's instant and at the check before, and nothing but the take-down
// moved it at that instant.
func (h *mHarness) dependencyFailed(r *mRes, e resource.Event) {
	for _, x := range h.closure(r.idx, false) {
		if x == r || x.maint == maintOn {
			continue // R74: the monitor leaves a resource in maintenance alone
		}
		states := x.statesAt(e.Time)
		// At the instant only the take-down itself may move it: a failure
		// of its own then may have come first (and spent its policy).
		onlyTakeDown := !slices.ContainsFunc(states[1:], func(s resource.State) bool { return s != resource.OfflinePending && s != resource.Offline })
		switch {
		case x.maint == maintEnding:
			// Its maintenance may have ended (the take-down and return
			// follow) or not (it is left alone).
			x.waitDeps, x.waitSure = true, false
		case running(states[0]) && running(x.prev) && !x.prevTerm && onlyTakeDown:
			h.obliged = append(h.obliged, takeDown{x: x, cause: r, at: e.Time})
			x.cancel()
			x.waitDeps, x.waitSure, x.waitAt, x.waitOn = true, true, e.Time, h.depsOf(x.idx)
		case !slices.ContainsFunc(states, running) && !running(x.prev) && x.pending == pendNone:
			// Not running, nor waiting to restart: not brought back.
		default:
			x.waitDeps, x.waitSure = true, false // its restart may come as its return, or it may not (R72)
		}
	}
}

// checkChange checks a state change against R70 and R74.
func (h *mHarness) checkChange(r *mRes, e resource.Event) {
	if h.shutdown || r.removed {
		return
	}
	switch {
	case e.To == resource.OnlinePending:
		// R70: started only when every dependency is Online.
		for dep, edge := range h.deps {
			if dep.From == r.idx && edge.armed && !h.res[dep.To].removed {
				if d := h.res[dep.To]; !slices.Contains(d.statesAt(e.Time), resource.Online) {
					h.Violate("R70: %v while its dependency %s was %v", e, d.name, d.statesAt(e.Time))
				}
			}
		}
	case e.To == resource.OfflinePending:
		// R70: dependents go offline first — but one in maintenance, which
		// R72 and R74 leave running when its dependency's dependency fails.
		for dep, edge := range h.deps {
			// A dependent the operator started since things last rested may
			// have been started after an offline in flight looked (a
			// conflicting command): not checked.
			x := h.res[dep.From]
			if dep.To == r.idx && edge.armed && !x.removed && !x.inMaint(e.Time, e.Time) && x.opStartAt.Before(h.restBefore(e.Time)) {
				if !slices.ContainsFunc(x.statesAt(e.Time), func(s resource.State) bool { return !up(s) }) {
					h.Violate("R70: %v while its dependent %s was %v", e, x.name, x.statesAt(e.Time))
				}
			}
		}
	case e.To == resource.Failed && e.From == resource.Online && r.maint == maintOn:
		h.Violate("R74: %v: a failure latched in maintenance", e)
	}
	if e.To == resource.Failed && (e.From == resource.Online || e.From == resource.OnlinePending) && r.maint == maintOn {
		r.maintFail = e.Time
	}
	// R72, R74: the monitor leaves a resource in maintenance alone: what
	// takes it down is the operator's (or a command in flight when it began).
	down := e.To == resource.OfflinePending || e.To == resource.Offline && running(e.From)
	if rest := h.restBefore(e.Time); down && r.maint == maintOn && r.maintAt.Before(rest) && r.opStopAt.Before(rest) && !r.stopInFlight {
		h.Violate("R72, R74: %v: the monitor took down a resource in maintenance since +%v", e, r.maintAt.Sub(h.Start))
	}
	if !up(e.To) {
		r.stopInFlight = false // down: the operator's Offline, if any, is done
	}
	if e.To == resource.Online && e.Op == resource.OpProbe {
		r.waitSure = false // adopted as it runs (R7): the monitor may or may not bring it back
	}
}

// checkReadyToMove checks R71: the group is down when it is ready to move.
func (h *mHarness) checkReadyToMove(r *mRes, e resource.Event) {
	for _, x := range h.res {
		if x.group != r.group || x.removed || !x.opStartAt.Before(h.acceptAt[r.group]) {
			continue
		}
		if states := x.statesAt(e.Time); !slices.ContainsFunc(states, func(s resource.State) bool { return !up(s) }) {
			h.Violate("R71: %v while member %s was %v", e, x.name, states)
		}
	}
}

// dependency declares or withdraws a dependency, and checks the answer
// (R70).
func (h *mHarness) dependency(s mStep, r *mRes) {
	x := h.res[s.N]
	edge := mEdge{r.idx, x.idx}
	if s.Kind == mRemoveDep {
		err := h.m.RemoveDependency(r.name, x.name)
		h.Logf("%v → %v", s, err)
		if err != nil {
			h.Violate("R70: RemoveDependency(%s, %s): %v", r.name, x.name, err)
		}
		delete(h.deps, edge)
		return
	}
	var want error
	switch {
	case x.removed, x.group != r.group, h.deps[edge] == nil && h.reaches(x.idx, r.idx):
		want = monitor.ErrDependency
	}
	err := h.m.AddDependency(r.name, x.name)
	h.Logf("%v → %v", s, err)
	switch {
	case want != nil && !errors.Is(err, want):
		h.Violate("R70: AddDependency(%s, %s) (groups %s, %s; a cycle or not hosted) returned %v, want %v", r.name, x.name, r.group, x.group, err, want)
	case want == nil && err != nil:
		h.Violate("R70: AddDependency(%s, %s): %v", r.name, x.name, err)
	case want == nil && h.deps[edge] == nil:
		h.deps[edge] = &depEdge{}
		r.loose, x.loose = true, true
	}
}

// reaches says whether from depends on to, transitively, or is it.
func (h *mHarness) reaches(from, to int) bool {
	if from == to {
		return true
	}
	for e := range h.deps {
		if e.From == from && h.reaches(e.To, to) {
			return true
		}
	}
	return false
}

// members returns the hosted resources of r's group.
func (h *mHarness) members(r *mRes) []*mRes {
	var out []*mRes
	for _, x := range h.res {
		if x.group == r.group && !x.removed {
			out = append(out, x)
		}
	}
	return out
}

// record starts a result for a blocking call.
func (h *mHarness) record(s mStep, r *mRes) *callResult {
	c := &callResult{kind: s.Kind, r: r, members: h.members(r), on: s.N == 1, wasOn: r.maint == maintOn, before: r.state, ctx: s.D, start: time.Now()}
	h.resMu.Lock()
	h.results = append(h.results, c)
	h.resMu.Unlock()
	return c
}

// finished stores what a call returned.
func (h *mHarness) finished(c *callResult, err error) {
	h.resMu.Lock()
	c.done, c.end, c.err = true, time.Now(), err
	h.resMu.Unlock()
}

// groupOp brings r's group online or offline (R73).
func (h *mHarness) groupOp(s mStep, r *mRes) {
	c := h.record(s, r)
	now := time.Now()
	for _, x := range c.members {
		if s.Kind == mOnlineGroup {
			x.opStartAt, x.stopInFlight = now, false
			if x.loose {
				x.token, x.waitSure = true, false // started (its wait ended, R72) when its dependencies are up
				continue
			}
			if h.status(x).Quarantined {
				continue
			}
			x.reset() // nothing depends on it, or it on anything: at once
			if x.state == resource.Offline || x.state == resource.Failed {
				h.mine[x.idx] = true
			}
			continue
		}
		x.waitDeps, x.waitSure = false, false // the operator's intent: they stay down
		x.termStep, x.opStopAt = h.Step, now
		if !x.loose {
			x.cancel()
		}
	}
	h.Logf("%v", s)
	h.orchCalls.Add(1)
	h.caller(s.D, func(ctx context.Context) error {
		defer h.orchCalls.Add(-1)
		if s.Kind == mOnlineGroup {
			return h.m.OnlineGroup(ctx, r.group)
		}
		return h.m.OfflineGroup(ctx, r.group)
	}, func(err error) { h.finished(c, err) })
}

// maintenance puts r, or its group, in maintenance or takes it out (R74).
func (h *mHarness) maintenance(s mStep, r *mRes) {
	c := h.record(s, r)
	members := c.members
	if s.Kind == mMaint {
		members = []*mRes{r}
		c.busy = h.status(r).Terminating
	}
	now := time.Now()
	ended := false // a member before x is taken out of maintenance: x's end waits for its fresh check
	for _, x := range members {
		switch {
		case c.on:
			x.setMaint(maintOn, now)
		case x.maint == maintOff:
		case !ended && x.maint == maintOn:
			x.setMaint(maintOff, now) // ended at once; the next after its fresh check
			ended = true
		default:
			x.setMaint(maintEnding, now)
			ended = true
		}
	}
	h.Logf("%v", s)
	h.caller(s.D, func(ctx context.Context) error {
		if s.Kind == mMaint {
			return h.m.SetMaintenance(ctx, r.name, c.on)
		}
		return h.m.SetGroupMaintenance(ctx, r.group, c.on)
	}, func(err error) { h.finished(c, err) })
}

// setPolicy gives r new common properties (R30).
func (h *mHarness) setPolicy(s mStep, r *mRes) {
	p := faultMPolicies[s.N]
	err := h.m.SetPolicy(context.Background(), r.name, p)
	h.Logf("%v → %v", s, err)
	if err != nil {
		h.Violate("R30: SetPolicy(%s): %v", r.name, err)
		return
	}
	got, err := h.m.Policy(r.name)
	if err != nil || got.PendingTimeout != p.PendingTimeout && p.PendingTimeout != 0 || got.IsAliveInterval != p.IsAliveInterval ||
		got.TerminateTimeout != p.TerminateTimeout || got.RestartAction != p.RestartAction ||
		got.RestartThreshold != p.RestartThreshold && p.RestartThreshold != 0 || got.RestartDelay != p.RestartDelay && p.RestartDelay != 0 {
		h.Violate("R30: after SetPolicy(%s, %s) Policy returns %s, %v", r.name, mPolicyText(p), mPolicyText(got), err)
	}
	r.pol, r.polIdx, r.polAt = got, s.N, time.Now()
	r.timeouts = append(r.timeouts, policySpan{from: r.polAt, checkTimeout: got.CheckTimeout})
}

// remove stops hosting r, unless something depends on it.
func (h *mHarness) remove(s mStep, r *mRes) {
	c := h.record(s, r)
	dependents := false
	for e := range h.deps {
		if e.To == r.idx && !h.res[e.From].removed {
			dependents = true
		}
	}
	r.opStopAt = time.Now()
	if !dependents {
		r.removed, r.removedAt = true, time.Now()
		r.cancel()
		for e := range h.deps {
			if e.From == r.idx {
				delete(h.deps, e)
			}
		}
	}
	h.Logf("%v in %v (dependents %v)", s, r.state, dependents)
	c.wasOn = dependents
	h.caller(s.D, func(ctx context.Context) error { return h.m.Remove(ctx, r.name) }, func(err error) { h.finished(c, err) })
}

// doRemoved runs a step naming a removed resource: whatever names it is
// refused with ErrNoResource; what names its group acts on the others.
func (h *mHarness) doRemoved(s mStep, r *mRes) {
	ctx := context.Background()
	var err error
	switch s.Kind {
	case mOnline:
		_, err = h.m.Online(r.name)
	case mOffline:
		_, err = h.m.Offline(r.name)
	case mTerminate:
		err = h.m.Terminate(ctx, r.name)
	case mProbe:
		_, err = h.m.Probe(ctx, r.name)
	case mControl:
		_, err = h.m.Control(ctx, r.name, resource.FirstResourceControlCode, nil)
	case mSetPolicy:
		err = h.m.SetPolicy(ctx, r.name, faultMPolicies[s.N])
	case mMaint:
		err = h.m.SetMaintenance(ctx, r.name, s.N == 1)
	case mAddDep:
		err = h.m.AddDependency(r.name, faultNames[s.N])
	case mRemoveDep:
		err = h.m.RemoveDependency(r.name, faultNames[s.N])
	case mRemove:
		err = h.m.Remove(ctx, r.name)
	case mReport:
		r.f.ReportFailure(rt.ErrInjected) // the closed wrapper ignores it
		h.Logf("%v (removed)", s)
		return
	case mAccept, mDecline:
		h.answer(s, r)
		return
	case mOnlineGroup, mOfflineGroup:
		h.groupOp(s, r)
		return
	case mGroupMaint:
		h.maintenance(s, r)
		return
	default:
		h.Logf("%v (removed)", s)
		return
	}
	h.Logf("%v → %v (removed)", s, err)
	if !errors.Is(err, monitor.ErrNoResource) {
		h.Violate("Remove: %s of the removed %s returned %v, want ErrNoResource", mKindNames[s.Kind], r.name, err)
	}
}

// checkResults checks what the blocking calls returned (R70–R74, Remove).
func (h *mHarness) checkResults() {
	now := time.Now()
	h.resMu.Lock()
	results := slices.Clone(h.results)
	h.resMu.Unlock()
	for _, c := range results {
		h.resMu.Lock()
		done, end, err := c.done, c.end, c.err
		h.resMu.Unlock()
		if !done {
			if now.After(c.start.Add(c.ctx)) {
				h.Violate("R18, R73, R74: %s of %s (ctx %v) still blocks at +%v", mKindNames[c.kind], c.r.name, c.ctx, now.Sub(h.Start))
			}
			continue
		}
		if c.seen {
			continue
		}
		c.seen = true
		ctxErr := errors.Is(err, context.DeadlineExceeded)
		switch c.kind {
		case mRemove:
			switch {
			case c.wasOn && !errors.Is(err, monitor.ErrDependency):
				h.Violate("Remove: Remove of %s, which others depend on, returned %v, want ErrDependency", c.r.name, err)
			case !c.wasOn && err != nil && !ctxErr && !errors.Is(err, rt.ErrInjected) && !errors.Is(err, resource.ErrPanic) && !errors.Is(err, resource.ErrNotRunning):
				h.Violate("Remove: Remove of %s returned %v", c.r.name, err)
			}
		case mOnlineGroup, mOfflineGroup:
			want := resource.Online
			if c.kind == mOfflineGroup {
				want = resource.Offline
			}
			switch {
			case len(c.members) == 0 && !errors.Is(err, monitor.ErrNoResource):
				h.Violate("R73: %s of a group with no resources returned %v, want ErrNoResource", mKindNames[c.kind], err)
			case len(c.members) > 0 && err == nil:
				for _, x := range c.members {
					if !x.wasIn(want, c.start, end) {
						h.Violate("R73: %s of group %q returned nil at +%v, but %s was never %v since +%v", mKindNames[c.kind], x.group, end.Sub(h.Start), x.name, want, c.start.Sub(h.Start))
					}
				}
			}
		case mMaint:
			h.checkMaintEnd(c, err, ctxErr)
		case mGroupMaint:
			if len(c.members) == 0 && !errors.Is(err, monitor.ErrNoResource) {
				h.Violate("R74: SetGroupMaintenance of a group with no resources returned %v, want ErrNoResource", err)
			}
			for _, x := range c.members {
				if x.maint == maintEnding {
					x.setMaint(maintOff, end)
				}
			}
		}
	}
}

// wasIn says whether r was in state s at some instant from start to end.
func (r *mRes) wasIn(s resource.State, start, end time.Time) bool {
	if slices.Contains(r.statesAt(start), s) {
		return true
	}
	return slices.ContainsFunc(r.hist, func(c mChange) bool { return c.to == s && !c.at.Before(start) && !c.at.After(end) })
}

// checkMaintEnd checks SetMaintenance's answer (R74): turning it on, or off
// when it was off or the resource is not Online, runs nothing; ending it
// while Online runs one fresh check, and a failed one latches.
func (h *mHarness) checkMaintEnd(c *callResult, err error, ctxErr bool) {
	r := c.r
	checks := !c.on && c.wasOn && c.before == resource.Online
	switch {
	case !checks && err != nil:
		h.Violate("R74: SetMaintenance(%s, %v) (in maintenance %v, %v) returned %v", r.name, c.on, c.wasOn, c.before, err)
	case checks && err != nil && !ctxErr && !c.busy:
		// It latched, or something else moved it while the check ran (a
		// Terminate cancels it).
		if slices.ContainsFunc(r.hist, func(ch mChange) bool {
			return !ch.at.Before(c.start) && (ch.to == resource.Failed || !ch.at.After(c.end))
		}) {
			return
		}
		// Maintenance began again before the check returned: a failure in
		// maintenance latches nothing (R74).
		if slices.ContainsFunc(r.maintHist, func(sp span) bool { return !sp.from.Before(c.start) && !sp.from.After(c.end) }) {
			return
		}
		h.Violate("R74: ending the maintenance of %s ran a check that failed (%v), and it did not latch", r.name, err)
	}
}

// checkMaint checks R74 for a resource in maintenance: failures of its
// checks are recorded in Status; a failure starts no clean-up Terminate.
func (h *mHarness) checkMaint(r *mRes, st monitor.Status) {
	terms := r.f.Count(resource.OpTerminate)
	defer func() { r.termCalls, r.maintFail = terms, time.Time{} }()
	if !r.maintFail.IsZero() && terms > r.termCalls && r.termStep != h.Step {
		for _, c := range r.f.Calls() {
			if c.Op == resource.OpTerminate && c.Start.Equal(r.maintFail) {
				h.Violate("R74: %s failed in maintenance at +%v, and a Terminate followed", r.name, r.maintFail.Sub(h.Start))
				break
			}
		}
	}
	if r.maint != maintOn || st.State != resource.Online || st.MaintErr != nil {
		return
	}
	// A check of the instant maintenance began ran before it (checks start
	// from timers, which fire only as time passes).
	from := latest(r.maintAt, r.onlineAt)
	for _, c := range r.f.Calls() {
		// A check starts after the change into Online (a Probe's IsAlive
		// may start at that instant, before it).
		// A call the engine cancelled (a Terminate, a time-out that is
		// recorded itself) is not a check's result.
		if (c.Op == resource.OpIsAlive || c.Op == resource.OpLooksAlive) && c.Start.After(from) && !c.End.IsZero() && c.Err != nil && !errors.Is(c.Err, context.Canceled) {
			h.Violate("R74: %s in maintenance: its %v at +%v failed (%v), and Status shows no failure", r.name, c.Op, c.Start.Sub(h.Start), c.Err)
			return
		}
	}
}

// checkRemoved checks a removed resource: gone, its change into Unknown
// its last event (checkEvent), every call ErrNoResource.
func (h *mHarness) checkRemoved(r *mRes) {
	if _, err := h.m.Status(r.name); !errors.Is(err, monitor.ErrNoResource) {
		h.Violate("Remove: Status of the removed %s returned %v, want ErrNoResource", r.name, err)
	}
	if slices.Contains(h.m.Resources(), r.name) {
		h.Violate("Remove: the removed %s is still listed", r.name)
	}
	if !r.gone {
		h.Violate("R18: %s was removed, and no change into Unknown came", r.name)
	}
}

// restBefore returns the last rest before t. A step's events are checked
// after the step, when a rest at their own instant may already be recorded;
// that rest came after them, and what they did was in flight before it (an
// operator's Offline waiting for a dependent's Terminate, which the step
// ended).
func (h *mHarness) restBefore(t time.Time) time.Time {
	if h.restAt.Before(t) {
		return h.restAt
	}
	return h.restPrev
}

// checkQuiet checks what must hold once things rest — nothing pending,
// no Terminate running, no group call in flight: R72's duties are done,
// every declared dependency is armed, and with no call running at all the
// engine owns no goroutine (R20).
func (h *mHarness) checkQuiet(now time.Time) {
	quiet := h.orchCalls.Load() == 0
	for _, r := range h.res {
		if r.removed {
			continue
		}
		st := h.status(r)
		if st.State.Pending() || st.Terminating || st.Queued {
			quiet = false
		}
	}
	if !quiet {
		return
	}
	if now.After(h.restAt) {
		h.restPrev, h.restAt = h.restAt, now
	}
	for _, o := range h.obliged {
		if o.x.removed {
			continue
		}
		if !slices.ContainsFunc(o.x.hist, func(c mChange) bool { return !c.at.Before(o.at) && !running(c.to) }) {
			h.Violate("R72: %s's dependency %s failed at +%v, and it was not taken offline", o.x.name, o.cause.name, o.at.Sub(h.Start))
		}
	}
	h.obliged = nil
	for _, r := range h.res {
		h.checkBack(r)
		r.token = false
	}
	for _, e := range h.deps {
		e.armed = true
	}
	if h.inCall.Load() > 0 {
		return
	}
	if slices.ContainsFunc(h.res, (*mRes).busy) {
		return
	}
	if g := rt.GoroutinesIn("github.com/resdll/resdll/"); len(g) > 0 {
		h.Violate("R20: at rest at +%v, with nothing pending and no call running, the engine owns goroutines:\n%s", now.Sub(h.Start), g)
	}
}

// checkBack checks R72's "comes back online": a dependent taken offline by
// a dependency's failure, whose dependencies are all Online again, has
// been started.
func (h *mHarness) checkBack(r *mRes) {
	if !r.waitDeps || !r.waitSure || r.removed || r.maint != maintOff || r.maintAt.After(r.waitAt) ||
		!slices.Equal(h.depsOf(r.idx), r.waitOn) || h.depsDown(r) || (r.state != resource.Offline && r.state != resource.Failed) ||
		h.status(r).Quarantined {
		return
	}
	h.Violate("R72: %s was taken offline at +%v when a dependency failed; its dependencies are Online again, and it is %v",
		r.name, r.waitAt.Sub(h.Start), r.state)
}
