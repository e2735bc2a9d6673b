// Package monitor is the Resource Monitor (CONTRACT R30–R39): it hosts many
// wrapped resources by name, opened from registered types, and keeps them
// available.
//
// It never polls (R30): each resource's wrapper pushes its events to the
// monitor. On a failure the monitor terminates the resource's work and
// restarts it under its [Policy] — RestartAction, RestartThreshold within a
// sliding RestartPeriod, RestartDelay — and when the policy is spent asks
// the cluster layer to fail its group over, which the cluster layer accepts
// or declines; a declined request, or a resource left Failed without
// failover, is retried after RetryPeriodOnFailure (R31–R34). Calls abandoned
// for longer than DeadlockTimeout are reported with their stack and
// quarantine the resource (R35). Status snapshots and event subscriptions
// with bounded queues serve the cluster layer (R36); every method is safe
// for concurrent use (R37); Shutdown takes everything down (R38);
// MaxConcurrentOps and RestartJitter spread the load of many resources
// (R39).
//
// Resources may depend on others of their group (R70–R74): Online brings
// dependencies online first, Offline takes dependents offline first, a
// failed dependency takes its dependents down and brings them back, groups
// come online, go offline and fail over as single calls, and maintenance
// records failures without acting on them.
//
// Each resource's private properties and its common properties (the
// [Policy]) live in a properties.Store under its name (R50–R59); the
// control codes of [Monitor.Control] read, validate and set them.
//
// Health checks of all resources share one [healthcheck.Scheduler]: an idle
// Online resource costs timers, no goroutine.
package monitor
