package monitor

import (
	"fmt"
	"time"

	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// RestartAction says what the monitor does when a resource fails (R32).
type RestartAction uint8

// The restart actions. The zero value is RestartAndFailover, the default.
const (
	// RestartAndFailover restarts the resource up to RestartThreshold
	// times within RestartPeriod, then asks for its group to fail over.
	RestartAndFailover RestartAction = iota
	// RestartNoFailover restarts it, but when the threshold is spent leaves
	// it Failed without asking for failover (retried after
	// RetryPeriodOnFailure, R34).
	RestartNoFailover
	// NoRestart leaves a failed resource Failed.
	NoRestart
)

var actionNames = [...]string{"RestartAndFailover", "RestartNoFailover", "NoRestart"}

// String returns the action's name.
func (a RestartAction) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("RestartAction(%d)", uint8(a))
}

// Defaults of [Policy] (R31, R34).
const (
	DefaultRestartThreshold     = 2 // the seed's "two additional times"; Windows documents 3
	DefaultRestartPeriod        = 900 * time.Second
	DefaultRestartDelay         = 500 * time.Millisecond
	DefaultRetryPeriodOnFailure = time.Hour
	DefaultDeadlockTimeout      = 300 * time.Second
)

// Policy is one resource's common properties: the wrapper's time-outs and
// check settings (R11–R24) and the restart policy (R31–R34). The zero value
// of each field means its default; resource.Never and resource.NoDelay where
// a field says so. Other negative values, and a negative threshold, are
// refused with an error naming the field.
type Policy struct {
	wrapper.Policy

	// RestartAction: what a failure leads to (R32). Default
	// RestartAndFailover.
	RestartAction RestartAction
	// RestartThreshold is how many restarts are tried within RestartPeriod
	// before the resource is left Failed (R31). Default 2.
	RestartThreshold int
	// RestartPeriod is the sliding window failures are counted in (R31,
	// R33). Default 900 s.
	RestartPeriod time.Duration
	// RestartDelay is the wait before a restart (R31). Default 500 ms;
	// resource.NoDelay restarts at once.
	RestartDelay time.Duration
	// RetryPeriodOnFailure: a resource left Failed without failover, or
	// whose failover was declined, is tried again after it with a fresh
	// window (R34). Default 1 h; resource.Never for no retry.
	RetryPeriodOnFailure time.Duration
}

// resolved is a Policy with its defaults filled in.
type resolved struct {
	Policy
}

// shown returns the policy with its defaults filled in as a Policy states
// it: a RestartDelay resolved to no delay is resource.NoDelay, since zero
// would mean the default.
func (r resolved) shown() Policy {
	p := r.Policy
	if p.RestartDelay == 0 {
		p.RestartDelay = resource.NoDelay
	}
	return p
}

func (p Policy) resolve() (resolved, error) {
	r := resolved{Policy: p}
	var err error
	if r.Policy.Policy, err = p.Policy.Resolve(); err != nil {
		return r, err
	}
	if p.RestartAction > NoRestart {
		return r, fmt.Errorf("RestartAction is %v: allowed is RestartAndFailover, RestartNoFailover or NoRestart: %w", p.RestartAction, resource.ErrInvalidOption)
	}
	switch {
	case p.RestartThreshold == 0:
		r.RestartThreshold = DefaultRestartThreshold
	case p.RestartThreshold < 0:
		return r, fmt.Errorf("RestartThreshold is %d: allowed is 1 or more, or 0 for the default %d: %w", p.RestartThreshold, DefaultRestartThreshold, resource.ErrInvalidOption)
	}
	if r.RestartPeriod, err = resource.DurationOption("RestartPeriod", p.RestartPeriod, DefaultRestartPeriod, false, false); err != nil {
		return r, err
	}
	if r.RestartDelay, err = resource.DurationOption("RestartDelay", p.RestartDelay, DefaultRestartDelay, false, true); err != nil {
		return r, err
	}
	if r.RetryPeriodOnFailure, err = resource.DurationOption("RetryPeriodOnFailure", p.RetryPeriodOnFailure, DefaultRetryPeriodOnFailure, true, false); err != nil {
		return r, err
	}
	return r, nil
}
