package ocf

import (
	"fmt"
	"math"
	"time"
)

// MinMargin is the least time the agent keeps back from Pacemaker's
// time-out when Options.Margin is zero (unless the time-out is under two
// margins: then half of it).
const MinMargin = time.Second

// minSlice is the shortest stretch of time a budget hands out: a zero
// duration would mean "the default" to the wrapper's policy.
const minSlice = time.Millisecond

// budget is how one action spends the time Pacemaker gives it. Pacemaker's
// executor sends SIGKILL to the agent's process group when the action's
// time-out passes, with no SIGTERM first, so the agent must be done, and
// have said why, before then:
//
//	0 ─── op ───┬── cleanup ──┬── margin ──┤ total: Pacemaker's SIGKILL
//	            │             │
//	 the operation gives up   the agent exits (the wrapper's Close may run
//	 (R11; a stop escalates   into the first half of the margin)
//	 to Terminate, R16)
//
// Online, Offline and Probe run under op; after a time-out the Terminator
// (R16), or the clean-up of a failed start, has cleanup.
type budget struct {
	total   time.Duration // Pacemaker's time-out for the action, or the hint
	margin  time.Duration // kept back for the exit
	op      time.Duration // the operation's pending timeout
	cleanup time.Duration // the Terminator's time, after op
}

// newBudget splits total. margin zero means a tenth of total, at least
// MinMargin; any margin is at most half of total. cleanup is a quarter of
// what the margin leaves, at most terminate (the policy's TerminateTimeout).
func newBudget(total, margin, terminate time.Duration) budget {
	if margin == 0 {
		margin = max(total/10, MinMargin)
	}
	margin = min(margin, total/2)
	work := total - margin
	cleanup := min(work/4, terminate)
	b := budget{total: total, margin: margin, op: work - cleanup, cleanup: cleanup}
	b.op = max(b.op, minSlice)
	b.cleanup = max(b.cleanup, minSlice)
	return b
}

// timeoutFor is the inverse of newBudget: the shortest time-out, in whole
// seconds, whose budget gives the operation at least op, with the same
// margin and terminate. It is op plus the clean-up share plus the margin,
// rounded up to a second, and is what meta-data suggests to Pacemaker, so
// that a time-out set from the hint gives the operation its full time (R11).
// A budget's op grows with its time-out, so the shortest is found by
// bisection; an op no time-out can give yields the longest whole-second
// time-out.
func timeoutFor(op, margin, terminate time.Duration) time.Duration {
	enough := func(seconds int64) bool {
		return newBudget(time.Duration(seconds)*time.Second, margin, terminate).op >= op
	}
	// The answer is in (lo, hi]: at least a second.
	lo, hi := int64(0), int64(math.MaxInt64/time.Second)
	if !enough(hi) {
		return time.Duration(hi) * time.Second
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if enough(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return time.Duration(hi) * time.Second
}

// work is the time by which the action has finished: op and cleanup.
func (b budget) work() time.Duration { return b.op + b.cleanup }

// closing is the time by which the wrapper's Close must have finished: half
// of the margin after work.
func (b budget) closing() time.Duration { return b.work() + b.margin/2 }

// String describes the budget for an exit reason.
func (b budget) String() string {
	return fmt.Sprintf("%v of its %v time-out (%v kept for clean-up and exit)", b.op, b.total, b.total-b.op)
}

// pacemakerDuration writes d as Pacemaker reads an interval or time-out:
// whole seconds ("20s") when it is a whole number of them, else
// milliseconds, rounded up ("1500ms").
func pacemakerDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return fmt.Sprintf("%dms", ms)
}
