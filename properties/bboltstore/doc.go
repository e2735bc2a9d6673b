// Package bboltstore is the embedded, default property store (CONTRACT
// R53, R56, R57): a [properties.Store] in one file, on go.etcd.io/bbolt,
// with no server.
//
// # Layout
//
// The file holds two top-level buckets:
//
//	resdll      key "format" = "resdll-properties 1"
//	resources   one bucket per resource name
//	              one bucket per namespace ("Parameters", "Common", "Parameters.Sync", …)
//	                key: property name, value: a record of properties.MarshalValue
//
// Each record carries its kind and a CRC-32C, so a damaged value is found
// when it is read, never read as a different value.
//
// # Crashes and damage
//
// Every [properties.Store.Update] is one bbolt transaction: bbolt writes
// the new pages, syncs them, then writes and syncs the meta page that
// points at them, so a process killed at any point leaves either the old or
// the new values (R56). The tests kill a writer with SIGKILL at many points
// and check this; SIGKILL does not lose the operating system's page cache,
// so they do not show what a power cut does, which rests on bbolt's fsync.
//
// [Open] checks a file before trusting it: it reads the file's structure
// with ordinary bounds-checked code before bbolt maps it (bbolt reads its
// pages through unsafe pointers, so a damaged file could make it panic or
// fault, or recurse or allocate without bound), then reads every record
// and runs bbolt's own consistency check (tx.Check). A damaged file is
// reported with an error wrapping [properties.ErrCorrupt] that names the
// file and the problem; the file is never changed, replaced or recreated.
// A panic or memory fault inside bbolt at any later time is recovered too
// (runtime/debug.SetPanicOnFault): the call returns an error wrapping
// ErrCorrupt and the Store refuses further work until it is reopened.
//
// A new file is initialised under a temporary name and linked into place,
// so a crash while creating it leaves no half-made store; it is created
// with mode 0600. An existing file that is empty is damaged, not new.
//
// Only one process may have a store open: a second Open fails at once with
// [ErrLocked] (on Linux, the BSDs and macOS; elsewhere bbolt's own lock
// waits up to a second).
package bboltstore
