package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// exchange is the seed's Exchange virtual server as a group (R70, R71):
// the System Attendant first; the Information Store and the MTA on it; the
// protocol virtual servers on the Store.
var exchange = []struct {
	name string
	deps []string
}{
	{"SA", nil},
	{"Store", []string{"SA"}},
	{"MTA", []string{"SA"}},
	{"SMTP", []string{"Store"}},
	{"IMAP", []string{"Store"}},
	{"HTTP", []string{"Store"}},
}

// journal records every Online and Offline call of the group's resources
// in the order they are entered, and each violation of R70 seen at entry:
// an Online whose dependency is not Online, an Offline whose dependent is
// not Offline.
type journal struct {
	mu         sync.Mutex
	calls      []string
	violations []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.calls = append(j.calls, s)
}

func (j *journal) violate(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.violations = append(j.violations, s)
}

func (j *journal) since(n int) []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.calls[n:])
}

func (j *journal) len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.calls)
}

// node is a resource of the group that checks R70 on every Online and
// Offline it receives.
type node struct {
	name string
	g    *group
	sick atomic.Bool // IsAlive fails
}

func (n *node) Online(context.Context) error {
	n.g.j.add("Online " + n.name)
	for _, dep := range n.g.deps[n.name] {
		if st, _ := n.g.m.Status(dep); st.State != resource.Online {
			n.g.j.violate(fmt.Sprintf("%s Online while its dependency %s is %v", n.name, dep, st.State))
		}
	}
	return nil
}

func (n *node) Offline(context.Context) error {
	n.g.j.add("Offline " + n.name)
	for _, d := range n.g.dependents(n.name) {
		if st, _ := n.g.m.Status(d); st.State != resource.Offline && st.State != resource.Failed {
			n.g.j.violate(fmt.Sprintf("%s Offline while its dependent %s is %v", n.name, d, st.State))
		}
	}
	return nil
}

func (n *node) IsAlive(context.Context) error {
	if n.sick.Load() {
		return errors.New(n.name + " is sick")
	}
	return nil
}

func (n *node) Terminate(context.Context) error { return nil }

type group struct {
	t     *testing.T
	clk   *clock.Mock
	m     *monitor.Monitor
	rec   *rt.Recorder
	j     *journal
	deps  map[string][]string
	nodes map[string]*node
	ctx   context.Context
}

func (g *group) dependents(name string) []string {
	var out []string
	for n, deps := range g.deps {
		if slices.Contains(deps, name) {
			out = append(out, n)
		}
	}
	return out
}

// newExchange hosts the Exchange group "EVS1" on a mock clock.
func newExchange(t *testing.T) *group {
	t.Helper()
	e := newMenv(t, monitor.Options{})
	g := &group{t: t, clk: e.clk, m: e.m, rec: e.rec, j: &journal{}, deps: map[string][]string{}, nodes: map[string]*node{}, ctx: e.ctx}
	typ, err := resource.NewType("exchange", nil, func(_ context.Context, name string, _ properties.Values) (resource.Resource, error) {
		n := &node{name: name, g: g}
		g.nodes[name] = n
		return n, nil
	})
	require.NoError(t, err)
	require.NoError(t, e.m.RegisterType(typ))
	for _, r := range exchange {
		g.deps[r.name] = r.deps
		require.NoError(t, e.m.Add(e.ctx, monitor.Spec{Name: r.name, Type: "exchange", Group: "EVS1", DependsOn: r.deps,
			Policy: monitor.Policy{Policy: wrapper.Policy{IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never}}}))
	}
	t.Cleanup(func() {
		g.j.mu.Lock()
		defer g.j.mu.Unlock()
		assert.Empty(t, g.j.violations, "R70 violated")
	})
	return g
}

// before asserts that in calls every "a" comes before every "b".
func before(t *testing.T, calls []string, a, b string) {
	t.Helper()
	ia, ib := slices.Index(calls, a), slices.Index(calls, b)
	require.GreaterOrEqual(t, ia, 0, "%q missing from %v", a, calls)
	require.GreaterOrEqual(t, ib, 0, "%q missing from %v", b, calls)
	assert.Less(t, ia, ib, "%q must come before %q: %v", a, b, calls)
}

func (g *group) allState(want resource.State) {
	g.t.Helper()
	sts, err := g.m.GroupStatus("EVS1")
	require.NoError(g.t, err)
	require.Len(g.t, sts, len(exchange))
	for _, st := range sts {
		assert.Equal(g.t, want, st.State, "%s: %s", st.Name, g.rec.Timeline())
	}
}

// R70, R73: the group comes online as one call, dependencies first; goes
// offline as one call, dependents first.
func TestExchangeGroupOnlineOffline(t *testing.T) {
	g := newExchange(t)
	require.NoError(t, g.m.OnlineGroup(g.ctx, "EVS1"))
	g.allState(resource.Online)
	calls := g.j.since(0)
	assert.Len(t, calls, 6)
	for _, dep := range []string{"Store", "MTA"} {
		before(t, calls, "Online SA", "Online "+dep)
	}
	for _, p := range []string{"SMTP", "IMAP", "HTTP"} {
		before(t, calls, "Online Store", "Online "+p)
	}

	n := g.j.len()
	require.NoError(t, g.m.OfflineGroup(g.ctx, "EVS1"))
	g.allState(resource.Offline)
	calls = g.j.since(n)
	for _, p := range []string{"SMTP", "IMAP", "HTTP"} {
		before(t, calls, "Offline "+p, "Offline Store")
	}
	before(t, calls, "Offline Store", "Offline SA")
	before(t, calls, "Offline MTA", "Offline SA")
}

// R70: Online of one resource brings its dependencies online first;
// Offline of one takes its dependents offline first.
func TestOnlineBringsDependencies(t *testing.T) {
	g := newExchange(t)
	st, err := g.m.Online("SMTP")
	require.NoError(t, err)
	assert.Equal(t, resource.Offline, st, "it waits for its dependencies")
	require.NoError(t, g.m.Wait(g.ctx, "SMTP"))
	for _, name := range []string{"SA", "Store", "SMTP"} {
		s, err := g.m.Status(name)
		require.NoError(t, err)
		assert.Equal(t, resource.Online, s.State, name)
	}
	for _, name := range []string{"MTA", "IMAP", "HTTP"} {
		s, _ := g.m.Status(name)
		assert.Equal(t, resource.Offline, s.State, "%s is not needed", name)
	}
	assert.Equal(t, []string{"Online SA", "Online Store", "Online SMTP"}, g.j.since(0))

	n := g.j.len()
	_, err = g.m.Offline("SA")
	require.NoError(t, err)
	require.NoError(t, g.m.Wait(g.ctx, "SA"))
	g.allState(resource.Offline)
	assert.Equal(t, []string{"Offline SMTP", "Offline Store", "Offline SA"}, g.j.since(n))
}

// R72: when the System Attendant fails, its dependents are taken offline
// (dependents first), not counted as their own failures, and come back in
// order when it is restarted.
func TestDependencyFailure(t *testing.T) {
	g := newExchange(t)
	require.NoError(t, g.m.OnlineGroup(g.ctx, "EVS1"))
	n := g.j.len()
	g.nodes["SA"].sick.Store(true)
	g.clk.Add(10 * time.Second) // SA's check fails
	ev, err := g.rec.Wait(g.ctx, rt.Match{Resource: "SA", To: resource.Failed}, 1)
	require.NoError(t, err)
	assert.Contains(t, ev.Err.Error(), "SA is sick")
	for _, name := range []string{"Store", "MTA", "SMTP", "IMAP", "HTTP"} {
		_, err := g.rec.Wait(g.ctx, rt.Match{Resource: name, To: resource.Offline}, 1)
		require.NoError(t, err, name)
	}
	calls := g.j.since(n)
	before(t, calls, "Offline SMTP", "Offline Store")

	g.nodes["SA"].sick.Store(false)
	g.clk.Add(500 * time.Millisecond) // SA's restart
	for _, name := range []string{"SA", "Store", "MTA", "SMTP", "IMAP", "HTTP"} {
		_, err := g.rec.Wait(g.ctx, rt.Match{Resource: name, To: resource.Online}, 2)
		require.NoError(t, err, name)
	}
	g.allState(resource.Online)
	calls = g.j.since(n)
	before(t, calls, "Online SA", "Online Store")
	before(t, calls, "Online Store", "Online SMTP")
	for _, name := range []string{"Store", "MTA", "SMTP"} {
		st, _ := g.m.Status(name)
		assert.Equal(t, 0, st.Failures, "%s: not counted as its own failure", name)
		assert.Equal(t, 0, st.Restarts, name)
	}
	sa, _ := g.m.Status("SA")
	assert.Equal(t, 1, sa.Failures)
	assert.Equal(t, 1, sa.Restarts)
}

// R71, R31: when the System Attendant's policy is spent, the failover
// request names the group; accepted, the group goes offline dependents
// first and a GroupReadyToMove event follows.
func TestGroupFailover(t *testing.T) {
	g := newExchange(t)
	require.NoError(t, g.m.OnlineGroup(g.ctx, "EVS1"))
	g.nodes["SA"].sick.Store(true)
	for i := 1; i <= 3; i++ {
		g.clk.Add(10 * time.Second)
		_, err := g.rec.Wait(g.ctx, rt.Match{Resource: "SA", To: resource.Failed}, i)
		require.NoError(t, err)
		if i < 3 {
			g.clk.Add(500 * time.Millisecond)
			_, err := g.rec.Wait(g.ctx, rt.Match{Resource: "SA", To: resource.Online}, i+1)
			require.NoError(t, err)
		}
	}
	ev, err := g.rec.Wait(g.ctx, rt.Match{Resource: "SA", Kind: resource.FailoverRequested}, 1)
	require.NoError(t, err)
	assert.Equal(t, "EVS1", ev.Group)
	st, _ := g.m.Status("SA")
	assert.Equal(t, monitor.FailoverRequested, st.Failover)

	n := g.j.len()
	require.NoError(t, g.m.AcceptFailover("EVS1"))
	ev, err = g.rec.Wait(g.ctx, rt.Match{Kind: resource.GroupReadyToMove}, 1)
	require.NoError(t, err)
	assert.Equal(t, "EVS1", ev.Group)
	g.allState(resource.Offline)
	for _, c := range g.j.since(n) {
		assert.True(t, strings.HasPrefix(c, "Offline "), c)
	}
}

// R70: dependencies are checked when declared.
func TestDependencyRules(t *testing.T) {
	g := newExchange(t)
	err := g.m.AddDependency("SA", "SMTP")
	require.ErrorIs(t, err, monitor.ErrDependency)
	assert.ErrorContains(t, err, "SA → SMTP → Store → SA", "the cycle is named")
	err = g.m.AddDependency("SA", "SA")
	assert.ErrorIs(t, err, monitor.ErrDependency)
	require.NoError(t, g.m.Add(g.ctx, monitor.Spec{Name: "other", Type: "exchange"}))
	err = g.m.AddDependency("other", "SA")
	assert.ErrorIs(t, err, monitor.ErrDependency)
	assert.ErrorContains(t, err, "within a group")
	err = g.m.Add(g.ctx, monitor.Spec{Name: "x", Type: "exchange", Group: "EVS1", DependsOn: []string{"nope"}})
	assert.ErrorIs(t, err, monitor.ErrDependency)
	assert.NotContains(t, g.m.Resources(), "x")
	err = g.m.Remove(g.ctx, "Store")
	require.ErrorIs(t, err, monitor.ErrDependency)
	assert.ErrorContains(t, err, "HTTP, IMAP, SMTP depend on it")
	deps, err := g.m.Dependencies("Store")
	require.NoError(t, err)
	assert.Equal(t, []string{"SA"}, deps)
	require.NoError(t, g.m.RemoveDependency("MTA", "SA"))
	deps, _ = g.m.Dependencies("MTA")
	assert.Empty(t, deps)
	assert.Equal(t, []string{"EVS1", "other"}, g.m.Groups())
}

// R74: a group in maintenance records failures and stays Online; nothing
// restarts, terminates or fails over; ending it runs a fresh check that
// latches normally.
func TestGroupMaintenance(t *testing.T) {
	g := newExchange(t)
	require.NoError(t, g.m.OnlineGroup(g.ctx, "EVS1"))
	require.NoError(t, g.m.SetGroupMaintenance(g.ctx, "EVS1", true))
	g.nodes["Store"].sick.Store(true)
	g.clk.Add(10 * time.Second)
	require.Eventually(t, func() bool {
		st, _ := g.m.Status("Store")
		return st.MaintErr != nil
	}, guard, time.Millisecond)
	g.clk.Add(time.Hour)
	g.allState(resource.Online)
	st, _ := g.m.Status("Store")
	assert.True(t, st.Maintenance)
	assert.Error(t, st.IsAlive.Err, "the failure shows in Status")
	assert.Equal(t, 0, st.Failures)
	assert.Empty(t, eventsOfKind(g.rec, resource.Terminated))

	err := g.m.SetGroupMaintenance(g.ctx, "EVS1", false)
	require.Error(t, err)
	assert.ErrorContains(t, err, "Store is sick")
	_, err = g.rec.Wait(g.ctx, rt.Match{Resource: "Store", To: resource.Failed}, 1)
	require.NoError(t, err)
}

func eventsOfKind(r *rt.Recorder, k resource.EventKind) []resource.Event {
	var out []resource.Event
	for _, e := range r.Events() {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}
