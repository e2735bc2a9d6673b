package monitor

import (
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
// restarts the monitor began; it returns the failures without those older
// than RestartPeriod (R33), with now added, reusing the array of failures
// (the caller gives it up). A restart follows while both the failures and
// the restarts in the window stay within RestartThreshold: a restart that
// waited for a slow clean-up still counts in the window it happened in.
func decide(p resolved, failures, restarts []time.Time, now time.Time) ([]time.Time, verdict) {
	kept := prune(failures, now, p.RestartPeriod)
	kept = append(kept, now)
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

// prune drops the times not less than period before now (R33), keeping the
// order, in place: it returns ts[:k] and clears the rest of ts. A failure
// allocates nothing once the array has room (issue 10).
func prune(ts []time.Time, now time.Time, period time.Duration) []time.Time {
	kept := ts[:0]
	for _, t := range ts {
		if now.Sub(t) < period {
			kept = append(kept, t)
		}
	}
	clear(ts[len(kept):])
	return kept
}

// inWindow counts the times less than period before now (R33).
func inWindow(ts []time.Time, now time.Time, period time.Duration) int {
	n := 0
	for _, t := range ts {
		if now.Sub(t) < period {
			n++
		}
	}
	return n
}
