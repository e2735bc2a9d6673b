package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/resdll/resdll/resource"
)

// Groups and dependencies (R70–R74), as Windows clusters have them: a
// resource may depend on others of its group; Online brings dependencies
// online first, Offline takes dependents offline first, a failed
// dependency takes its dependents offline and brings them back when it is
// restarted, and a group moves as one.

// ErrDependency is wrapped by the errors about dependencies: a cycle, a
// dependency in another group or unknown, a resource that others still
// depend on, a dependency that did not come online.
var ErrDependency = errors.New("monitor: dependency")

// AddDependency declares that dependent depends on dependency (R70): both
// must be hosted and in the same group, and a cycle is refused with an
// error naming it. A dependency declared while dependent is Online takes
// effect from its next Online.
func (m *Monitor) AddDependency(dependent, dependency string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.lookupLocked(dependent)
	if err != nil {
		return err
	}
	return m.addDependencyLocked(d, dependency)
}

func (m *Monitor) addDependencyLocked(d *entry, dependency string) error {
	dep := m.entries.get(dependency)
	switch {
	case dep == nil:
		return fmt.Errorf("monitor: %q depends on %q, which is not hosted: %w", d.name, dependency, ErrDependency)
	case dep.groupLocked() != d.groupLocked():
		return fmt.Errorf("monitor: %q (group %q) cannot depend on %q of group %q: dependencies stay within a group: %w",
			d.name, d.groupLocked(), dependency, dep.groupLocked(), ErrDependency)
	case slices.Contains(d.depsLocked(), dependency):
		return nil
	}
	if path := m.pathLocked(dependency, d.name); path != nil {
		cycle := append([]string{d.name}, path...)
		return fmt.Errorf("monitor: %q depending on %q makes a cycle: %s: %w", d.name, dependency, strings.Join(cycle, " → "), ErrDependency)
	}
	dx, depx := d.more(), dep.more()
	dx.deps = append(dx.deps, dependency)
	slices.Sort(dx.deps)
	depx.rdeps = append(depx.rdeps, d.name)
	dep.dependents.Store(true)
	return nil
}

// pathLocked returns a dependency path from → … → to, or nil.
func (m *Monitor) pathLocked(from, to string) []string {
	if from == to {
		return []string{to}
	}
	e := m.entries.get(from)
	if e == nil {
		return nil
	}
	for _, dep := range e.depsLocked() {
		if p := m.pathLocked(dep, to); p != nil {
			return append([]string{from}, p...)
		}
	}
	return nil
}

// RemoveDependency withdraws a dependency; removing one that is not there
// does nothing.
func (m *Monitor) RemoveDependency(dependent, dependency string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.lookupLocked(dependent)
	if err != nil {
		return err
	}
	if d.x != nil {
		d.x.deps = slices.DeleteFunc(d.x.deps, func(s string) bool { return s == dependency })
	}
	if dep := m.entries.get(dependency); dep != nil && dep.x != nil {
		dep.x.rdeps = slices.DeleteFunc(dep.x.rdeps, func(s string) bool { return s == dependent })
		dep.dependents.Store(len(dep.x.rdeps) > 0)
	}
	return nil
}

// Dependencies returns the resources name depends on directly, sorted.
func (m *Monitor) Dependencies(name string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.lookupLocked(name)
	if err != nil {
		return nil, err
	}
	return slices.Clone(e.depsLocked()), nil
}

// dependentsLocked returns the hosted resources that depend on name
// directly.
func (m *Monitor) dependentsLocked(name string) []*entry {
	e := m.entries.get(name)
	if e == nil {
		return nil
	}
	var out []*entry
	for _, r := range e.rdepsLocked() {
		if d := m.entries.get(r); d != nil && d.w != nil {
			out = append(out, d)
		}
	}
	return out
}

// closureLocked returns names and, transitively, their dependencies (up)
// or their dependents (down).
func (m *Monitor) closureLocked(names []string, up bool) map[string]*entry {
	set := map[string]*entry{}
	var visit func(string)
	visit = func(name string) {
		e := m.entries.get(name)
		if e == nil || e.w == nil || set[name] != nil {
			return
		}
		set[name] = e
		if up {
			for _, dep := range e.depsLocked() {
				visit(dep)
			}
		} else {
			for _, d := range m.dependentsLocked(name) {
				visit(d.name)
			}
		}
	}
	for _, name := range names {
		visit(name)
	}
	return set
}

// levelsLocked orders set into levels: with up, a resource comes after
// every dependency of it in set (online order); otherwise after every
// dependent of it in set (offline order). Members of a level are
// independent of each other and run in parallel.
func (m *Monitor) levelsLocked(set map[string]*entry, up bool) [][]*entry {
	level := map[string]int{}
	var depth func(e *entry) int
	depth = func(e *entry) int {
		if l, ok := level[e.name]; ok {
			return l
		}
		l := 0
		var next []*entry
		if up {
			for _, dep := range e.depsLocked() {
				if x := set[dep]; x != nil {
					next = append(next, x)
				}
			}
		} else {
			for _, d := range m.dependentsLocked(e.name) {
				if set[d.name] != nil {
					next = append(next, d)
				}
			}
		}
		for _, x := range next {
			l = max(l, depth(x)+1)
		}
		level[e.name] = l
		return l
	}
	var out [][]*entry
	for _, e := range set {
		l := depth(e)
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], e)
	}
	for _, l := range out {
		slices.SortFunc(l, func(a, b *entry) int { return strings.Compare(a.name, b.name) })
	}
	return out
}

// depsDownLocked reports whether a dependency of e is not Online (R70,
// R72).
func (m *Monitor) depsDownLocked(e *entry) bool {
	for _, dep := range e.depsLocked() {
		if d := m.entries.get(dep); d == nil || d.w == nil || d.w.State() != resource.Online {
			return true
		}
	}
	return false
}

// onlineOrdered brings set online in dependency order, each level in
// parallel, waiting for each level before the next (R70). A resource whose
// dependency did not come online is not started. It returns every failure.
func (m *Monitor) onlineOrdered(ctx context.Context, set map[string]*entry) error {
	m.mu.Lock()
	levels := m.levelsLocked(set, true)
	// The dependencies as they are now, which the levels were made from:
	// AddDependency and RemoveDependency change e.x.deps under m.mu, in
	// place, while this runs (R37).
	deps := make(map[*entry][]string, len(set))
	for _, e := range set {
		deps[e] = slices.Clone(e.depsLocked())
	}
	m.mu.Unlock()
	failed := map[string]bool{}
	var errs []error
	for _, level := range levels {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, e := range level {
			// The goroutines of this level write failed and errs already
			// (R37): mu guards them here too.
			mu.Lock()
			blocked := firstFailedDep(deps[e], failed)
			if blocked != "" {
				failed[e.name] = true
				errs = append(errs, fmt.Errorf("%s: not started: its dependency %s did not come online: %w", e.name, blocked, ErrDependency))
			}
			mu.Unlock()
			if blocked != "" {
				continue
			}
			wg.Go(func() {
				if err := m.onlineOne(ctx, e); err != nil {
					mu.Lock()
					failed[e.name] = true
					errs = append(errs, fmt.Errorf("%s: %w", e.name, err))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}

func firstFailedDep(deps []string, failed map[string]bool) string {
	for _, dep := range deps {
		if failed[dep] {
			return dep
		}
	}
	return ""
}

// onlineOne brings one resource online and waits for the outcome.
func (m *Monitor) onlineOne(ctx context.Context, e *entry) error {
	if m.quarantined(e) {
		return resource.ErrQuarantined
	}
	m.mu.Lock()
	st := e.w.State()
	// R70: a dependency that came online in an earlier level may have
	// failed since. Then the resource is not started, and not reset
	// either: one its dependency's failure took down keeps waiting to come
	// back with it (R72). (Resetting first, as this did, dropped that wait
	// whenever an orchestration reached the resource after the failure.)
	down := st != resource.Online && st != resource.OnlinePending && m.depsDownLocked(e)
	if !down {
		m.resetLocked(e)
	}
	m.mu.Unlock()
	switch {
	case down:
		return fmt.Errorf("not started: a dependency is not Online: %w", ErrDependency)
	case st == resource.Online:
		return nil
	case st == resource.OnlinePending:
	default:
		if _, err := e.w.Online(); err != nil {
			return err
		}
	}
	if err := e.w.Wait(ctx); err != nil {
		return err
	}
	if st := e.w.State(); st != resource.Online {
		return fmt.Errorf("it is %v", st)
	}
	return nil
}

// offlineOrdered takes set offline with dependents first, each level in
// parallel (R70, R71): pending members are terminated, the others taken
// offline; it waits for each level before the next.
func (m *Monitor) offlineOrdered(ctx context.Context, set map[string]*entry) error {
	m.mu.Lock()
	levels := m.levelsLocked(set, false)
	m.mu.Unlock()
	var mu sync.Mutex
	var errs []error
	for _, level := range levels {
		if err := ctx.Err(); err != nil {
			// R70: a dependent the caller stopped waiting for may still be
			// going offline; what it depends on stays up.
			errs = append(errs, err)
			break
		}
		var wg sync.WaitGroup
		for _, e := range level {
			wg.Go(func() {
				if err := m.offlineOne(ctx, e); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s: %w", e.name, err))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}

// offlineOne takes one resource offline, terminating it when it is
// pending, and waits until it is.
func (m *Monitor) offlineOne(ctx context.Context, e *entry) error {
	var cleanup chan struct{}
	m.mu.Lock()
	if e.x != nil {
		cleanup = e.x.cleanup
	}
	m.cancelTimersLocked(e)
	m.mu.Unlock()
	if cleanup != nil {
		select {
		case <-cleanup:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	switch e.w.State() {
	case resource.OnlinePending:
		_ = e.w.Terminate(ctx)
	case resource.Online, resource.Failed:
		if _, err := e.w.Offline(); err != nil {
			return err
		}
		if err := e.w.Wait(ctx); err != nil && ctx.Err() != nil {
			return err
		}
	case resource.OfflinePending:
		if err := e.w.Wait(ctx); err != nil && ctx.Err() != nil {
			return err
		}
	}
	if st := e.w.State(); st != resource.Offline {
		return fmt.Errorf("it is %v", st)
	}
	return nil
}

// members returns the hosted resources of group.
func (m *Monitor) membersLocked(group string) map[string]*entry {
	set := map[string]*entry{}
	for e := range m.entries.all() {
		name := e.name
		if e.groupLocked() == group && e.w != nil {
			set[name] = e
		}
	}
	return set
}

func (m *Monitor) groupMembers(group string) (map[string]*entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("monitor: group %q: %w", group, ErrShutdown)
	}
	set := m.membersLocked(group)
	if len(set) == 0 {
		return nil, fmt.Errorf("monitor: group %q has no resources: %w", group, ErrNoResource)
	}
	return set, nil
}

// OnlineGroup brings every resource of a group online in dependency order,
// independent ones in parallel (R70, R73), and returns when all are Online,
// with every failure (a resource whose dependency failed is not started),
// or with ctx's error.
func (m *Monitor) OnlineGroup(ctx context.Context, group string) error {
	set, err := m.groupMembers(group)
	if err != nil {
		return err
	}
	m.mu.Lock()
	for _, e := range set {
		m.supersedeLocked(e) // the operator's later command decides, as with Online
	}
	m.mu.Unlock()
	if err := m.onlineOrdered(ctx, set); err != nil {
		return fmt.Errorf("monitor: online group %q: %w", group, err)
	}
	return nil
}

// OfflineGroup takes every resource of a group offline, dependents first
// (R70, R73), and returns when all are Offline or ctx ends.
func (m *Monitor) OfflineGroup(ctx context.Context, group string) error {
	set, err := m.groupMembers(group)
	if err != nil {
		return err
	}
	m.mu.Lock()
	for _, e := range set {
		m.supersedeLocked(e)
		e.stopWaitingLocked() // the operator's intent, as with Offline: they stay down (R72)
	}
	m.mu.Unlock()
	if err := m.offlineOrdered(ctx, set); err != nil {
		return fmt.Errorf("monitor: offline group %q: %w", group, err)
	}
	return nil
}

// GroupStatus returns a snapshot of every resource of a group, sorted by
// name (R73).
func (m *Monitor) GroupStatus(group string) ([]Status, error) {
	set, err := m.groupMembers(group)
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(set))
	for _, e := range set {
		out = append(out, m.status(e))
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Groups returns the names of the groups, sorted.
func (m *Monitor) Groups() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	for e := range m.entries.all() {
		if e.w != nil {
			seen[e.groupLocked()] = true
		}
	}
	out := make([]string, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// SetGroupMaintenance puts every resource of a group in maintenance or
// takes them out (R74); see Wrapper.SetMaintenance. It returns the errors
// of the fresh checks that ending it runs.
func (m *Monitor) SetGroupMaintenance(ctx context.Context, group string, on bool) error {
	set, err := m.groupMembers(group)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range sortedNames(set) {
		if err := set[name].w.SetMaintenance(ctx, on); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func sortedNames(set map[string]*entry) []string {
	names := make([]string, 0, len(set))
	for name := range set {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// orchestrate runs f in a goroutine the monitor owns, as e's pending
// dependency work: Monitor.Wait waits for it.
func (m *Monitor) orchestrate(e *entry, f func(ctx context.Context)) {
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(m.life)
	m.mu.Lock()
	x := e.more()
	if x.orchCancel != nil {
		x.orchCancel() // the operator's later command replaces the earlier one's dependency work
	}
	x.orch, x.orchCancel = done, cancel
	m.mu.Unlock()
	m.wg.Go(func() {
		defer close(done)
		defer cancel()
		f(ctx)
	})
}

// supersedeLocked ends the dependency work an earlier Online or Offline of
// e started, if it still runs: the operator's later command (Online,
// Offline, OnlineGroup, OfflineGroup) decides — an Online of a resource
// whose Offline waits for its dependents to go down must not find it taken
// down when they are. Called with m.mu held.
func (m *Monitor) supersedeLocked(e *entry) {
	if e.x != nil && e.x.orchCancel != nil {
		e.x.orchCancel()
	}
}

// dependencyFailed takes the resources that depend on e, transitively,
// offline because e failed (R72): not counted against their own restart
// policy, and brought back in order once e is Online again. Resources in
// maintenance are left alone (R74).
func (m *Monitor) dependencyFailed(e *entry) {
	if !e.dependents.Load() {
		return // nothing depends on it (issue 10: no lock, no set to make)
	}
	m.mu.Lock()
	set := m.closureLocked([]string{e.name}, false)
	delete(set, e.name)
	for name, d := range set {
		ws := d.w.Status()
		if ws.Maintenance {
			delete(set, name)
			continue
		}
		// Only what runs, or waits to be restarted, comes back: one left
		// Offline or being terminated (the operator's), or Failed (a spent
		// policy, a failover request) stays down.
		if st := ws.State; (st == resource.Online || st == resource.OnlinePending) && !ws.Terminating || st == resource.Failed && d.x != nil && (!d.x.nextRestart.IsZero() || d.x.deferred) {
			d.more().waitDeps = true
		}
		m.cancelTimersLocked(d)
	}
	m.mu.Unlock()
	if len(set) == 0 {
		return
	}
	m.logger.Info("dependency failed: taking dependents offline", "resource", e.name, "dependents", strings.Join(sortedNames(set), ","))
	m.wg.Go(func() {
		_ = m.offlineOrdered(m.life, set)
		// R72: those whose dependencies came back while they were still
		// being taken offline come back now; the rest follow them in order
		// (dependencyOnline).
		m.mu.Lock()
		var ready []*entry
		for _, name := range sortedNames(set) {
			if d := set[name]; m.backLocked(d) {
				ready = append(ready, d)
			}
		}
		m.mu.Unlock()
		for _, d := range ready {
			if _, err := d.w.Online(); err != nil {
				m.logger.Warn("dependent not restarted", "resource", d.name, "err", err)
			}
		}
	})
}

// dependencyOnline brings back the dependents of e that wait for their
// dependencies, once all of theirs are Online (R72). One still being taken
// offline comes back once it is down (dependencyFailed).
func (m *Monitor) dependencyOnline(e *entry) {
	if e.dependents.Load() { // else nothing depends on it: every restart's worker passes here, and need not take m.mu (issue 10)
		m.dependentsOnline(e)
	}
}

// dependentsOnline is dependencyOnline's work when something depends on e:
// out of line, so that the common case keeps a small frame (onEvent).
//
//go:noinline
func (m *Monitor) dependentsOnline(e *entry) {
	m.mu.Lock()
	var ready []*entry
	for _, d := range m.dependentsLocked(e.name) {
		if m.backLocked(d) {
			ready = append(ready, d)
		}
	}
	m.mu.Unlock()
	for _, d := range ready {
		m.logger.Info("dependency back: bringing dependent online", "resource", d.name, "dependency", e.name)
		if _, err := d.w.Online(); err != nil {
			m.logger.Warn("dependent not restarted", "resource", d.name, "err", err)
		}
	}
}

// backLocked reports whether d, waiting for its dependencies, comes back
// now — they are all Online and it is down — and if so ends its wait.
// Called with m.mu held.
func (m *Monitor) backLocked(d *entry) bool {
	st := d.w.State()
	// R74: one in maintenance is not started by the monitor.
	if !d.waitsForDepsLocked() || m.depsDownLocked(d) || m.closed || d.removed || d.w.Status().Maintenance ||
		st != resource.Offline && st != resource.Failed {
		return false
	}
	d.x.waitDeps = false
	return true
}
