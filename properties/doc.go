// Package properties is the property path of the contract (CONTRACT
// R50–R59): the schema of a resource type's private properties, typed
// values and their JSON, validation, the control-code handlers, the store
// (the cluster database), and the sync hook to the application's own
// configuration with drift detection.
//
// It is the leaf of the module: it imports nothing of resdll, so a resource
// type, the wrapper, the monitor and the hosts (OCF, WSFC) can all share one
// vocabulary for properties.
//
// # Schema and values (R50, R59)
//
// A [Schema] lists the [Property] declarations of a type. [Values] holds
// property values by name, each of one of the eight [Kind]s, with typed
// accessors that report a missing name or a wrong kind as an error and never
// panic. Values marshal to a typed JSON form that keeps every kind exact;
// [Schema.DecodeJSON] and [Schema.EncodeJSON] read and write the plain form
// an administrator uses. Names, values and input are bounded
// ([MaxNameLength], [MaxResourceNameLength], [MaxValueSize],
// [MaxInputSize]).
//
// # Validation (R52)
//
// [Schema.ValidateUpdate], [Schema.ValidateValues] and [Manager.Validate]
// report every problem at once, joined with errors.Join, each a
// *[PropertyError] wrapping [ErrInvalid] that names the property, says what
// was wrong and what is allowed.
//
// # The set, the store and the sync hook (R51, R53–R58)
//
// A [Manager] binds a schema, a [Store] and a namespace ([Parameters] for
// private properties, [Common] for the monitor's policy). [Manager.Set]
// validates, writes every value in one store transaction, pushes the
// effective values through the [SyncHook] (EXSETDATA's role), then tells
// the resource through an [ApplyFunc] and answers [Applied] or
// [StoredForNextOnline]. A failed hook leaves the values stored and the
// resource marked out of sync; [Manager.Reconcile] retries, and, with a
// [SyncReader], [Manager.Drift] lists what an administrator changed in the
// application directly and Reconcile can adopt it. HandleGet,
// HandleGetReadOnly, HandleValidate and HandleSet are the control-code
// handlers the monitor routes to, JSON in and out.
//
// [NewMemStore] is a Store in memory; package bboltstore is the embedded
// default on disk; package storetest checks any Store implementation.
package properties
