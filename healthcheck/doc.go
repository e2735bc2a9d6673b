// Package healthcheck runs resources' health checks (CONTRACT R20–R25): the
// part of the engine that EXRES.DLL calls IsAliveMonitor and
// CheckIsAliveWrapper.
//
// A [Scheduler] checks any number of [Target]s: it runs IsAlive every
// IsAliveInterval and, for targets that have it, LooksAlive every
// LooksAliveInterval (R20), counts failed checks in a row and hands the
// target its failure when FailureThreshold is reached outside the
// StartupGrace (R21, R24). A tick that finds the previous check still running
// starts none and counts as one more failed check (R21).
//
// The scheduler owns no goroutine and one timer of the injected clock,
// however many targets it checks: their due ticks sit in a heap, and the
// timer is set for the earliest. A goroutine exists only while a check runs
// (the tick's; the target runs the check on it or starts its own). The
// target (package wrapper's Wrapper) runs the check itself, under its check
// timeout, caching the result, and hands the outcome back through the
// [Done] it was given; the scheduler decides only when. A [Timer]
// puts a target's one-shot deadlines (the wrapper's check time-outs and
// operation deadlines) on the same heap; a firing runs on a worker, as a
// tick does. A check's time-out is armed with [Scheduler.ArmHandlerFrom],
// from the clock reading the check's start was stamped with.
// [Scheduler.Later] hands the workers what may wait until the ticks and
// firings now due have started: the wrapper decides a timed-out operation
// in the firing and cancels and reports it through Later, so that when
// thousands share a deadline the decisions come first and the effects
// after (at most one effect after every 64 decisions).
package healthcheck
