// Package resourcetest helps test resources and the engines that drive them,
// the way net/http/httptest and testing/fstest serve their packages.
//
// [Fake] is a programmable resource: per entry point a script of
// behaviours (succeed, fail, hang until cancelled or released, panic, take a
// given time on the injected clock, report a failure through the notifier,
// report progress, wait without a time-out). [Recorder] is an event sink that
// keeps what it receives and waits for, and asserts on, the sequence of
// events.
//
// It imports only package resource and the clock, so any layer's tests can
// use it.
package resourcetest
