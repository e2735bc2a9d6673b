// Package wrapper is the per-resource engine of the resource DLL contract
// (CONTRACT R3–R23, R58, R74): the role EXRES.DLL plays for the Windows
// Resource Monitor.
//
// A [Wrapper] runs each entry point of a resource.Resource in a goroutine of
// its own (a scheduled health check on the scheduler's worker, which no
// other check waits for): Online and Offline return at once with the pending state (R10)
// and complete as events; a pending timeout on the injected clock fails an
// operation that hangs, and its call is tracked as abandoned until it
// returns (R11, R14); a worker may report progress or declare that it waits
// without a time-out (R12, R13); a hung Offline escalates to the resource's
// Terminator (R16); Terminate, Probe and Close follow R7, R17 and R18. While
// Online the wrapper registers with a health-check scheduler (package
// healthcheck), caches the results (R22) and latches the first failure,
// from a check or from the resource's own report (R21, R23).
//
// The decisions are a pure core, a function (state, input) → (state,
// actions) with no goroutine and no clock; the Wrapper is a thin shell that
// turns timer fires and returning calls into inputs and carries out the
// actions. A wrapper at rest owns no goroutine.
//
// Each call's goroutine carries the pprof label "resdll.call" while it is in
// the resource, which is how [Wrapper.Abandoned] finds a hung call's stack
// (R35); the label shows in the CPU and goroutine profiles a user takes.
// Goroutines the resource starts inherit it; Abandoned reports only the
// call's own goroutine.
//
// A host of many resources passes each wrapper the same clock, logger,
// checker and gate (the wrappers then share one copy of them), and an
// [Observer] of its own record per resource rather than three functions:
// an idle wrapper then costs about 400 bytes and no timer.
//
// Panics in the goroutines the wrapper runs entry points in are recovered
// (R6); a panic in a goroutine the resource starts itself, a fatal runtime
// error or os.Exit ends the process, as in any Go program.
package wrapper
