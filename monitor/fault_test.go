package monitor_test

// Fault injection (issue 9, part 3): rapid draws a monitor hosting two or
// three fakes (each under a restart policy of its own, two of them perhaps
// in one group), and a schedule of steps — the operator's Online, Offline,
// Terminate, Probe and Control, the cluster layer's answers to failover
// requests, behaviours scripted into the resources (failures, panics, failure
// reports, progress, exemption, hangs that ignore their context and are
// released late), failing health checks and clock advances — and runs it in
// a testing/synctest bubble, where time is fake and synctest.Wait makes
// "everything settled" exact. After every step, and at every instant a
// clock advance passes where something is due (a deadline, a restart, a
// failover request, a deadlock report), the invariants below are checked
// against the events of a subscription, Status and a model of the restart
// policy (R31–R34). At the end every hang is released, the monitor shut
// down, and no goroutine of the engine may be left.
//
// A failing schedule is shrunk by rapid to a minimal one, which the failure
// prints (with the events and the calls it led to) together with
// -rapid.seed to replay it. A normal run (and CI) tries 800 schedules, a
// -short one a fifth of them; RESDLL_LONG=1 runs 10 000 (about a minute);
// -rapid.checks=N any other number.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"pgregory.net/rapid"

	"github.com/resdll/resdll/internal/faulttest"
	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

// faultSchedules is how many schedules the suite runs in normal mode.
const faultSchedules = 800

// faultDo is a behaviour a schedule scripts into a fake.
type faultDo uint8

const (
	doSucceed    faultDo = iota
	doFail               // Fail(ErrInjected)
	doNotRunning         // Fail(ErrNotRunning): "cleanly stopped" for a Probe (R7)
	doHangCancel         // HangUntilCancelled
	doHang               // Hang(gate, nil): ignores its context until released
	doPanic              // Panic (R6)
	doTake               // Take(D, nil)
	doReport             // Report(ErrInjected) (R23)
	doProgress           // ProgressEvery(D, N) (R13)
	doNoTimeout          // WithoutTimeout(gate) (R12)
	numFaultDo
)

var faultDoNames = [numFaultDo]string{"Succeed", "Fail", "NotRunning", "HangUntilCancelled", "Hang", "Panic", "Take", "Report", "ProgressEvery", "WithoutTimeout"}

// faultDoWeights is how often each behaviour is drawn.
var faultDoWeights = [numFaultDo]int{doSucceed: 2, doFail: 3, doNotRunning: 1, doHangCancel: 2, doHang: 3,
	doPanic: 1, doTake: 2, doReport: 1, doProgress: 1, doNoTimeout: 1}

var (
	faultTakes    = []time.Duration{time.Second, 4 * time.Second, 15 * time.Second}
	faultAdvances = []time.Duration{time.Nanosecond, 100 * time.Millisecond, 500 * time.Millisecond, time.Second,
		3 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 20 * time.Minute}
	faultCtx = []time.Duration{time.Hour, time.Second, 10 * time.Second}
)

// faultScriptOps are the entry points a script step scripts, and how often.
var (
	faultScriptOps     = []resource.Op{resource.OpOnline, resource.OpOffline, resource.OpIsAlive, resource.OpTerminate, resource.OpClose, resource.OpControl, resource.OpLooksAlive}
	faultScriptWeights = []int{4, 2, 4, 2, 1, 1, 1}
)

// mKind is what one step of a monitor schedule does.
type mKind uint8

const (
	mSkip      mKind = iota // nothing: what rapid shrinks a step that does not matter to
	mAdvance                // sleep D on the fake clock, stopping where something is due
	mScript                 // script Do as the next call of Op of resource R
	mSick                   // IsAlive of R fails from now on (N = 1) or passes (N = 0)
	mOnline                 // Online(R)
	mOffline                // Offline(R)
	mTerminate              // Terminate(ctx D, R) in a caller goroutine
	mProbe                  // Probe(ctx D, R) in a caller goroutine
	mControl                // Control(ctx D, R) in a caller goroutine
	mReport                 // R reports a failure (R23)
	mAccept                 // AcceptFailover(group of R)
	mDecline                // DeclineFailover(group of R)
	mRelease                // open the N-th gate still closed
	numMKind
)

var mKindNames = [numMKind]string{"skip", "advance", "script", "sick", "Online", "Offline", "Terminate", "Probe", "Control", "report", "AcceptFailover", "DeclineFailover", "release"}

var mWeights = [numMKind]int{mSkip: 1, mAdvance: 9, mScript: 7, mSick: 3, mOnline: 6, mOffline: 2, mTerminate: 2,
	mProbe: 1, mControl: 1, mReport: 2, mAccept: 2, mDecline: 2, mRelease: 3}

var faultNames = []string{"a", "b", "c"}

// mStep is one step of a monitor schedule.
type mStep struct {
	Kind mKind
	R    int // the resource, an index into faultNames
	Op   resource.Op
	Do   faultDo
	D    time.Duration
	N    int
}

func (s mStep) String() string {
	name := faultNames[s.R]
	switch s.Kind {
	case mAdvance:
		return fmt.Sprintf("advance %v", s.D)
	case mScript:
		text := faultDoNames[s.Do]
		switch s.Do {
		case doTake:
			text = fmt.Sprintf("Take(%v)", s.D)
		case doProgress:
			text = fmt.Sprintf("ProgressEvery(%v, %d)", s.D, s.N)
		}
		return fmt.Sprintf("script %s %v: %s", name, s.Op, text)
	case mSick:
		if s.N == 1 {
			return fmt.Sprintf("IsAlive of %s fails from now on", name)
		}
		return fmt.Sprintf("IsAlive of %s passes from now on", name)
	case mTerminate, mProbe, mControl:
		return fmt.Sprintf("%s %s (ctx %v)", mKindNames[s.Kind], name, s.D)
	case mRelease:
		return fmt.Sprintf("release closed gate %d", s.N)
	}
	return fmt.Sprintf("%s %s", mKindNames[s.Kind], name)
}

// mScenario is one drawn monitor test case.
type mScenario struct {
	Resources    int   // 2 or 3
	Grouped      bool  // a and b fail over together, as group "g"
	Policies     []int // per resource, an index into faultMPolicies
	NoTerminator bool
	Deadlock     time.Duration // Options.DeadlockTimeout
	MaxOps       int           // Options.MaxConcurrentOps
	Steps        []mStep
	// EarlyShutdown: Shutdown, with a context of a minute, comes before the
	// hangs are released (R38: it returns with its context; what it left
	// running ends, and is closed, when released).
	EarlyShutdown bool
}

// GoString prints the scenario the way rapid's log shows draws: one step a
// line, the minimal reproduction once shrunk.
func (sc mScenario) GoString() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d resources, grouped %v, no Terminator %v, DeadlockTimeout %v, MaxConcurrentOps %d, early Shutdown %v",
		sc.Resources, sc.Grouped, sc.NoTerminator, sc.Deadlock, sc.MaxOps, sc.EarlyShutdown)
	for i := range sc.Resources {
		fmt.Fprintf(&b, "\n  %s: policy %d (%s)", faultNames[i], sc.Policies[i], mPolicyText(faultMPolicies[sc.Policies[i]]))
	}
	for i, s := range sc.Steps {
		if s.Kind != mSkip {
			fmt.Fprintf(&b, "\n  %2d. %v", i, s)
		}
	}
	return b.String()
}

func mPolicyText(p monitor.Policy) string {
	d := func(d time.Duration) string {
		switch d {
		case 0:
			return "default"
		case resource.Never:
			return "never"
		case resource.NoDelay:
			return "none"
		}
		return d.String()
	}
	return fmt.Sprintf("%v, threshold %d, period %s, delay %s, retry %s; pending %s, terminate %s, IsAlive every %s",
		p.RestartAction, p.RestartThreshold, d(p.RestartPeriod), d(p.RestartDelay), d(p.RetryPeriodOnFailure),
		d(p.PendingTimeout), d(p.TerminateTimeout), d(p.IsAliveInterval))
}

// faultMChecks are the wrapper settings of the monitor policies: short
// time-outs, every TerminateTimeout finite.
var faultMChecks = wrapper.Policy{PendingTimeout: 20 * time.Second, TerminateTimeout: 5 * time.Second, CheckTimeout: 5 * time.Second,
	IsAliveInterval: 10 * time.Second, LooksAliveInterval: resource.Never}

// faultMPolicies are the restart policies schedules run under (R31–R34).
var faultMPolicies = []monitor.Policy{
	{Policy: faultMChecks, RestartThreshold: 2, RestartPeriod: time.Minute, RetryPeriodOnFailure: 10 * time.Minute},
	{Policy: wrapper.Policy{PendingTimeout: 20 * time.Second, MaxPendingTime: time.Minute, TerminateTimeout: 5 * time.Second,
		CheckTimeout: 8 * time.Second, IsAliveInterval: 10 * time.Second, LooksAliveInterval: 4 * time.Second, FailureThreshold: 2},
		RestartAction: monitor.RestartNoFailover, RestartThreshold: 1, RestartPeriod: 5 * time.Minute, RestartDelay: 3 * time.Second,
		RetryPeriodOnFailure: 10 * time.Minute},
	{Policy: faultMChecks, RestartAction: monitor.NoRestart},
	{Policy: faultMChecks, RestartThreshold: 3, RestartPeriod: 30 * time.Second, RestartDelay: resource.NoDelay,
		RetryPeriodOnFailure: resource.Never},
	{Policy: wrapper.Policy{TerminateTimeout: 5 * time.Second, IsAliveInterval: 10 * time.Second}}, // otherwise the defaults
}

func mStepGen(resources int) *rapid.Generator[mStep] {
	return rapid.Custom(func(t *rapid.T) mStep {
		s := mStep{Kind: mKind(faulttest.DrawWeighted(t, mWeights[:], "kind"))}
		switch s.Kind {
		case mSkip, mAdvance, mRelease:
		default:
			s.R = rapid.IntRange(0, resources-1).Draw(t, "resource")
		}
		switch s.Kind {
		case mAdvance:
			s.D = rapid.SampledFrom(faultAdvances).Draw(t, "advance")
		case mScript:
			s.Op = faultScriptOps[faulttest.DrawWeighted(t, faultScriptWeights, "op")]
			s.Do = faultDo(faulttest.DrawWeighted(t, faultDoWeights[:], "do"))
			if s.Op == resource.OpClose && s.Do == doHangCancel {
				s.Do = doHang // the resource's Close has no context to cancel it
			}
			switch s.Do {
			case doTake:
				s.D = rapid.SampledFrom(faultTakes).Draw(t, "take")
			case doProgress:
				s.D = rapid.SampledFrom(faultTakes).Draw(t, "every")
				s.N = rapid.IntRange(1, 5).Draw(t, "reports")
			}
		case mSick:
			s.N = rapid.IntRange(0, 1).Draw(t, "sick")
		case mTerminate, mProbe, mControl:
			s.D = rapid.SampledFrom(faultCtx).Draw(t, "ctx")
		case mRelease:
			s.N = rapid.IntRange(0, 3).Draw(t, "gate")
		}
		return s
	})
}

func mScenarioGen() *rapid.Generator[mScenario] {
	return rapid.Custom(func(t *rapid.T) mScenario {
		n := rapid.IntRange(2, 3).Draw(t, "resources")
		sc := mScenario{
			Resources:    n,
			Grouped:      rapid.Bool().Draw(t, "grouped"),
			Policies:     rapid.SliceOfN(rapid.IntRange(0, len(faultMPolicies)-1), n, n).Draw(t, "policies"),
			NoTerminator: rapid.Bool().Draw(t, "noTerminator"),
			Deadlock:     rapid.SampledFrom([]time.Duration{2 * time.Minute, resource.Never, 30 * time.Second}).Draw(t, "deadlock"),
			MaxOps:       rapid.SampledFrom([]int{0, 1}).Draw(t, "maxOps"),
		}
		sc.Steps = rapid.SliceOfN(mStepGen(n), 15, 45).Draw(t, "steps") // 30 on average
		sc.EarlyShutdown = rapid.IntRange(0, 3).Draw(t, "early") == 3
		return sc
	})
}

// TestFaultMonitor runs random schedules against a monitor and checks,
// after every step and wherever something falls due: only legal
// transitions, chained, in sequence per resource, each with its operation
// and a failure's error (R2, R4); R3's joins and refusals, and R35's
// quarantine refusals; no two entry points of a resource at once (R5, R14);
// no pending operation past its deadline and every one not exempt or queued
// with one (R11–R13, R39); abandoned calls counted as running until they
// return, a new operation that waited for one failing with ErrWorkerStuck
// only then (R14), and each call abandoned for DeadlockTimeout reported and
// quarantining its resource (R35); restarts only as a model of the policy
// allows — after a failure, after RestartDelay, while the failures within
// the sliding RestartPeriod are within RestartThreshold, never while a
// failover request is pending or accepted — and each one it asks for made
// (R31–R34); a failover request only once the threshold is spent under
// RestartAndFailover, made once the failure's clean-up ended; Status's
// restarts, failures, next restart and failover state as the model has
// them (R36). At the end no goroutine of the engine is left.
//
// With tolerate it would steer clear of the bugs the regression tests below pin (all fixed; tolerate is off):
// it does not count the restarts themselves against RestartThreshold, and
// does not decline a request whose resource is no longer Failed.
func TestFaultMonitor(t *testing.T) {
	faulttest.SetSchedules(t, faultSchedules)
	rapid.Check(t, func(t *rapid.T) {
		sc := mScenarioGen().Draw(t, "scenario")
		rapid.SyncTest(t, func(t *rapid.T) { runMScenario(t, sc, false) })
	})
}

// BUG (found checking TestFaultMonitor's count of restarts, by a schedule
// made for it; random schedules rarely time three failures so closely):
// RestartThreshold is counted over the
// failures in RestartPeriod when each one happens, but a restart begins
// only once the failure's clean-up Terminate returned, up to
// TerminateTimeout later. When the first failure's Terminator hangs until
// cancelled (5 s), three restarts — at +15 s, +60.5 s, +72.5 s — fall within
// one minute under RestartThreshold 2 and RestartPeriod 1 min, and Status
// shows Restarts 3: "restart twice within RestartPeriod" (R31; Windows'
// RestartThreshold counts restart attempts in the period) does not hold.
// The failures (+10 s, +60 s, +72 s) are each within the threshold.
func TestFaultMonitorSlowCleanupExceedsRestartThreshold(t *testing.T) {
	sc := mScenario{Resources: 2, Policies: []int{0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mScript, R: 1, Op: resource.OpTerminate, Do: doHangCancel}, // the first clean-up takes TerminateTimeout, 5 s
		{Kind: mOnline, R: 1},
		{Kind: mAdvance, D: 10 * time.Second},
		{Kind: mReport, R: 1}, // failure 1 at +10 s; restart at +15 s
		{Kind: mAdvance, D: 50 * time.Second},
		{Kind: mReport, R: 1}, // failure 2 at +60 s; restart at +60.5 s
		{Kind: mAdvance, D: 12 * time.Second},
		{Kind: mReport, R: 1}, // failure 3 at +72 s; failure 1 has left the window: a third restart at +72.5 s
		{Kind: mAdvance, D: time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc, false) })
}

// BUG (found writing the model of TestFaultMonitor, shown by the race
// detector): onFailure logs len(e.failures) after releasing Monitor.mu, so
// an operator's Online of the same resource at the same time — resetLocked
// writes e.failures under the lock — races with it (R37: the monitor is safe
// for concurrent use). Run with -race; each round catches the race when the
// Online takes the lock after the failure released it.
func TestFaultMonitorFailureLogRacesOnline(t *testing.T) {
	for range 20 {
		synctest.Test(t, func(t *testing.T) {
			m, err := monitor.New(monitor.Options{Clock: clock.New()})
			if err != nil {
				t.Fatal(err)
			}
			f := rt.NewFake(clock.New(), rt.Caps{})
			typ, err := resource.NewType("fake", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
				return f.Resource(), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.RegisterType(typ); err != nil {
				t.Fatal(err)
			}
			if err := m.Add(t.Context(), monitor.Spec{Name: "r", Type: "fake"}); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Online("r"); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			var wg sync.WaitGroup
			wg.Go(func() { f.ReportFailure(rt.ErrInjected) }) // Online → Failed: onFailure
			wg.Go(func() { _, _ = m.Online("r") })            // the operator's Online: resetLocked
			wg.Wait()
			synctest.Wait()
			if err := m.Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// BUG (found by TestFaultMonitor): a resource whose failover request is
// pending is taken Offline by the operator; the cluster layer then declines
// the request, and DeclineFailover arms a retry (R34) although the resource
// is no longer Failed. RetryPeriodOnFailure later the monitor brings the
// Offline resource online on its own (b #16 Online: Offline →
// OnlinePending, at +11m): the operator's Offline, which cancels pending
// restarts, is undone. R31 and R34 restart and retry only a resource left
// Failed.
func TestFaultMonitorDeclineRetriesOfflineResource(t *testing.T) {
	sc := mScenario{Resources: 2, Policies: []int{0, 0}, Deadlock: 2 * time.Minute, Steps: []mStep{
		{Kind: mSick, R: 1, N: 1},             // IsAlive of b fails from now on
		{Kind: mOnline, R: 1},                 // b: Online, fails at +10 s, +20.5 s, +31 s: two restarts, then a failover request
		{Kind: mAdvance, D: time.Minute},      // the failover request comes at +31 s
		{Kind: mOffline, R: 1},                // the operator takes b Offline
		{Kind: mDecline, R: 1},                // the cluster layer declines: a retry is armed for +11m
		{Kind: mAdvance, D: 20 * time.Minute}, // the retry brings the Offline b online
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc, false) })
}

// runMScenario runs sc in the current bubble and fails t with the first
// rule broken, logging the schedule and what it led to. With tolerate it
// steers clear of the known bugs.
func runMScenario(t interface {
	Logf(string, ...any)
	Fatalf(string, ...any)
}, sc mScenario, tolerate bool) {
	h := newMHarness(sc)
	h.tolerate = tolerate
	func() {
		defer h.finish()
		for i, s := range sc.Steps {
			if h.Failed() {
				return
			}
			h.Step = i
			h.do(s)
		}
	}()
	// The message is the rule's text only, the same whatever the schedule,
	// so that rapid recognises the failure while it shrinks the schedule;
	// the details go to the log, which rapid prints for the minimal one.
	if rule, details := h.report(); rule != "" {
		t.Logf("%s", details)
		t.Fatalf("broken: %q", rule)
	}
}

// pendKind is what the model expects the monitor to start for a resource.
type pendKind uint8

const (
	pendNone    pendKind = iota
	pendRestart          // a restart after RestartDelay (R31)
	pendRetry            // a retry with a fresh window after RetryPeriodOnFailure (R34)
)

// mRes is one hosted resource: its fake, what the checks remember, and the
// model of its restart policy.
type mRes struct {
	name, group string
	pol         monitor.Policy // resolved
	f           *rt.Fake

	state      resource.State
	lastEvent  time.Time
	lastKind   resource.EventKind
	pendStart  time.Time
	exemptSeen bool
	deadlocks  []time.Time // when Deadlock events came

	// The model of R31–R34.
	failures, restarts []time.Time // within RestartPeriod
	plain              []time.Time // restarts but the retries (R34), within RestartPeriod
	failTime           time.Time   // the last failure
	pending            pendKind
	due                time.Time // when pending is due
	retried            bool      // a due retry has reset the window
	expectFailover     bool      // the last failure spent the policy: a request follows its clean-up
	failover           monitor.FailoverState
}

// window returns the times less than period before now (R33).
func window(ts []time.Time, now time.Time, period time.Duration) []time.Time {
	var kept []time.Time
	for _, t := range ts {
		if now.Sub(t) < period {
			kept = append(kept, t)
		}
	}
	return kept
}

// cancel is what cancelling the resource's timers does to the model.
func (r *mRes) cancel() {
	r.pending, r.expectFailover = pendNone, false
}

// mHarness runs one monitor schedule in a bubble.
type mHarness struct {
	faulttest.Log
	sc    mScenario
	m     *monitor.Monitor
	rec   *rt.Recorder
	sub   *monitor.Subscription
	stop  chan struct{} // ends the pump
	pump  sync.WaitGroup
	res   []*mRes
	fakes map[string]*rt.Fake

	gates   []*rt.Gate
	open    []bool
	callers sync.WaitGroup

	seen     int  // events checked
	myOnline int  // the resource whose Online this step's first change into OnlinePending is, or -1
	shutdown bool // Shutdown was called
	tolerate bool // steer clear of the known bugs the skipped regression tests pin
	accepted map[string]bool
}

func newMHarness(sc mScenario) *mHarness {
	h := &mHarness{sc: sc, Log: faulttest.Log{Start: time.Now()}, rec: rt.NewRecorder(), stop: make(chan struct{}), fakes: map[string]*rt.Fake{},
		myOnline: -1, accepted: map[string]bool{}}
	m, err := monitor.New(monitor.Options{Clock: clock.New(), DeadlockTimeout: sc.Deadlock, MaxConcurrentOps: sc.MaxOps})
	if err != nil {
		panic(err)
	}
	h.m = m
	typ, err := resource.NewType("fake", nil, func(_ context.Context, name string, _ properties.Values) (resource.Resource, error) {
		f := rt.NewFake(clock.New(), rt.Caps{NoTerminator: sc.NoTerminator})
		h.fakes[name] = f
		return f.Resource(), nil
	})
	if err != nil {
		panic(err)
	}
	if err := m.RegisterType(typ); err != nil {
		panic(err)
	}
	h.sub = m.Subscribe(4096)
	h.pump.Go(func() {
		for {
			select {
			case ev, ok := <-h.sub.C():
				if !ok {
					return // Subscription.Close closes it
				}
				h.rec.Sink(ev)
			case <-h.stop:
				return
			}
		}
	})
	for i := range sc.Resources {
		name, group := faultNames[i], faultNames[i]
		if sc.Grouped && i < 2 {
			group = "g"
		}
		if err := m.Add(context.Background(), monitor.Spec{Name: name, Type: "fake", Group: group, Policy: faultMPolicies[sc.Policies[i]]}); err != nil {
			panic(err)
		}
		pol, err := m.Policy(name)
		if err != nil {
			panic(err)
		}
		h.res = append(h.res, &mRes{name: name, group: group, pol: pol, f: h.fakes[name], state: resource.Offline})
	}
	return h
}

func (h *mHarness) behaviour(s mStep) (rt.Behaviour, string) {
	gate := func() (*rt.Gate, string) {
		g := rt.NewGate()
		h.gates = append(h.gates, g)
		h.open = append(h.open, false)
		return g, fmt.Sprintf(" gate#%d", len(h.gates)-1)
	}
	switch s.Do {
	case doFail:
		return rt.Fail(rt.ErrInjected), ""
	case doNotRunning:
		return rt.Fail(faulttest.ErrNotRunning), ""
	case doHangCancel:
		return rt.HangUntilCancelled(), ""
	case doHang:
		g, name := gate()
		return rt.Hang(g, nil), name
	case doPanic:
		return rt.Panic("injected panic"), ""
	case doTake:
		return rt.Take(s.D, nil), ""
	case doReport:
		return rt.Report(rt.ErrInjected), ""
	case doProgress:
		return rt.ProgressEvery(s.D, s.N), ""
	case doNoTimeout:
		g, name := gate()
		return rt.WithoutTimeout(g), name
	}
	return rt.Succeed(), ""
}

func (h *mHarness) caller(d time.Duration, call func(context.Context) error, check func(error)) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	h.callers.Go(func() {
		defer cancel()
		err := call(ctx)
		if check != nil {
			check(err)
		}
	})
}

func (h *mHarness) status(r *mRes) monitor.Status {
	st, err := h.m.Status(r.name)
	if err != nil {
		h.Violate("Status(%s): %v", r.name, err)
	}
	return st
}

// do runs one step, lets everything settle and checks.
func (h *mHarness) do(s mStep) {
	if s.Kind == mSkip {
		return
	}
	if s.Kind == mAdvance {
		h.Logf("%v", s)
		h.advance(s.D)
		return
	}
	r := h.res[s.R]
	before := h.status(r)
	h.myOnline = -1
	switch s.Kind {
	case mScript:
		b, gate := h.behaviour(s)
		r.f.Script(s.Op, b)
		h.Logf("%v%s", s, gate)
	case mSick:
		b := rt.Succeed()
		if s.N == 1 {
			b = rt.Fail(rt.ErrInjected)
		}
		r.f.SetDefault(resource.OpIsAlive, b)
		h.Logf("%v", s)
	case mOnline:
		st, err := h.m.Online(r.name)
		h.Logf("%v → %v, %v", s, st, err)
		if err == nil && (before.State == resource.Offline || before.State == resource.Failed) {
			h.myOnline = s.R // the first change into OnlinePending is this one
		}
		if !errors.Is(err, resource.ErrQuarantined) {
			r.failures, r.restarts, r.plain, r.failover, r.retried = nil, nil, nil, monitor.FailoverNone, false // R31: the operator's Online resets
			r.cancel()
		}
		h.checkRequest(resource.OpOnline, before, st, err)
	case mOffline:
		st, err := h.m.Offline(r.name)
		h.Logf("%v → %v, %v", s, st, err)
		if !errors.Is(err, resource.ErrQuarantined) {
			r.cancel()
		}
		h.checkRequest(resource.OpOffline, before, st, err)
	case mTerminate:
		h.Logf("%v in %v", s, before.State)
		r.cancel()
		h.caller(s.D, func(ctx context.Context) error { return h.m.Terminate(ctx, r.name) }, func(err error) {
			if errors.Is(err, resource.ErrInvalidTransition) || errors.Is(err, resource.ErrClosed) || errors.Is(err, resource.ErrQuarantined) {
				h.Violate("R17, R35: Terminate of %s in %v refused: %v", r.name, before.State, err)
			}
		})
	case mProbe:
		h.Logf("%v in %v", s, before.State)
		h.caller(s.D, func(ctx context.Context) error { _, err := h.m.Probe(ctx, r.name); return err }, func(err error) {
			if before.State != resource.Offline && !errors.Is(err, resource.ErrInvalidTransition) {
				h.Violate("R7: Probe of %s in %v returned %v, want ErrInvalidTransition", r.name, before.State, err)
			}
		})
	case mControl:
		h.Logf("%v in %v", s, before.State)
		h.caller(s.D, func(ctx context.Context) error {
			_, err := h.m.Control(ctx, r.name, resource.FirstResourceControlCode, []byte("x"))
			return err
		}, nil)
	case mReport:
		r.f.ReportFailure(rt.ErrInjected)
		h.Logf("%v in %v", s, before.State)
	case mAccept, mDecline:
		h.answer(s, r)
	case mRelease:
		h.Logf("%v%s", s, h.release(s.N))
	}
	synctest.Wait()
	h.check()
	h.myOnline = -1
}

// answer gives the cluster layer's answer to the failover request of r's
// group, and checks that one was pending exactly when the model has one
// (R31, R34).
func (h *mHarness) answer(s mStep, r *mRes) {
	var requested []*mRes
	var members []*mRes
	for _, x := range h.res {
		if x.group == r.group {
			members = append(members, x)
			if x.failover == monitor.FailoverRequested {
				requested = append(requested, x)
			}
		}
	}
	if h.tolerate && s.Kind == mDecline && slices.ContainsFunc(requested, func(x *mRes) bool { return x.state != resource.Failed }) {
		// A known bug: see TestFaultMonitorDeclineRetriesOfflineResource.
		h.Logf("%s %q: skipped, a requester is no longer Failed (known bug)", mKindNames[s.Kind], r.group)
		return
	}
	var err error
	if s.Kind == mAccept {
		err = h.m.AcceptFailover(r.group)
	} else {
		err = h.m.DeclineFailover(r.group)
	}
	h.Logf("%s %q → %v", mKindNames[s.Kind], r.group, err)
	switch {
	case len(requested) == 0 && !errors.Is(err, monitor.ErrNoFailoverRequest):
		h.Violate("R31: %s of group %q with no request pending returned %v, want ErrNoFailoverRequest", mKindNames[s.Kind], r.group, err)
	case len(requested) > 0 && err != nil:
		h.Violate("R31: %s of group %q with a request pending: %v", mKindNames[s.Kind], r.group, err)
	}
	if err != nil {
		return
	}
	now := time.Now()
	for _, x := range requested {
		x.cancel()
		if s.Kind == mAccept {
			x.failover = monitor.FailoverAccepted
		} else {
			x.failover = monitor.FailoverDeclined
			// R34: retried, unless the operator moved it out of Failed.
			if x.pol.RetryPeriodOnFailure != resource.Never && x.state == resource.Failed {
				x.pending, x.due, x.retried = pendRetry, now.Add(x.pol.RetryPeriodOnFailure), false
			}
		}
	}
	if s.Kind == mAccept {
		h.accepted[r.group] = true
		for _, x := range members {
			x.cancel() // R71: the group goes offline
		}
	}
}

func (h *mHarness) release(n int) string {
	var closed []int
	for i, o := range h.open {
		if !o {
			closed = append(closed, i)
		}
	}
	if len(closed) == 0 {
		return ": none closed"
	}
	i := closed[n%len(closed)]
	h.open[i] = true
	h.gates[i].Open()
	return fmt.Sprintf(": gate#%d", i)
}

// advance sleeps d on the fake clock, stopping wherever something falls due:
// a deadline, a restart or retry (and the end of its clean-up), a failover
// request, a deadlock report.
func (h *mHarness) advance(d time.Duration) {
	end := time.Now().Add(d)
	for !h.Failed() {
		now := time.Now()
		if !now.Before(end) {
			return
		}
		next := end
		stop := func(t time.Time) {
			if t.After(now) && t.Before(next) {
				next = t
			}
		}
		for _, r := range h.res {
			st := h.status(r)
			stop(st.Deadline)
			stop(st.NextRestart)
			if h.sc.Deadlock != resource.Never && !st.OldestAbandoned.IsZero() {
				stop(st.OldestAbandoned.Add(h.sc.Deadlock))
			}
			if r.pending != pendNone {
				stop(r.due)
				stop(r.failTime.Add(r.pol.TerminateTimeout))
			}
			if r.expectFailover {
				stop(r.failTime.Add(r.pol.TerminateTimeout))
			}
		}
		time.Sleep(next.Sub(now))
		synctest.Wait()
		h.check()
	}
}

// checkRequest checks what Online or Offline answered against R3, R17 and
// R35, from the status just before the call.
func (h *mHarness) checkRequest(op resource.Op, before monitor.Status, got resource.State, err error) {
	s := before.State
	var want resource.State
	var wantErr error
	switch {
	case before.Quarantined:
		wantErr = resource.ErrQuarantined // R35
	case op == resource.OpOnline && (s == resource.OfflinePending || before.Terminating):
		wantErr = resource.ErrInvalidTransition
	case op == resource.OpOnline && (s == resource.Offline || s == resource.Failed):
		want = resource.OnlinePending
	case op == resource.OpOffline && s == resource.OnlinePending,
		op == resource.OpOffline && s == resource.Failed && before.Terminating:
		wantErr = resource.ErrInvalidTransition
	case op == resource.OpOffline && (s == resource.Online || s == resource.Failed) && !before.Terminating:
		want = resource.OfflinePending
	default:
		want = s // R3: a join
	}
	switch {
	case wantErr != nil && !errors.Is(err, wantErr):
		h.Violate("R3, R35: %v of %s in %v (terminating %v, quarantined %v) returned %v, %v; want %v", op, before.Name, s, before.Terminating, before.Quarantined, got, err, wantErr)
	case wantErr == nil && (err != nil || got != want):
		h.Violate("R3: %v of %s in %v (terminating %v) returned %v, %v; want %v", op, before.Name, s, before.Terminating, got, err, want)
	}
}

func (h *mHarness) byName(name string) *mRes {
	for _, r := range h.res {
		if r.name == name {
			return r
		}
	}
	return nil
}

// checkEvent checks one new event (R2, R4, R31–R35) and feeds the model.
func (h *mHarness) checkEvent(e resource.Event) {
	r := h.byName(e.Resource)
	if r == nil {
		h.Violate("R4: an event of no resource: %v", e)
		return
	}
	if e.Time.Before(r.lastEvent) || e.Time.After(time.Now()) {
		h.Violate("R4: %v at +%v: out of order in time", e, e.Time.Sub(h.Start))
	}
	r.lastEvent = e.Time
	switch e.Kind {
	case resource.StateChanged:
		if e.From != r.state {
			h.Violate("R4: %v does not start where the last change ended (%v)", e, r.state)
		}
		if !faulttest.LegalMove(e.From, e.To) {
			h.Violate("R2: illegal transition %v", e)
		}
		wantOp := resource.OpNone
		switch {
		case e.To == resource.OnlinePending:
			wantOp = resource.OpOnline
		case e.To == resource.OfflinePending:
			wantOp = resource.OpOffline
		case e.To == resource.Unknown:
			wantOp = resource.OpClose
		case e.From == resource.Offline:
			wantOp = resource.OpProbe
		}
		if wantOp != resource.OpNone && e.Op != wantOp {
			h.Violate("R4: %v names operation %v, want %v", e, e.Op, wantOp)
		}
		if e.To == resource.Failed && e.Err == nil {
			h.Violate("R4: %v: a failure without its error", e)
		}
		if e.Forced && e.To != resource.Offline {
			h.Violate("R16, R17: %v forced, but not into Offline", e)
		}
		if escalated(e, !h.sc.NoTerminator) && r.lastKind != resource.Terminated {
			h.Violate("R16, R17: %v without the Terminator's event before it", e)
		}
		if errors.Is(e.Err, resource.ErrWorkerStuck) && !faulttest.StuckCall(r.f, r.pendStart, e.Time) {
			h.Violate("R14: %v, but no call that started before the operation (+%v) still ran", e, r.pendStart.Sub(h.Start))
		}
		if e.To.Pending() {
			r.pendStart, r.exemptSeen = e.Time, false
		}
		r.state = e.To
		if !h.shutdown {
			h.model(r, e)
		}
	case resource.Terminated:
		if e.From != r.state || e.To != r.state {
			h.Violate("R4: %v: not in the state %v", e, r.state)
		}
	case resource.FailoverRequested:
		switch {
		case e.Group != r.group:
			h.Violate("R31: %v names group %q, want %q", e, e.Group, r.group)
		case !r.expectFailover:
			h.Violate("R31: %v, but the restart policy (%s) is not spent: failures at %v", e, mPolicyText(faultMPolicies[h.sc.Policies[slices.Index(h.res, r)]]), h.times(r.failures))
		}
		r.expectFailover, r.failover = false, monitor.FailoverRequested
	case resource.GroupReadyToMove:
		if e.Group != r.group || !h.accepted[r.group] {
			h.Violate("R71: %v, but group %q was not accepted for failover", e, r.group)
		}
	case resource.Deadlock:
		if h.sc.Deadlock == resource.Never || !errors.Is(e.Err, resource.ErrQuarantined) {
			h.Violate("R35: %v with DeadlockTimeout %v", e, h.sc.Deadlock)
		}
		r.deadlocks = append(r.deadlocks, e.Time)
	default:
		h.Violate("R36: unexpected event %v", e)
	}
	r.lastKind = e.Kind
}

// escalated reports whether e is the end of a Terminate: a forced Offline,
// or an Offline that timed out (R16) with a Terminator to escalate to.
func escalated(e resource.Event, hasTerminator bool) bool {
	return e.Forced || hasTerminator && e.From == resource.OfflinePending && e.To == resource.Failed &&
		(errors.Is(e.Err, resource.ErrPendingTimeout) || errors.Is(e.Err, resource.ErrWorkerStuck))
}

func (h *mHarness) times(ts []time.Time) string {
	var out []string
	for _, t := range ts {
		out = append(out, "+"+t.Sub(h.Start).String())
	}
	return "[" + strings.Join(out, " ") + "]"
}

// model applies a state change to the model of the restart policy.
func (h *mHarness) model(r *mRes, e resource.Event) {
	p := r.pol
	switch {
	case e.To == resource.Failed && (e.From == resource.Online || e.From == resource.OnlinePending):
		// R31: a failure: decide as the policy says (R32, R33).
		r.cancel()
		r.failTime = e.Time
		r.failures = append(window(r.failures, e.Time, p.RestartPeriod), e.Time)
		switch {
		case p.RestartAction == monitor.NoRestart:
		case len(r.failures) <= p.RestartThreshold && len(window(r.restarts, e.Time, p.RestartPeriod)) < p.RestartThreshold:
			// Restarts that waited for a slow clean-up count in the
			// window they happened in.
			r.pending, r.due = pendRestart, e.Time.Add(p.RestartDelay)
		case p.RestartAction == monitor.RestartAndFailover:
			r.expectFailover = true
		case p.RetryPeriodOnFailure != resource.Never:
			r.pending, r.due, r.retried = pendRetry, e.Time.Add(p.RetryPeriodOnFailure), false
		}
	case e.To == resource.OnlinePending && h.myOnline == slices.Index(h.res, r):
		h.myOnline = -1 // the operator's
	case e.To == resource.OnlinePending:
		// Nobody asked: a restart or a retry of the monitor's.
		switch {
		case e.From != resource.Failed:
			h.Violate("R31: %v: the monitor brought up a resource that had not failed", e)
		case r.pending == pendNone:
			h.Violate("R31–R34: %v: a restart the policy (%s, failover %v) does not allow; failures at %v",
				e, mPolicyText(faultMPolicies[h.sc.Policies[slices.Index(h.res, r)]]), r.failover, h.times(r.failures))
		case e.Time.Before(r.due):
			h.Violate("R31, R34: %v before it was due at +%v", e, r.due.Sub(h.Start))
		}
		if r.pending == pendRetry {
			r.failures, r.restarts, r.plain, r.failover = nil, nil, nil, monitor.FailoverNone
		} else {
			r.plain = append(window(r.plain, e.Time, p.RestartPeriod), e.Time)
		}
		r.restarts = append(window(r.restarts, e.Time, p.RestartPeriod), e.Time)
		r.pending = pendNone
	}
}

// check checks the invariants once everything has settled.
func (h *mHarness) check() {
	now := time.Now()
	evs := h.rec.Events()
	for _, e := range evs[h.seen:] {
		h.checkEvent(e)
	}
	h.seen = len(evs)
	if err := h.rec.CheckSequence(); err != nil {
		h.Violate("R4: %v", err)
	}
	if h.shutdown {
		return
	}
	for _, r := range h.res {
		h.checkRes(r, now)
	}
}

func (h *mHarness) checkRes(r *mRes, now time.Time) {
	st := h.status(r)
	if st.State != r.state {
		h.Violate("R4: %s is %v, its events say %v", r.name, st.State, r.state)
	}
	if o := r.f.Overlaps(); len(o) > 0 {
		h.Violate("R5: entry points of %s overlapped: %v", r.name, o)
	}

	// R11–R13, R39: deadlines.
	if st.Exempt {
		r.exemptSeen = true
	}
	if !st.Deadline.IsZero() {
		if !st.Deadline.After(now) {
			h.Violate("R11: %s %v pending (op %v) at its deadline +%v", r.name, st.State, st.Pending, st.Deadline.Sub(h.Start))
		}
		if st.Exempt || st.Queued {
			h.Violate("R12, R39: %s: an exempt or queued operation has a deadline", r.name)
		}
		if limit := max(r.pol.PendingTimeout, r.pol.TerminateTimeout); st.Deadline.Sub(now) > limit {
			h.Violate("R11, R13: %s: the deadline +%v lies more than %v ahead", r.name, st.Deadline.Sub(h.Start), limit)
		}
	}
	if st.State.Pending() && !st.Exempt && !st.Queued && st.Deadline.IsZero() {
		h.Violate("R11: %s %v (op %v, terminating %v) with no deadline armed", r.name, st.State, st.Pending, st.Terminating)
	}
	if h.sc.MaxOps == 0 && st.State.Pending() && !r.exemptSeen && now.After(r.pendStart.Add(r.pol.MaxPendingTime+r.pol.TerminateTimeout)) {
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

	// R31–R34, R36: the restart policy.
	p := r.pol
	if r.pending == pendRetry && !now.Before(r.due) && !r.retried {
		r.failures, r.restarts, r.plain, r.failover, r.retried = nil, nil, nil, monitor.FailoverNone, true // R34: a fresh window
	}
	r.failures = window(r.failures, now, p.RestartPeriod)
	r.restarts = window(r.restarts, now, p.RestartPeriod)
	r.plain = window(r.plain, now, p.RestartPeriod)
	if st.Failures != len(r.failures) {
		h.Violate("R33, R36: %s: Status counts %d failures in the window, the model %d %v", r.name, st.Failures, len(r.failures), h.times(r.failures))
	}
	if st.Restarts != len(r.restarts) {
		h.Violate("R36: %s: Status counts %d restarts in the window, the model %d %v", r.name, st.Restarts, len(r.restarts), h.times(r.restarts))
	}
	if len(r.plain) > p.RestartThreshold && !h.tolerate {
		// A retry (R34) starts a fresh window and is not one of them. (The
		// model has let each restart through by the failures in the window
		// when it failed: with tolerate, that is what is checked.)
		h.Violate("R31: %s: %d restarts within RestartPeriod %v, threshold %d: %v", r.name, len(r.plain), p.RestartPeriod, p.RestartThreshold, h.times(r.plain))
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
	cleaned := r.failTime.Add(p.TerminateTimeout) // the failure's clean-up Terminate ends by then (R17)
	if r.pending != pendNone && !now.Before(r.due) && !now.Before(cleaned) && !st.Quarantined {
		h.Violate("R31, R34: %s: the restart due at +%v has not happened (state %v)", r.name, r.due.Sub(h.Start), st.State)
	}
	if r.expectFailover && !now.Before(cleaned) {
		h.Violate("R31: %s: the policy is spent since +%v, and no failover was requested", r.name, r.failTime.Sub(h.Start))
	}
}

// finish releases every hang, shuts the monitor down, waits for the callers
// and checks that nothing is left (R14, R18, R38).
func (h *mHarness) finish() {
	h.Step = len(h.sc.Steps)
	if h.sc.EarlyShutdown {
		h.shutdown = true
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		start := time.Now()
		err := h.m.Shutdown(ctx)
		cancel()
		h.Logf("Shutdown (ctx 1m) → %v", err)
		if d := time.Since(start); d > time.Minute {
			h.Violate("R38: Shutdown took %v, beyond its context", d)
		}
	}
	for i, g := range h.gates {
		h.open[i] = true
		g.Open()
	}
	if h.sc.EarlyShutdown {
		time.Sleep(time.Hour) // what Shutdown left running ends, and is closed (a Close may take time)
	}
	synctest.Wait()
	h.check()
	h.Logf("release every gate; Shutdown")
	ctx, cancel := context.WithTimeout(context.Background(), 24*time.Hour)
	defer cancel()
	h.shutdown = true
	if err := h.m.Shutdown(ctx); err != nil && !errors.Is(err, rt.ErrInjected) && !errors.Is(err, resource.ErrPanic) && !errors.Is(err, resource.ErrNotRunning) {
		h.Violate("R38: Shutdown: %v", err)
	}
	h.callers.Wait()
	synctest.Wait()
	h.check()
	h.sub.Close()
	close(h.stop)
	h.pump.Wait()
	for _, r := range h.res {
		if n := r.f.Closes(); n != 1 {
			h.Violate("R18, R38: the Close of %s ran %d times", r.name, n)
		}
		if r.state != resource.Unknown {
			h.Violate("R38: %s is %v after Shutdown", r.name, r.state)
		}
	}
	if g := rt.GoroutinesIn("github.com/resdll/resdll/"); len(g) > 0 {
		h.Violate("goroutines left at the end:\n%s", strings.Join(g, "\n\n"))
	}
}

// report returns the first rule broken and the failure message, or "".
func (h *mHarness) report() (rule, details string) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nscenario: %#v\nevents:%s", h.sc, h.rec.Timeline())
	for _, r := range h.res {
		fmt.Fprintf(&b, "\ncalls of %s:", r.name)
		for _, c := range r.f.Calls() {
			end := "running"
			if !c.End.IsZero() {
				end = fmt.Sprintf("+%v (%v)", c.End.Sub(h.Start), c.Err)
			}
			fmt.Fprintf(&b, "\n  %v +%v → %s", c.Op, c.Start.Sub(h.Start), end)
		}
	}
	return h.Report(b.String())
}
