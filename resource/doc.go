// Package resource is the resource DLL contract in Go: the vocabulary every
// other package of resdll shares.
//
// It holds the states and the transition table (R1, R2) as data, with
// [Next] as the only way to move; the [Event] every state change becomes
// (R4); the sentinel errors of the engine, among them [ErrPanic] (R6) and
// [ErrNotRunning] (R7), which wrappers keep reachable with [errors.Is]
// (R19); the [Resource] interface a resource author implements, with its
// optional interfaces ([LooksAliver], [Terminator], [FailureNotifier],
// [Controller], [PropertyOwner], [io.Closer]); the worker-context helpers
// [Progress] (R13) and [WaitWithoutTimeout] (R12); and [Type], the named
// factory with reference-counted shared state (R40–R42).
//
// The package runs nothing: the engine that drives a Resource is package
// wrapper, and the host of many is package monitor.
package resource
