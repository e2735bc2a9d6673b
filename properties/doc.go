// Package properties declares the private properties of a resource type
// (CONTRACT R50–R59): their kinds, their schema, typed values, and the errors
// the property path answers with.
//
// It is the leaf of the module: it imports nothing of resdll, so a resource
// type, the wrapper, the monitor and the hosts (OCF, WSFC) can all share one
// vocabulary for properties.
//
// A [Schema] lists the [Property] declarations of a type (R50). [Values] holds
// property values by name, each of one of the eight [Kind]s, with typed
// accessors that report a missing name or a wrong kind as an error and never
// panic.
package properties
