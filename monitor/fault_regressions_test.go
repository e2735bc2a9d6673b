package monitor_test

// Regressions found by TestFaultMonitor's schedules of dependencies, groups,
// maintenance, Remove and SetPolicy: each is the shrunk schedule (or a
// deterministic form of it) that broke the rule it is named after, run
// through the same harness and checks. The seed that found it is in the
// comment; the schedules it printed are replayed here so the failure does
// not depend on the generator.

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/resdll/resdll/resource"
)

// R72: a dependent that was not running when its dependency failed is not
// brought online when the dependency comes back. b depends on a and was
// never started; a's Online fails and a is restarted: the monitor brought b
// online (found with -rapid.seed=1896929551086055138). Fixed in
// dependencyFailed: only a dependent that runs, or waits to be restarted,
// comes back.
func TestR72DependentNotRunningStaysDown(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutPair, Deps: []mEdge{{1, 0}}, Policies: []int{0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mScript, R: 0, Op: resource.OpOnline, Do: doFail},
		{Kind: mOnline, R: 0},                       // fails at once; restart at +500 ms
		{Kind: mAdvance, D: 500 * time.Millisecond}, // a comes back: b must stay Offline
		{Kind: mAdvance, D: time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R74: a resource in maintenance whose Online fails gets no clean-up
// Terminate and no restart from the monitor (found with
// -rapid.seed=11639376896280468164). Fixed in onFailure.
func TestR74NoTerminateOrRestartAfterFailureInMaintenance(t *testing.T) {
	sc := mScenario{Resources: 2, Policies: []int{0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mScript, R: 1, Op: resource.OpOnline, Do: doFail},
		{Kind: mMaint, R: 1, N: 1, D: time.Hour},
		{Kind: mOnline, R: 1},
		{Kind: mAdvance, D: time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R74: a restart decided before maintenance began does not run in it (found
// with -rapid.seed=7297181740394899651). Fixed in restart.
func TestR74NoRestartDueInMaintenance(t *testing.T) {
	sc := mScenario{Resources: 2, Policies: []int{0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mOnlineGroup, R: 0, D: time.Hour},
		{Kind: mReport, R: 0},                    // a fails: restart due at +500 ms
		{Kind: mMaint, R: 0, N: 1, D: time.Hour}, // then maintenance begins
		{Kind: mAdvance, D: time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R70: when OfflineGroup's context ends while a dependent is still going
// offline, what it depends on stays up. b depends on a; b's Offline takes
// until its PendingTimeout (20 s); the caller gives up after 1 s, and a was
// taken offline under the still running b (found with
// -rapid.seed=14481915999734595627). Fixed in offlineOrdered.
func TestR70OfflineGroupContextEndKeepsDependencyUp(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutPair, Deps: []mEdge{{1, 0}}, Policies: []int{0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mOnline, R: 1}, // a, then b
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mScript, R: 1, Op: resource.OpOffline, Do: doHangCancel},
		{Kind: mOfflineGroup, R: 0, D: time.Second},
		{Kind: mAdvance, D: 3 * time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R74: a dependent taken offline by its dependency's failure, then put in
// maintenance, is not brought back by the monitor when the dependency is
// restarted (found with -rapid.seed=1738450087824316089). Fixed in
// dependencyOnline.
func TestR74DependentInMaintenanceNotBroughtBack(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutPair, Deps: []mEdge{{1, 0}}, Policies: []int{0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mOnline, R: 1},
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mReport, R: 0},                    // a fails: b is taken offline, to come back with a
		{Kind: mMaint, R: 1, N: 1, D: time.Hour}, // b in maintenance
		{Kind: mAdvance, D: time.Second},         // a is restarted at +500 ms
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R72: after the operator takes a group offline, a dependent that waited
// for its failed dependency stays down when the operator brings only the
// dependency online — as after Offline (found with
// -rapid.seed=9277764273362912486). Fixed in OfflineGroup.
func TestR72OfflineGroupKeepsDependentsDown(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutPair, Deps: []mEdge{{1, 0}}, Policies: []int{0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mOnline, R: 1},
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mReport, R: 0}, // a fails: b is taken offline, to come back with a
		{Kind: mOfflineGroup, R: 0, D: time.Hour},
		{Kind: mOnline, R: 0}, // the operator brings a, only a, online
		{Kind: mAdvance, D: time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R71: GroupReadyToMove does not come from a resource removed while its
// group was taken offline; a member still hosted says it (found with
// -rapid.seed=18089516147150342343). Fixed in AcceptFailover.
func TestR71ReadyToMoveNotFromRemovedResource(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutPair, Policies: []int{0, 0}, Deadlock: 2 * time.Minute, Steps: []mStep{
		{Kind: mScript, R: 0, Op: resource.OpOnline, Do: doHang}, // a hangs: three failures, then a failover request
		{Kind: mOnline, R: 0},
		{Kind: mAdvance, D: 20 * time.Minute},
		{Kind: mAccept, R: 0},               // the group goes offline: a's Offline waits for the hung Online
		{Kind: mRemove, R: 0, D: time.Hour}, // a is removed meanwhile
		{Kind: mAdvance, D: time.Minute},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R70: a group brought online level by level starts a resource only while
// its dependencies are Online: c depends on a; a was Online when its level
// was done, then failed, and its restart waits behind b's slow Online
// (MaxConcurrentOps 1); c was started anyway when the caller gave up on b
// (found with -rapid.seed=907369829109022759). Fixed in onlineOne.
func TestR70OnlineGroupRechecksDependencies(t *testing.T) {
	sc := mScenario{Resources: 3, Layout: layoutAll, Deps: []mEdge{{2, 0}}, Policies: []int{0, 0, 0}, Deadlock: 2 * time.Minute, MaxOps: 1, Steps: []mStep{
		{Kind: mScript, R: 1, Op: resource.OpOnline, Do: doTake, D: 4 * time.Second},
		{Kind: mProbe, R: 0, D: time.Hour}, // a runs: adopted Online
		{Kind: mOnlineGroup, R: 0, D: time.Second},
		{Kind: mReport, R: 0}, // a fails; its restart queues behind b
		{Kind: mAdvance, D: time.Second},
		{Kind: mAdvance, D: 10 * time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R72: a dependent still being taken offline when its dependency is
// restarted comes back once it is down. a restarts at once (NoDelay); b's
// Offline takes 4 s: the monitor's Online of b was refused while b was
// OfflinePending and b stayed Offline (found as a same-instant race with
// -rapid.seed=14722093168900697795; this is its deterministic form). Fixed
// in dependencyFailed and dependencyOnline.
func TestR72DependentBackAfterSlowTakeDown(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutPair, Deps: []mEdge{{1, 0}}, Policies: []int{3, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mOnline, R: 1},
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mScript, R: 1, Op: resource.OpOffline, Do: doTake, D: 4 * time.Second},
		{Kind: mReport, R: 0}, // a fails and is restarted at once; b goes offline for 4 s
		{Kind: mAdvance, D: 10 * time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R30, R51: Policy shows the policy set: RestartDelay resource.NoDelay, not
// 0, which would mean the default 500 ms when set again (found with
// -rapid.seed=7994212480114971886). Fixed in Monitor.Policy (and
// CodeGetCommonProperties).
func TestR30PolicyShowsNoDelay(t *testing.T) {
	sc := mScenario{Resources: 2, Policies: []int{0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mSetPolicy, R: 0, N: 3},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R74: a failover request decided before maintenance began is not made in
// it. The third failure spends the policy; the request waits for the
// failure's clean-up (1 s); maintenance begins meanwhile (found with
// -rapid.seed=7478420570289891978). Fixed in onFailure.
func TestR74NoFailoverRequestInMaintenance(t *testing.T) {
	sc := mScenario{Resources: 2, Policies: []int{0, 0}, SlowClean: time.Second, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mOnline, R: 0},
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mReport, R: 0}, // failure 1: restart once the clean-up ends, at +1 s
		{Kind: mAdvance, D: 2 * time.Second},
		{Kind: mReport, R: 0}, // failure 2: restart at +3 s
		{Kind: mAdvance, D: 2 * time.Second},
		{Kind: mReport, R: 0},                    // failure 3: the policy is spent; a request follows the clean-up
		{Kind: mMaint, R: 0, N: 1, D: time.Hour}, // maintenance begins before it ends
		{Kind: mAdvance, D: 2 * time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R31, R72: Terminate cancels a pending restart, also one that waits for
// the resource's dependencies: b's restart found its dependency a down
// (terminated) and waited; the operator then terminated b, and when a came
// back b was brought back online all the same (found with
// -rapid.seed=9791582199040493767). Fixed in Monitor.Terminate.
func TestR72TerminateCancelsRestartWaitingForDependencies(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutPair, Deps: []mEdge{{1, 0}}, Policies: []int{0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mOnline, R: 1},
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mReport, R: 1},                  // b fails: restart due at +500 ms
		{Kind: mTerminate, R: 0, D: time.Hour}, // a goes down: b's restart will wait for it
		{Kind: mAdvance, D: time.Second},
		{Kind: mTerminate, R: 1, D: time.Hour}, // the operator cancels b's restart
		{Kind: mOnline, R: 0},                  // a comes back: b stays Failed
		{Kind: mAdvance, D: time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R37: OnlineGroup is safe for concurrent use. Within a level, a member
// whose start fails at once (here b: refused, its Offline still runs)
// writes onlineOrdered's record of failures from its goroutine while the
// level's loop still reads it for the next member's dependencies (c's):
// a data race (found under -race with -rapid.seed=12892996581617107461).
// Fixed in onlineOrdered. Run with -race; each round gives the race a
// chance.
func TestR37OnlineGroupRecordsFailuresSafely(t *testing.T) {
	sc := mScenario{Resources: 3, Layout: layoutAll, Deps: []mEdge{{1, 0}, {2, 0}}, Policies: []int{0, 0, 0}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mScript, R: 1, Op: resource.OpOffline, Do: doHangCancel},
		{Kind: mOnline, R: 1}, // a, then b
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mOffline, R: 1},                     // b stays OfflinePending
		{Kind: mOnlineGroup, R: 0, D: time.Second}, // level 1: b's Online is refused at once, c starts
		{Kind: mAdvance, D: 2 * time.Second},
	}}
	for range 20 {
		synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
	}
}

// The model, not the engine: SetGroupMaintenance(off) ends the members'
// maintenance in name order, each after the one before it has run its fresh
// check; the first member actually in maintenance (here b, a was not)
// leaves it at once. The model took a's place in the order for b's and held
// b in maintenance, so when a failed it expected b to be left alone, and
// b's take-down and return with a looked like a start nobody asked for
// (found by the long mode, RESDLL_LONG=1).
func TestR74GroupMaintenanceEndsFirstMemberInMaintenance(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutPair, Deps: []mEdge{{1, 0}}, Policies: []int{4, 0}, Deadlock: 2 * time.Minute, Steps: []mStep{
		{Kind: mScript, R: 1, Op: resource.OpIsAlive, Do: doHangCancel},
		{Kind: mScript, R: 0, Op: resource.OpLooksAlive, Do: doPanic}, // a fails at +5 s
		{Kind: mOnlineGroup, R: 1, D: 10 * time.Second},
		{Kind: mMaint, R: 1, N: 1, D: 10 * time.Second},
		{Kind: mAdvance, D: time.Second},
		{Kind: mGroupMaint, R: 0, N: 0, D: 10 * time.Second}, // b leaves maintenance; its fresh check hangs
		{Kind: mAdvance, D: time.Minute},                     // a fails: b is taken offline and comes back with a
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// The model, not the engine (R30): a new policy's CheckTimeout applies to
// the checks after it; one already running keeps the time-out it began
// with. b's LooksAlive hangs from +5 s under the default CheckTimeout
// (180 s); at +6 s SetPolicy gives b a CheckTimeout of 5 s. The model timed
// the hung check out under the new policy and wanted a latch by +41 s (found
// with -rapid.seed=12490195656105879167); the engine latches after the hung
// check's own 180 s, which the model now checks.
func TestR30RunningCheckKeepsItsTimeout(t *testing.T) {
	sc := mScenario{Resources: 2, Policies: []int{0, 4}, Deadlock: resource.Never, Steps: []mStep{
		{Kind: mScript, R: 1, Op: resource.OpLooksAlive, Do: doHangCancel},
		{Kind: mOnline, R: 1},
		{Kind: mAdvance, D: 6 * time.Second}, // the LooksAlive at +5 s hangs
		{Kind: mSetPolicy, R: 1, N: 0},       // CheckTimeout 5 s, no LooksAlive
		{Kind: mAdvance, D: time.Minute},
		{Kind: mAdvance, D: 5 * time.Minute}, // the hung check times out at +185 s and latches
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R70: an operator's Online of a resource whose Offline still waits for its
// dependent to go down replaces that Offline: when the dependent is gone,
// the resource is not taken down (found with
// -rapid.seed=17284203167642704204 under -race -count=20; the same schedule
// failed on the code before issue 10's fourth pass). b depends on a; b's
// Offline takes a second; a is in maintenance, so the model checks that
// nothing but the operator takes it down. Fixed in Online (supersedeLocked).
func TestR70LaterOnlineReplacesOfflineWaitingForDependents(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutAll, Deps: []mEdge{{1, 0}}, Policies: []int{0, 0}, SlowClean: time.Second, Deadlock: 2 * time.Minute, Steps: []mStep{
		{Kind: mScript, R: 1, Op: resource.OpOffline, Do: doTakeFail, D: time.Second},
		{Kind: mOnline, R: 1}, // a, then b
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mMaint, R: 0, N: 1, D: time.Hour},
		{Kind: mOffline, R: 0}, // waits for b
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mOnline, R: 0}, // the operator changes its mind
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mRemove, R: 1, D: time.Hour},
		{Kind: mAdvance, D: time.Hour},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R70, R73: the same with OnlineGroup of their group in place of Online.
func TestR70LaterOnlineGroupReplacesOfflineWaitingForDependents(t *testing.T) {
	sc := mScenario{Resources: 2, Layout: layoutAll, Deps: []mEdge{{1, 0}}, Policies: []int{0, 0}, SlowClean: time.Second, Deadlock: 2 * time.Minute, Steps: []mStep{
		{Kind: mScript, R: 1, Op: resource.OpOffline, Do: doTakeFail, D: time.Second},
		{Kind: mOnline, R: 1},
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mMaint, R: 0, N: 1, D: time.Hour},
		{Kind: mOffline, R: 0},
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mOnlineGroup, R: 0, D: time.Hour},
		{Kind: mRemove, R: 1, D: time.Hour},
		{Kind: mAdvance, D: time.Hour},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}

// R74: ending maintenance runs one fresh check; when maintenance begins
// again before that check returns, its failure latches nothing — the
// model expected a latch (found with -rapid.seed=14726938863934718503 in
// the long mode under -race; the seed fails on 100b3b7 too). Fixed in the
// model (checkMaintEnd), not the engine.
func TestR74MaintenanceBackOnBeforeTheEndingCheckReturns(t *testing.T) {
	sc := mScenario{Resources: 2, Policies: []int{0, 0}, Deadlock: 2 * time.Minute, Steps: []mStep{
		{Kind: mMaint, R: 0, N: 1, D: time.Hour},
		{Kind: mOnline, R: 0},
		{Kind: mAdvance, D: time.Nanosecond},
		{Kind: mScript, R: 0, Op: resource.OpIsAlive, Do: doNoTimeout},
		{Kind: mMaint, R: 0, N: 0, D: time.Hour}, // off: a fresh check, which hangs past CheckTimeout
		{Kind: mMaint, R: 0, N: 1, D: time.Hour}, // on again before it returns
		{Kind: mAdvance, D: 30 * time.Second},
	}}
	synctest.Test(t, func(t *testing.T) { runMScenario(t, sc) })
}
