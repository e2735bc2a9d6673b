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

// decide records a failure at now and says what follows (R31–R34). It is
// pure: failures are the earlier failures of the resource and restarts the
// restarts the monitor began; it returns the failures without those older
// than RestartPeriod (R33), with now added. A restart follows while both
// the failures and the restarts in the window stay within RestartThreshold:
// a restart that waited for a slow clean-up still counts in the window it
// happened in.
func decide(p resolved, failures, restarts []time.Time, now time.Time) ([]time.Time, verdict) {
	kept := window(failures, now, p.RestartPeriod)
	kept = append(kept, now)
	switch {
	case p.RestartAction == NoRestart:
		return kept, stayFailed
	case len(kept) <= p.RestartThreshold && len(window(restarts, now, p.RestartPeriod)) < p.RestartThreshold:
		return kept, restartLater
	case p.RestartAction == RestartAndFailover:
		return kept, requestFailover
	case p.RetryPeriodOnFailure == resource.Never:
		return kept, stayFailed
	}
	return kept, retryLater
}

// window returns the failures less than period before now (R33), in a new
// slice.
func window(failures []time.Time, now time.Time, period time.Duration) []time.Time {
	var kept []time.Time
	for _, t := range failures {
		if now.Sub(t) < period {
			kept = append(kept, t)
		}
	}
	return kept
}
