package monitor_test

// Fault injection (issue 9, part 3): rapid draws a monitor hosting two or
// three fakes — each under a restart policy of its own, some of them in one
// group, perhaps depending on each other, every clean-up Terminate perhaps
// slow — and a schedule of steps: the operator's Online, Offline, Terminate,
// Probe and Control; dependencies declared and withdrawn, groups brought
// online and offline, maintenance turned on and off for a resource or a
// group, new common properties (SetPolicy), resources removed while things
// run; the cluster layer's answers to failover requests; behaviours scripted
// into the resources (failures, panics, failure reports, progress,
// exemption, hangs that ignore their context and are released late),
// failing health checks and clock advances. It runs each schedule in a
// testing/synctest bubble, where time is fake and synctest.Wait makes
// "everything settled" exact. After every step, and at every instant a
// clock advance passes where something is due (a deadline, a restart, a
// failover request, a deadlock report, a health check that must latch), the
// invariants of TestFaultMonitor are checked against the events of a
// subscription, Status and a model of the restart policy (R31–R34) and of
// dependencies and maintenance (R70–R74; fault_groups_test.go). At the end
// every hang is released, the monitor shut down, and no goroutine of the
// engine may be left.
//
// A failing schedule is shrunk by rapid to a minimal one, which the failure
// prints (with the events and the calls it led to) together with
// -rapid.seed to replay it; with RESDLL_FAULT_VERBOSE=1 every failing run
// prints its details at once, which shows a failure that depends on the
// order of goroutines at one instant and does not replay. A normal run (and
// CI) tries faultSchedules schedules; RESDLL_LONG=1 runs 10 000;
// -rapid.checks=N any other number.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
const faultSchedules = 1500

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
	doTakeFail           // Take(D, ErrInjected): a failure that may come at the instant of a deadline
	numFaultDo
)

var faultDoNames = [numFaultDo]string{"Succeed", "Fail", "NotRunning", "HangUntilCancelled", "Hang", "Panic", "Take", "Report", "ProgressEvery", "WithoutTimeout", "TakeFail"}

// faultDoWeights is how often each behaviour is drawn.
var faultDoWeights = [numFaultDo]int{doSucceed: 2, doFail: 3, doNotRunning: 1, doHangCancel: 2, doHang: 3,
	doPanic: 1, doTake: 2, doReport: 1, doProgress: 1, doNoTimeout: 1, doTakeFail: 2}

var (
	// faultTakes include the PendingTimeout of most policies (20 s), so that
	// a call's return and its deadline fall on one instant (R11).
	faultTakes    = []time.Duration{time.Second, 4 * time.Second, 15 * time.Second, 20 * time.Second}
	faultAdvances = []time.Duration{time.Nanosecond, 100 * time.Millisecond, 500 * time.Millisecond, time.Second,
		3 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 20 * time.Minute}
	faultCtx = []time.Duration{time.Hour, time.Second, 10 * time.Second}
	// faultSlowClean is how long every Terminate of a scenario takes unless
	// scripted otherwise: a slow clean-up after a failure keeps a restart
	// that is already due waiting (R31), which is where a stale decision
	// would act.
	faultSlowClean = []time.Duration{0, 0, time.Second, 4 * time.Second}
)

// faultScriptOps are the entry points a script step scripts, and how often.
var (
	faultScriptOps     = []resource.Op{resource.OpOnline, resource.OpOffline, resource.OpIsAlive, resource.OpTerminate, resource.OpClose, resource.OpControl, resource.OpLooksAlive}
	faultScriptWeights = []int{4, 2, 4, 2, 1, 1, 1}
)

// mKind is what one step of a monitor schedule does.
type mKind uint8

const (
	mSkip         mKind = iota // nothing: what rapid shrinks a step that does not matter to
	mAdvance                   // sleep D on the fake clock, stopping where something is due
	mScript                    // script Do as the next call of Op of resource R
	mSick                      // IsAlive of R fails from now on (N = 1) or passes (N = 0)
	mOnline                    // Online(R)
	mOffline                   // Offline(R)
	mTerminate                 // Terminate(ctx D, R) in a caller goroutine
	mProbe                     // Probe(ctx D, R) in a caller goroutine
	mControl                   // Control(ctx D, R) in a caller goroutine
	mReport                    // R reports a failure (R23)
	mAccept                    // AcceptFailover(group of R)
	mDecline                   // DeclineFailover(group of R)
	mRelease                   // open the N-th gate still closed
	mAddDep                    // AddDependency(R, N): R depends on N (R70)
	mRemoveDep                 // RemoveDependency(R, N)
	mOnlineGroup               // OnlineGroup(ctx D, group of R) in a caller goroutine (R73)
	mOfflineGroup              // OfflineGroup(ctx D, group of R) in a caller goroutine (R73)
	mMaint                     // SetMaintenance(ctx D, R, N = 1) in a caller goroutine (R74)
	mGroupMaint                // SetGroupMaintenance(ctx D, group of R, N = 1) in a caller goroutine (R74)
	mSetPolicy                 // SetPolicy(R, policy N) (R30)
	mRemove                    // Remove(ctx D, R) in a caller goroutine
	numMKind
)

var mKindNames = [numMKind]string{"skip", "advance", "script", "sick", "Online", "Offline", "Terminate", "Probe", "Control",
	"report", "AcceptFailover", "DeclineFailover", "release", "AddDependency", "RemoveDependency", "OnlineGroup",
	"OfflineGroup", "SetMaintenance", "SetGroupMaintenance", "SetPolicy", "Remove"}

var mWeights = [numMKind]int{mSkip: 1, mAdvance: 9, mScript: 7, mSick: 3, mOnline: 6, mOffline: 2, mTerminate: 2,
	mProbe: 1, mControl: 1, mReport: 2, mAccept: 2, mDecline: 2, mRelease: 3, mAddDep: 2, mRemoveDep: 1,
	mOnlineGroup: 2, mOfflineGroup: 1, mMaint: 2, mGroupMaint: 1, mSetPolicy: 2, mRemove: 1}

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
	onOff := map[bool]string{true: "on", false: "off"}[s.N == 1]
	switch s.Kind {
	case mAdvance:
		return fmt.Sprintf("advance %v", s.D)
	case mScript:
		text := faultDoNames[s.Do]
		switch s.Do {
		case doTake, doTakeFail:
			text = fmt.Sprintf("%s(%v)", faultDoNames[s.Do], s.D)
		case doProgress:
			text = fmt.Sprintf("ProgressEvery(%v, %d)", s.D, s.N)
		}
		return fmt.Sprintf("script %s %v: %s", name, s.Op, text)
	case mSick:
		if s.N == 1 {
			return fmt.Sprintf("IsAlive of %s fails from now on", name)
		}
		return fmt.Sprintf("IsAlive of %s passes from now on", name)
	case mTerminate, mProbe, mControl, mRemove:
		return fmt.Sprintf("%s %s (ctx %v)", mKindNames[s.Kind], name, s.D)
	case mRelease:
		return fmt.Sprintf("release closed gate %d", s.N)
	case mAddDep, mRemoveDep:
		return fmt.Sprintf("%s(%s, %s)", mKindNames[s.Kind], name, faultNames[s.N])
	case mOnlineGroup, mOfflineGroup:
		return fmt.Sprintf("%s of %s's group (ctx %v)", mKindNames[s.Kind], name, s.D)
	case mMaint:
		return fmt.Sprintf("SetMaintenance %s %s (ctx %v)", name, onOff, s.D)
	case mGroupMaint:
		return fmt.Sprintf("SetGroupMaintenance of %s's group %s (ctx %v)", name, onOff, s.D)
	case mSetPolicy:
		return fmt.Sprintf("SetPolicy %s: policy %d", name, s.N)
	}
	return fmt.Sprintf("%s %s", mKindNames[s.Kind], name)
}

// mLayout is which resources share the group "g" (R71); the others are
// groups of their own.
type mLayout uint8

const (
	layoutApart mLayout = iota // every resource a group of its own
	layoutPair                 // a and b in "g"
	layoutAll                  // every resource in "g"
)

// mEdge is a dependency: From depends on To (R70).
type mEdge struct{ From, To int }

// mScenario is one drawn monitor test case.
type mScenario struct {
	Resources    int     // 2 or 3
	Layout       mLayout // which share group "g"
	Deps         []mEdge // declared with Add (Spec.DependsOn)
	Policies     []int   // per resource, an index into faultMPolicies
	NoTerminator bool
	SlowClean    time.Duration // every Terminate unless scripted takes this long
	Deadlock     time.Duration // Options.DeadlockTimeout
	MaxOps       int           // Options.MaxConcurrentOps
	Steps        []mStep
	// EarlyShutdown: Shutdown, with a context of a minute, comes before the
	// hangs are released (R38: it returns with its context; what it left
	// running ends, and is closed, when released).
	EarlyShutdown bool
}

func (sc mScenario) group(i int) string {
	if sc.Layout == layoutAll || sc.Layout == layoutPair && i < 2 {
		return "g"
	}
	return faultNames[i]
}

// GoString prints the scenario the way rapid's log shows draws: one step a
// line, the minimal reproduction once shrunk.
func (sc mScenario) GoString() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d resources, no Terminator %v, slow clean-up %v, DeadlockTimeout %v, MaxConcurrentOps %d, early Shutdown %v",
		sc.Resources, sc.NoTerminator, sc.SlowClean, sc.Deadlock, sc.MaxOps, sc.EarlyShutdown)
	for i := range sc.Resources {
		fmt.Fprintf(&b, "\n  %s: group %s, policy %d (%s)", faultNames[i], sc.group(i), sc.Policies[i], mPolicyText(faultMPolicies[sc.Policies[i]]))
		for _, e := range sc.Deps {
			if e.From == i {
				fmt.Fprintf(&b, ", depends on %s", faultNames[e.To])
			}
		}
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

// faultMPolicies are the restart policies schedules run under (R31–R34),
// and the ones SetPolicy changes to (R30): 5 and 6 differ from the others in
// every time-out and interval, so that a change not applied shows.
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
	{Policy: wrapper.Policy{PendingTimeout: 8 * time.Second, MaxPendingTime: 16 * time.Second, TerminateTimeout: 3 * time.Second,
		CheckTimeout: 2 * time.Second, IsAliveInterval: 4 * time.Second, LooksAliveInterval: resource.Never},
		RestartThreshold: 1, RestartPeriod: 2 * time.Minute, RestartDelay: 2 * time.Second, RetryPeriodOnFailure: 5 * time.Minute},
	{Policy: wrapper.Policy{PendingTimeout: 45 * time.Second, TerminateTimeout: 4 * time.Second, CheckTimeout: 10 * time.Second,
		IsAliveInterval: 90 * time.Second, LooksAliveInterval: resource.Never},
		RestartAction: monitor.RestartNoFailover, RestartThreshold: 3, RestartPeriod: 10 * time.Minute, RestartDelay: resource.NoDelay,
		RetryPeriodOnFailure: resource.Never},
	// A retry comes well within RestartPeriod: whether it starts a fresh
	// window shows (R34).
	{Policy: faultMChecks, RestartAction: monitor.RestartNoFailover, RestartThreshold: 1, RestartPeriod: 30 * time.Minute,
		RestartDelay: time.Second, RetryPeriodOnFailure: 2 * time.Minute},
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
			case doTake, doTakeFail:
				s.D = rapid.SampledFrom(faultTakes).Draw(t, "take")
			case doProgress:
				s.D = rapid.SampledFrom(faultTakes).Draw(t, "every")
				s.N = rapid.IntRange(1, 5).Draw(t, "reports")
			}
		case mSick, mMaint, mGroupMaint:
			s.N = rapid.IntRange(0, 1).Draw(t, "on")
		case mAddDep, mRemoveDep:
			s.N = rapid.IntRange(0, resources-1).Draw(t, "other")
		case mSetPolicy:
			s.N = rapid.IntRange(0, len(faultMPolicies)-1).Draw(t, "policy")
		case mRelease:
			s.N = rapid.IntRange(0, 3).Draw(t, "gate")
		}
		switch s.Kind {
		case mTerminate, mProbe, mControl, mOnlineGroup, mOfflineGroup, mMaint, mGroupMaint, mRemove:
			s.D = rapid.SampledFrom(faultCtx).Draw(t, "ctx")
		}
		return s
	})
}

func mScenarioGen() *rapid.Generator[mScenario] {
	return rapid.Custom(func(t *rapid.T) mScenario {
		n := rapid.IntRange(2, 3).Draw(t, "resources")
		sc := mScenario{
			Resources:    n,
			Layout:       mLayout(rapid.IntRange(0, 2).Draw(t, "layout")),
			Policies:     rapid.SliceOfN(rapid.IntRange(0, len(faultMPolicies)-1), n, n).Draw(t, "policies"),
			NoTerminator: rapid.Bool().Draw(t, "noTerminator"),
			SlowClean:    rapid.SampledFrom(faultSlowClean).Draw(t, "slowClean"),
			Deadlock:     rapid.SampledFrom([]time.Duration{2 * time.Minute, resource.Never, 30 * time.Second}).Draw(t, "deadlock"),
			MaxOps:       rapid.SampledFrom([]int{0, 1}).Draw(t, "maxOps"),
		}
		// Dependencies declared with Add: on resources added before, of the
		// same group (R70).
		for from := range n {
			for to := range from {
				if sc.group(from) == sc.group(to) && rapid.Bool().Draw(t, "dep") {
					sc.Deps = append(sc.Deps, mEdge{from, to})
				}
			}
		}
		sc.Steps = rapid.SliceOfN(mStepGen(n), 15, 45).Draw(t, "steps") // 30 on average
		sc.EarlyShutdown = rapid.IntRange(0, 3).Draw(t, "early") == 3
		return sc
	})
}

// TestFaultMonitor runs random schedules against a monitor and checks,
// after every step and wherever something falls due:
//
//   - R2, R4: only legal transitions, chained, in sequence per resource,
//     each with its operation and a failure's error; R3's joins and
//     refusals, R35's quarantine refusals, and R70's answer (the state as it
//     was) when the work waits for dependencies or dependents;
//   - R5, R14: no two entry points of a resource at once; abandoned calls
//     counted as running until they return; a new operation that waited for
//     one failing with ErrWorkerStuck only then; R35: each call abandoned
//     for DeadlockTimeout reported and quarantining its resource;
//   - R11–R13, R39: no pending operation past its deadline, every one not
//     exempt or queued with one, none beyond MaxPendingTime — by the policy
//     in force when it began or the one SetPolicy put in force since (R30);
//   - R20, R21, R30: an Online resource whose IsAlive keeps failing latches
//     within its check interval and threshold — the ones SetPolicy set last;
//   - R31–R34: restarts only as a model of the policy allows — after a
//     failure, after RestartDelay, within RestartThreshold in the sliding
//     RestartPeriod, never after the operator (or anything else) cancelled
//     it, never while a failover request is pending or accepted — and each
//     one it asks for made; a failover request only once the threshold is
//     spent under RestartAndFailover; Status's restarts, failures, next
//     restart and failover state as the model has them (R36). For a
//     resource a dependency touches, whose restarts other resources decide
//     too (R72), the model keeps only what it knows for sure: no restart
//     without a failure or a dependency back, none before it is due, none
//     after the operator cancelled it;
//   - R70–R74, Remove, SetPolicy: see checkDeps, checkMaint and checkRemoved
//     in fault_groups_test.go;
//   - at rest (nothing pending, no call running) the engine owns no
//     goroutine, and at the end none is left.
func TestFaultMonitor(t *testing.T) {
	faulttest.SetSchedules(t, faultSchedules)
	rapid.Check(t, func(t *rapid.T) {
		sc := mScenarioGen().Draw(t, "scenario")
		rapid.SyncTest(t, func(t *rapid.T) { runMScenario(t, sc) })
	})
}

// Regression, fixed (found checking TestFaultMonitor's count of restarts, by a schedule
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
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R31: a restart decided for one failure must not act once something newer
// decided otherwise (the monitor's generation check). The failure's
// clean-up Terminate takes 4 s; the restart is due after 500 ms and waits
// for it; the operator's Offline at +1 s (refused while the clean-up runs,
// but it cancels the restart) must leave the resource Failed. Found missing
// by the mutation check (a restart ignoring the generation went unnoticed).
func TestFaultMonitorStaleRestartAfterOperatorOffline(t *testing.T) {
	sc := mScenario{Resources: 2, Policies: []int{0, 0}, SlowClean: 4 * time.Second, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mOnline, R: 1},
		{Kind: mAdvance, D: 10 * time.Second},
		{Kind: mReport, R: 1},                 // failure at +10 s: restart due at +10.5 s, clean-up until +14 s
		{Kind: mAdvance, D: time.Second},      // the restart is due and waits for the clean-up
		{Kind: mOffline, R: 1},                // refused (a Terminate runs), but the restart is cancelled
		{Kind: mAdvance, D: 10 * time.Second}, // the clean-up ends: no restart may follow
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// Regression, fixed (found by the model of TestFaultMonitor, shown by the race detector):
// onFailure logs len(e.failures) after releasing Monitor.mu, so an
// operator's Online of the same resource at the same time — resetLocked
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

// Regression, fixed (found by TestFaultMonitor): a resource whose failover request is
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
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// runMScenario runs sc in the current bubble and fails t with the first
// rule broken, logging the schedule and what it led to.
func runMScenario(t interface {
	Logf(string, ...any)
	Fatalf(string, ...any)
}, sc mScenario) {
	h := newMHarness(sc)
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
		faulttest.Dump(details)
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
	pendAny              // a restart or a retry, or neither: what a loose model allows
)

// maintMode is where a resource's maintenance stands in the model (R74).
type maintMode uint8

const (
	maintOff    maintMode = iota
	maintOn               // SetMaintenance(on) returned
	maintEnding           // a group's maintenance ends one member after another: not known when
)

// policySpan is a CheckTimeout in force from an instant on.
type policySpan struct {
	from         time.Time
	checkTimeout time.Duration
}

// checkTimeoutAt returns the CheckTimeout a check of r that began at t runs
// under: the policy's in force then (R30: SetPolicy's check settings apply
// to the checks after it). A check that began at the instant of a change
// may have either: the longer is taken.
func (r *mRes) checkTimeoutAt(t time.Time) time.Duration {
	var d time.Duration
	for _, s := range r.timeouts {
		switch {
		case s.from.Before(t):
			d = s.checkTimeout
		case s.from.Equal(t):
			d = max(d, s.checkTimeout)
		}
	}
	return d
}

// mChange is one state change of a resource, for "where did it stand at
// that instant".
type mChange struct {
	at time.Time
	to resource.State
}

// mRes is one hosted resource: its fake, what the checks remember, and the
// model of its restart policy, dependencies and maintenance.
type mRes struct {
	idx         int
	name, group string
	polIdx      int            // the policy in force, an index into faultMPolicies
	pol         monitor.Policy // resolved
	polAt       time.Time      // when SetPolicy last set it
	timeouts    []policySpan   // the CheckTimeout in force from each instant on, the latest last (R30)
	pendPol     monitor.Policy // the policy in force when the current pending operation began
	f           *rt.Fake

	state      resource.State
	prev       resource.State // the state at the last check
	prevTerm   bool           // a Terminate ran for it at the last check
	hist       []mChange      // every state change, from Offline at the start
	lastEvent  time.Time
	lastKind   resource.EventKind
	pendStart  time.Time
	exemptSeen bool
	deadlocks  []time.Time // when Deadlock events came
	onlineAt   time.Time   // the last change into Online

	// The model of R31–R34.
	loose              bool        // a dependency touched it: only what is sure is checked (see TestFaultMonitor)
	failures, restarts []time.Time // within RestartPeriod
	plain              []time.Time // restarts but the retries (R34), within RestartPeriod
	failTime           time.Time   // the last failure
	decPol             monitor.Policy
	pending            pendKind
	due                time.Time // when pending is due
	retried            bool      // a due retry has reset the window
	expectFailover     bool      // the last failure spent the policy: a request follows its clean-up
	mayFailover        bool      // or it may, maintenance having begun before the clean-up ended (R74)
	failover           monitor.FailoverState
	token              bool // an orchestration the operator started (R70, R73) may start it until things rest

	// R70–R74, Remove.
	waitDeps  bool      // taken offline by a dependency's failure: comes back when its dependencies are (R72)
	waitSure  bool      // and it surely was up when that happened: R72's "comes back" is checked
	waitAt    time.Time // when
	waitOn    []int     // its dependencies then
	maint     maintMode
	maintAt   time.Time // when maintenance last began or ended
	maintHist []span    // when it was in maintenance, or may have been
	removed   bool      // Remove was called and found no dependents
	removedAt time.Time
	gone      bool // its change into Unknown came

	// What its health checks do (R20, R21).
	sick         bool
	sickAt       time.Time
	queued       map[resource.Op]int       // scripted behaviours of IsAlive and LooksAlive not yet used
	counted      map[resource.Op]int       // calls of them seen
	scriptsOutAt map[resource.Op]time.Time // when each script ran out
	termStep     int                       // the last step that asked for a Terminate of it, or -1
	termCalls    int                       // its Terminate calls at the last check
	maintFail    time.Time                 // it failed in maintenance at this instant (R74)
	opStartAt    time.Time                 // the operator last asked for it to be started (Online, OnlineGroup, Probe)
	opStopAt     time.Time                 // the operator last asked for it to be stopped (Offline, OfflineGroup, Terminate, AcceptFailover, Remove)
	// stopInFlight: the operator's last Offline of it may still be
	// waiting for its dependents to go down (R70), however long that
	// takes and whatever rested meanwhile; it ends when it is down or an
	// operator's Online or OnlineGroup of it came after.
	stopInFlight bool
}

// cancel is what cancelling the resource's timers does to the model.
func (r *mRes) cancel() {
	r.pending, r.expectFailover, r.mayFailover = pendNone, false, false
}

// reset is an operator's Online (R31): a fresh window, no failover state.
func (r *mRes) reset() {
	r.failures, r.restarts, r.plain, r.failover, r.retried = nil, nil, nil, monitor.FailoverNone, false
	r.waitDeps, r.waitSure = false, false
	r.cancel()
}

// span is a stretch of time; a zero to is open.
type span struct{ from, to time.Time }

// inMaint says whether r was, or may have been, in maintenance at some
// moment from from to to.
func (r *mRes) inMaint(from, to time.Time) bool {
	return slices.ContainsFunc(r.maintHist, func(s span) bool { return !s.from.After(to) && (s.to.IsZero() || !s.to.Before(from)) })
}

// setMaint moves r's maintenance to m at now.
func (r *mRes) setMaint(m maintMode, now time.Time) {
	switch {
	case m != maintOff && r.maint == maintOff:
		r.maintHist = append(r.maintHist, span{from: now})
	case m == maintOff && r.maint != maintOff:
		r.maintHist[len(r.maintHist)-1].to = now
	}
	r.maint, r.maintAt = m, now
}

// busy says whether a call of r's fake runs.
func (r *mRes) busy() bool {
	for _, op := range []resource.Op{resource.OpOnline, resource.OpOffline, resource.OpIsAlive, resource.OpLooksAlive,
		resource.OpTerminate, resource.OpControl, resource.OpClose} {
		if r.f.Running(op) > 0 {
			return true
		}
	}
	return false
}

// statesAt returns every state r held at the instant t: the one before it,
// and each it changed to at t.
func (r *mRes) statesAt(t time.Time) []resource.State {
	out := []resource.State{resource.Offline}
	for _, c := range r.hist {
		switch {
		case c.at.Before(t):
			out[0] = c.to
		case c.at.Equal(t):
			out = append(out, c.to)
		}
	}
	return out
}

// up says whether a state is one a dependent must have left before its
// dependency goes offline (R70).
func up(s resource.State) bool {
	return s == resource.Online || s == resource.OnlinePending || s == resource.OfflinePending
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
	inCall  atomic.Int32 // callers still running

	seen     int          // events checked
	mine     map[int]bool // the resources whose next change into OnlinePending in this step is the operator's
	shutdown bool         // Shutdown was called
	accepted map[string]bool

	// R70–R74 (fault_groups_test.go).
	deps      map[mEdge]*depEdge // the dependencies declared and not withdrawn
	restAt    time.Time          // the last check where nothing was pending and no group call ran
	restPrev  time.Time          // the one before restAt (see restBefore)
	obliged   []takeDown         // R72: dependents a failure must take offline
	results   []*callResult      // what the group, maintenance and Remove callers returned
	resMu     sync.Mutex         // guards results: callers append
	orchCalls atomic.Int32       // OnlineGroup and OfflineGroup calls running
	acceptAt  map[string]time.Time
}

func newMHarness(sc mScenario) *mHarness {
	h := &mHarness{sc: sc, Log: faulttest.Log{Start: time.Now()}, rec: rt.NewRecorder(), stop: make(chan struct{}), fakes: map[string]*rt.Fake{},
		mine: map[int]bool{}, accepted: map[string]bool{}, acceptAt: map[string]time.Time{}, deps: map[mEdge]*depEdge{}}
	m, err := monitor.New(monitor.Options{Clock: clock.New(), DeadlockTimeout: sc.Deadlock, MaxConcurrentOps: sc.MaxOps})
	if err != nil {
		panic(err)
	}
	h.m = m
	typ, err := resource.NewType("fake", nil, func(_ context.Context, name string, _ properties.Values) (resource.Resource, error) {
		f := rt.NewFake(clock.New(), rt.Caps{NoTerminator: sc.NoTerminator})
		if sc.SlowClean > 0 {
			f.SetDefault(resource.OpTerminate, rt.Take(sc.SlowClean, nil))
		}
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
		name := faultNames[i]
		var on []string
		for _, e := range sc.Deps {
			if e.From == i {
				on = append(on, faultNames[e.To])
				h.deps[e] = &depEdge{armed: true}
			}
		}
		if err := m.Add(context.Background(), monitor.Spec{Name: name, Type: "fake", Group: sc.group(i), DependsOn: on, Policy: faultMPolicies[sc.Policies[i]]}); err != nil {
			panic(err)
		}
		pol, err := m.Policy(name)
		if err != nil {
			panic(err)
		}
		h.res = append(h.res, &mRes{idx: i, name: name, group: sc.group(i), polIdx: sc.Policies[i], pol: pol, pendPol: pol, f: h.fakes[name],
			state: resource.Offline, termStep: -1, queued: map[resource.Op]int{}, counted: map[resource.Op]int{}, scriptsOutAt: map[resource.Op]time.Time{},
			timeouts: []policySpan{{from: time.Now(), checkTimeout: pol.CheckTimeout}}})
	}
	for e := range h.deps {
		h.res[e.From].loose, h.res[e.To].loose = true, true
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
	case doTakeFail:
		return rt.Take(s.D, rt.ErrInjected), ""
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

// caller runs call in a goroutine of its own with a context that ends
// after d of fake time, and hands check its error.
func (h *mHarness) caller(d time.Duration, call func(context.Context) error, check func(error)) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	h.inCall.Add(1)
	h.callers.Go(func() {
		defer h.inCall.Add(-1)
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
	if s.Kind == mRelease {
		h.Logf("%v%s", s, h.release(s.N))
		h.settle()
		return
	}
	r := h.res[s.R]
	if r.removed {
		h.doRemoved(s, r)
		h.settle()
		return
	}
	before := h.status(r)
	clear(h.mine)
	switch s.Kind {
	case mScript:
		b, gate := h.behaviour(s)
		r.f.Script(s.Op, b)
		if s.Op == resource.OpIsAlive || s.Op == resource.OpLooksAlive {
			r.queued[s.Op]++
		}
		h.Logf("%v%s", s, gate)
	case mSick:
		b := rt.Succeed()
		if s.N == 1 {
			b = rt.Fail(rt.ErrInjected)
		}
		if r.sick = s.N == 1; r.sick {
			r.sickAt = time.Now()
		}
		r.f.SetDefault(resource.OpIsAlive, b)
		h.Logf("%v", s)
	case mOnline:
		h.online(s, r, before)
	case mOffline:
		h.offline(s, r, before)
	case mTerminate:
		h.Logf("%v in %v", s, before.State)
		r.cancel()
		r.waitDeps, r.waitSure = false, false // its restart, also one waiting for dependencies, is cancelled
		r.termStep, r.opStopAt = h.Step, time.Now()
		h.caller(s.D, func(ctx context.Context) error { return h.m.Terminate(ctx, r.name) }, func(err error) {
			if errors.Is(err, resource.ErrInvalidTransition) || errors.Is(err, resource.ErrClosed) || errors.Is(err, resource.ErrQuarantined) {
				h.Violate("R17, R35: Terminate of %s in %v refused: %v", r.name, before.State, err)
			}
		})
	case mProbe:
		h.Logf("%v in %v", s, before.State)
		r.opStartAt = time.Now()
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
	case mAddDep, mRemoveDep:
		h.dependency(s, r)
	case mOnlineGroup, mOfflineGroup:
		h.groupOp(s, r)
	case mMaint, mGroupMaint:
		h.maintenance(s, r)
	case mSetPolicy:
		h.setPolicy(s, r)
	case mRemove:
		h.remove(s, r)
	}
	h.settle()
	clear(h.mine)
}

// settle waits until everything is blocked, and checks.
func (h *mHarness) settle() {
	synctest.Wait()
	h.check()
}

// online is the operator's Online (R31, R70).
func (h *mHarness) online(s mStep, r *mRes, before monitor.Status) {
	waits := h.depsDown(r)          // R70: its dependencies come first
	upSet := h.closure(r.idx, true) // what it brings online then
	st, err := h.m.Online(r.name)
	h.Logf("%v → %v, %v", s, st, err)
	if errors.Is(err, resource.ErrQuarantined) {
		h.checkRequest(resource.OpOnline, before, false, st, err)
		return
	}
	r.reset() // R31: the operator's Online resets
	r.opStartAt, r.stopInFlight = time.Now(), false
	if waits {
		for _, x := range upSet {
			// Each is started (and its wait for dependencies ended, R72)
			// when its dependencies are up.
			x.token, x.opStartAt, x.waitSure = true, time.Now(), false
		}
	} else if err == nil && (before.State == resource.Offline || before.State == resource.Failed) {
		h.mine[r.idx] = true // the first change into OnlinePending is this one
	}
	h.checkRequest(resource.OpOnline, before, waits, st, err)
}

// offline is the operator's Offline (R70): it cancels the pending restarts
// of the resource and of its dependents, which go offline first.
func (h *mHarness) offline(s mStep, r *mRes, before monitor.Status) {
	downSet := h.closure(r.idx, false)
	waits := false
	for _, x := range downSet {
		if x != r && x.state != resource.Offline {
			waits = true
		}
	}
	st, err := h.m.Offline(r.name)
	h.Logf("%v → %v, %v", s, st, err)
	if !errors.Is(err, resource.ErrQuarantined) {
		for _, x := range downSet {
			x.cancel()
			x.waitDeps, x.waitSure = false, false // the operator's intent: they stay down
			x.opStopAt, x.stopInFlight = time.Now(), true
		}
	}
	h.checkRequest(resource.OpOffline, before, waits, st, err)
}

// answer gives the cluster layer's answer to the failover request of r's
// group, and checks that one was pending exactly when the model has one
// (R31, R34).
func (h *mHarness) answer(s mStep, r *mRes) {
	var requested, members []*mRes
	for _, x := range h.res {
		if x.group == r.group && !x.removed {
			members = append(members, x)
			if x.failover == monitor.FailoverRequested {
				requested = append(requested, x)
			}
		}
	}
	var err error
	if s.Kind == mAccept {
		err = h.m.AcceptFailover(r.group)
	} else {
		err = h.m.DeclineFailover(r.group)
	}
	h.Logf("%s %q → %v", mKindNames[s.Kind], r.group, err)
	exact := !slices.ContainsFunc(members, func(x *mRes) bool { return x.loose })
	switch {
	case !exact:
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
		h.accepted[r.group], h.acceptAt[r.group] = true, now
		for _, x := range members {
			x.waitDeps, x.waitSure = false, false // R71: the group moves
			if !x.loose {
				x.cancel() // R71: the group goes offline (at once: nothing depends on it)
			}
			x.termStep, x.opStopAt = h.Step, now
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
// request, a deadlock report, a health check that must latch.
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
			if r.removed {
				continue
			}
			st := h.status(r)
			stop(st.Deadline)
			stop(st.NextRestart)
			if h.sc.Deadlock != resource.Never && !st.OldestAbandoned.IsZero() {
				stop(st.OldestAbandoned.Add(h.sc.Deadlock))
			}
			if r.pending != pendNone {
				stop(r.due)
				stop(r.failTime.Add(r.decPol.TerminateTimeout))
			}
			if r.expectFailover {
				stop(r.failTime.Add(r.decPol.TerminateTimeout))
			}
			if at, ok := h.latchBy(r, st); ok {
				stop(at.Add(time.Nanosecond))
			}
			if at, ok := faulttest.HungLatchBy(r.f, r.pol.Policy, st.Status, r.onlineAt, latest(r.polAt, r.maintAt), r.checkTimeoutAt); ok && r.maint == maintOff {
				stop(at.Add(time.Nanosecond))
			}
		}
		time.Sleep(next.Sub(now))
		h.settle()
	}
}

// checkRequest checks what Online or Offline answered against R3, R17,
// R35 and R70, from the status just before the call; waits says the work
// waits for dependencies (Online) or dependents (Offline) first.
func (h *mHarness) checkRequest(op resource.Op, before monitor.Status, waits bool, got resource.State, err error) {
	s := before.State
	var want resource.State
	var wantErr error
	switch {
	case before.Quarantined:
		wantErr = resource.ErrQuarantined // R35
	case waits:
		want = s // R70: it answers with the state as it is; the work goes on
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
		h.Violate("R3, R70: %v of %s in %v (terminating %v, waits for others %v) returned %v, %v; want %v", op, before.Name, s, before.Terminating, waits, got, err, want)
	}
}

// causal orders a batch of events for the model: each resource's in its
// own order (R4), the resources' merged by time, and at one instant a
// failure before the others' changes. The monitor reacts to a failure
// before it publishes it (onEvent), so the take-down of a dependent (R72)
// may come out before the failure that caused it.
func causal(evs []resource.Event) []resource.Event {
	queues := map[string][]resource.Event{}
	var names []string
	for _, e := range evs {
		if queues[e.Resource] == nil {
			names = append(names, e.Resource)
		}
		queues[e.Resource] = append(queues[e.Resource], e)
	}
	failure := func(e resource.Event) bool {
		return e.Kind == resource.StateChanged && e.To == resource.Failed && (e.From == resource.Online || e.From == resource.OnlinePending)
	}
	out := make([]resource.Event, 0, len(evs))
	for len(out) < len(evs) {
		best := ""
		for _, n := range names {
			q := queues[n]
			if len(q) == 0 {
				continue
			}
			if best == "" {
				best = n
				continue
			}
			b := queues[best][0]
			if q[0].Time.Before(b.Time) || q[0].Time.Equal(b.Time) && failure(q[0]) && !failure(b) {
				best = n
			}
		}
		out = append(out, queues[best][0])
		queues[best] = queues[best][1:]
	}
	return out
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
	if r.gone && e.Kind != resource.Terminated {
		// Close moves to Unknown first, then terminates what runs (R18):
		// its terminated event is the one that may follow.
		h.Violate("R18: %v after its change into Unknown", e)
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
		if errors.Is(e.Err, resource.ErrWorkerStuck) && !faulttest.StuckCall(r.f, r.pendStart, faulttest.WaitEnded(r.pendStart, e.Time, r.pendPol.PendingTimeout)) {
			h.Violate("R14: %v, but no call that started before the operation (+%v) still ran", e, r.pendStart.Sub(h.Start))
		}
		if e.To == resource.Unknown {
			r.gone = true
			if !r.removed && !h.shutdown {
				h.Violate("R18: %v, but neither Remove nor Shutdown was called", e)
			}
		}
		if e.To.Pending() {
			r.pendStart, r.exemptSeen, r.pendPol = e.Time, false, r.pol
		}
		if e.To == resource.Online {
			r.onlineAt = e.Time
		}
		r.state = e.To
		h.checkChange(r, e) // R70–R74
		if !h.shutdown && !r.removed {
			h.model(r, e)
		}
	case resource.Terminated:
		if e.From != r.state || e.To != r.state {
			h.Violate("R4: %v: not in the state %v", e, r.state)
		}
		h.CheckTerminateTimeout(r.f, e, min(r.pol.TerminateTimeout, r.decPol.TerminateTimeout, r.pendPol.TerminateTimeout))
	case resource.FailoverRequested:
		switch {
		case e.Group != r.group:
			h.Violate("R31: %v names group %q, want %q", e, e.Group, r.group)
		case r.maint == maintOn:
			h.Violate("R74: %v for a resource in maintenance", e)
		case r.loose && r.decPol.RestartAction != monitor.RestartAndFailover:
			h.Violate("R31, R32: %v under %v", e, r.decPol.RestartAction)
		case !r.loose && !r.expectFailover && !r.mayFailover:
			h.Violate("R31: %v, but the restart policy (%s) is not spent: failures at %v", e, mPolicyText(faultMPolicies[r.polIdx]), h.times(r.failures))
		}
		r.expectFailover, r.mayFailover, r.failover = false, false, monitor.FailoverRequested
	case resource.GroupReadyToMove:
		if e.Group != r.group || !h.accepted[r.group] {
			h.Violate("R71: %v, but group %q was not accepted for failover", e, r.group)
		}
		h.checkReadyToMove(r, e)
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

// check checks the invariants once everything has settled.
func (h *mHarness) check() {
	now := time.Now()
	evs := h.rec.Events()
	fresh := evs[h.seen:]
	h.seen = len(evs)
	// The histories first: a change is checked against where the others
	// stood at its instant, whichever came out first.
	for _, r := range h.res {
		r.prev = r.state
	}
	for _, e := range fresh {
		if r := h.byName(e.Resource); r != nil && e.Kind == resource.StateChanged {
			r.hist = append(r.hist, mChange{e.Time, e.To})
		}
	}
	for _, e := range causal(fresh) {
		h.checkEvent(e)
	}
	if err := h.rec.CheckSequence(); err != nil {
		h.Violate("R4: %v", err)
	}
	for _, r := range h.res {
		if o := r.f.Overlaps(); len(o) > 0 {
			h.Violate("R5: entry points of %s overlapped: %v", r.name, o)
		}
	}
	if h.shutdown {
		return
	}
	h.checkResults()
	for _, r := range h.res {
		if r.removed {
			h.checkRemoved(r)
			continue
		}
		h.checkRes(r, now)
	}
	h.checkQuiet(now)
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
	switch {
	case h.sc.EarlyShutdown:
		time.Sleep(time.Hour) // what Shutdown left running ends, and is closed (a Close may take time)
	case slices.ContainsFunc(h.res, func(r *mRes) bool { return r.removed && r.busy() }):
		// A Remove whose context ended leaves the resource's Close to run
		// when its last call returns (R18): let the calls end.
		h.Logf("advance 1h: removed resources finish closing")
		h.advance(time.Hour)
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
			h.Violate("R18, R38: the Close of %s ran %d times (removed %v)", r.name, n, r.removed)
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
