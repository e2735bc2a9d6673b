package monitor

import (
	"slices"
	"time"

	"github.com/resdll/resdll/resource"
)

// verdict is what one failure leads to under the restart policy.
type verdict uint8

const (
	stayFailed      verdict = iota // NoRestart, or nothing left to try
	restartLater                   // restart after RestartDelay (R31)
	requestFailover                // ask the cluster layer to move the group (R31)
	retryLater                     // stay Failed, try again after RetryPeriodOnFailure (R34)
)

var verdictNames = [...]string{"stay failed", "restart", "request failover", "retry later"}

func (v verdict) String() string { return verdictNames[v] }

// decide records a failure at now and says what follows (R31–R34).
// failures are the earlier failures of the resource and restarts the
// restarts the monitor began, each sorted (record keeps them so); it returns
// the failures without those older than RestartPeriod (R33), with now
// added, reusing the array of failures (the caller gives it up). A restart
// follows while both the failures and the restarts in the window stay
// within RestartThreshold: a restart that waited for a slow clean-up still
// counts in the window it happened in.
func decide(p resolved, failures, restarts []time.Time, now time.Time) ([]time.Time, verdict) {
	kept := record(prune(failures, now, p.RestartPeriod), now)
	switch {
	case p.RestartAction == NoRestart:
		return kept, stayFailed
	case len(kept) <= p.RestartThreshold && inWindow(restarts, now, p.RestartPeriod) < p.RestartThreshold:
		return kept, restartLater
	case p.RestartAction == RestartAndFailover:
		return kept, requestFailover
	case p.RetryPeriodOnFailure == resource.Never:
		return kept, stayFailed
	}
	return kept, retryLater
}

// The failures and restarts of a resource are kept sorted by time, so those
// that left the window (R33) are a prefix: a failure costs the few that
// expire, not a walk over or a copy of the window, however many it holds
// (issue 10: a high RestartThreshold).

// expired returns how many of ts, sorted, are not less than period before
// now.
func expired(ts []time.Time, now time.Time, period time.Duration) int {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= period {
		i++
	}
	return i
}

// prune drops the times of ts, sorted, that are not less than period before
// now. It reslices past them, so a long window is not copied, and the next
// append that runs out of room moves only the times still in it; when no
// more stay than went, it moves them to the front instead, so that a short
// window (the usual one) keeps its array and a failure allocates nothing.
func prune(ts []time.Time, now time.Time, period time.Duration) []time.Time {
	i := expired(ts, now, period)
	if i > 0 && len(ts)-i <= i {
		n := copy(ts, ts[i:])
		clear(ts[n:])
		return ts[:n]
	}
	return ts[i:]
}

// inWindow counts the times of ts, sorted, less than period before now.
func inWindow(ts []time.Time, now time.Time, period time.Duration) int {
	return len(ts) - expired(ts, now, period)
}

// record adds now to ts, keeping it sorted: at the end, unless a clock set
// back makes now earlier than the last.
func record(ts []time.Time, now time.Time) []time.Time {
	i := len(ts)
	for i > 0 && now.Before(ts[i-1]) {
		i--
	}
	return slices.Insert(ts, i, now)
}
